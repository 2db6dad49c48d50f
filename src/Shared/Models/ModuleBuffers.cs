using static TorchSharp.torch;

namespace DeepGen.Distributed.Models;

/// <summary>Helpers for a module's buffers, the state that is saved with the module but is not trained by gradients.</summary>
public static class ModuleBuffers
{
    /// <summary>Returns the floating-point buffers of <paramref name="module"/> and its submodules, in registration
    /// order, skipping integer buffers.</summary>
    /// <remarks>For BatchNorm layers this returns <c>running_mean</c> and <c>running_var</c> of each layer and
    /// skips the int64 <c>num_batches_tracked</c> counter, which cannot be averaged. The tensors are the module's
    /// own buffers, not copies, so an in-place update changes the module.</remarks>
    public static IReadOnlyList<Tensor> FloatBuffers(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);

        return module.buffers().Where(buffer => buffer.is_floating_point()).ToList();
    }
}
