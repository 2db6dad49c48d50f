using System.Numerics;
using System.Runtime.InteropServices;

namespace DeepGen.Distributed.Training;

/// <summary>
/// An optimizer that updates a model's parameters as one flat fp32 vector, from the flat gradient
/// that the all-reduce produced, in one SIMD pass. It saves the copy of the averaged gradients
/// back into libtorch and the several passes of a per-tensor optimizer. All arithmetic is
/// element-wise and fp32, so every rank that applies the same gradients gets the same bits.
/// </summary>
public abstract class FlatOptimizer
{
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> _parameters;

    protected FlatOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        _parameters = parameters.ToList();
        Parameters = new float[_parameters.Sum(p => checked((int)p.numel()))];
        ReloadParameters();
    }

    /// <summary>Current parameter values, in the order of the parameters given to the constructor.</summary>
    public float[] Parameters { get; }

    /// <summary>Number of steps taken.</summary>
    public long Steps { get; private set; }

    /// <summary>Factor on the base learning rate for the next step, set by a schedule; 1 by default.</summary>
    public double LearningRateScale { get; set; } = 1.0;

    /// <summary>
    /// Applies one update with <paramref name="gradients"/> (at least as long as
    /// <see cref="Parameters"/>; extra trailing values are ignored) and writes the new values into
    /// the model's parameter tensors.
    /// </summary>
    public void Step(ReadOnlySpan<float> gradients)
    {
        if (gradients.Length < Parameters.Length)
        {
            throw new ArgumentException($"{gradients.Length} gradients for {Parameters.Length} parameters.", nameof(gradients));
        }

        Steps++;
        Update(Parameters, gradients[..Parameters.Length], Steps);

        var offset = 0;
        foreach (var parameter in _parameters)
        {
            var length = (int)parameter.numel();
            MemoryMarshal.AsBytes(Parameters.AsSpan(offset, length)).CopyTo(parameter.bytes);
            offset += length;
        }
    }

    /// <summary>Bytes of <see cref="SaveState"/>'s result.</summary>
    public int StateLength => sizeof(long) + (StateArrays.Sum(a => a.Length) * sizeof(float));

    /// <summary>
    /// Per-parameter state arrays besides the parameters (Adam's moments), in a fixed order.
    /// </summary>
    protected virtual IReadOnlyList<float[]> StateArrays => [];

    /// <summary>
    /// Returns the optimizer's state: the step count (int64, little-endian) followed by its state
    /// arrays as fp32. The parameters are not included; they travel as model weights.
    /// </summary>
    public byte[] SaveState()
    {
        var state = new byte[StateLength];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(state, Steps);
        var offset = sizeof(long);
        foreach (var array in StateArrays)
        {
            MemoryMarshal.AsBytes(array.AsSpan()).CopyTo(state.AsSpan(offset));
            offset += array.Length * sizeof(float);
        }

        return state;
    }

    /// <summary>
    /// Restores a state from <see cref="SaveState"/> and reloads <see cref="Parameters"/> from the
    /// model's tensors, which the caller has already set to the matching weights.
    /// </summary>
    /// <exception cref="ArgumentException">The state's length does not match this optimizer's parameters.</exception>
    public void LoadState(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateLength)
        {
            throw new ArgumentException($"Optimizer state of {state.Length} bytes does not fit an optimizer of {Parameters.Length} parameters, which needs {StateLength} bytes.", nameof(state));
        }

        Steps = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(state);
        var offset = sizeof(long);
        foreach (var array in StateArrays)
        {
            state.Slice(offset, array.Length * sizeof(float)).CopyTo(MemoryMarshal.AsBytes(array.AsSpan()));
            offset += array.Length * sizeof(float);
        }

        ReloadParameters();
    }

    /// <summary>
    /// Follows new weights that the caller loaded into the model: restores <paramref name="state"/>
    /// with <see cref="LoadState"/>, or, when it is empty, keeps the optimizer state and only reloads
    /// <see cref="Parameters"/>.
    /// </summary>
    public void Restore(ReadOnlySpan<byte> state)
    {
        if (state.IsEmpty)
        {
            ReloadParameters();
        }
        else
        {
            LoadState(state);
        }
    }

    /// <summary>Copies the model's current parameter tensors into <see cref="Parameters"/>, after the weights were replaced.</summary>
    public void ReloadParameters()
    {
        var offset = 0;
        foreach (var parameter in _parameters)
        {
            var length = (int)parameter.numel();
            parameter.bytes.CopyTo(MemoryMarshal.AsBytes(Parameters.AsSpan(offset, length)));
            offset += length;
        }
    }

    /// <summary>Updates <paramref name="parameters"/> in place for step number <paramref name="stepNumber"/> (from 1).</summary>
    protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long stepNumber);
}

/// <summary>
/// Learning-rate schedules, as a factor on the base rate for step t of T (from 1).
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>Accepted values of <c>--lr-schedule</c>.</summary>
    public static readonly IReadOnlyList<string> Names = ["constant", "cosine"];

    /// <summary>Returns 1 for <c>constant</c>, and ½(1 + cos(π(t − 1)/T)) for <c>cosine</c>, which decays from 1 towards 0.</summary>
    public static double Scale(string schedule, long step, long totalSteps) => schedule switch
    {
        "cosine" when totalSteps > 0 => 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(step - 1, 0, totalSteps) / totalSteps)),
        _ => 1.0,
    };
}

/// <summary>Plain gradient descent: θ ← θ − α∇J.</summary>
public sealed class FlatSgd(IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate) : FlatOptimizer(parameters)
{
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long stepNumber)
    {
        var rate = (float)(learningRate * LearningRateScale);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            var rateVector = new Vector<float>(rate);
            for (; i <= parameters.Length - width; i += width)
            {
                (new Vector<float>(parameters[i..]) - rateVector * new Vector<float>(gradients[i..])).CopyTo(parameters[i..]);
            }
        }

        for (; i < parameters.Length; i++)
        {
            parameters[i] -= rate * gradients[i];
        }
    }
}

/// <summary>
/// Adam with PyTorch's update rule: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², then
/// θ ← θ − (α / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).
/// </summary>
public sealed class FlatAdam : FlatOptimizer
{
    private readonly float[] _firstMoment;
    private readonly float[] _secondMoment;
    private readonly double _learningRate;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly float _epsilon;

    public FlatAdam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(parameters)
    {
        _firstMoment = new float[Parameters.Length];
        _secondMoment = new float[Parameters.Length];
        _learningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = (float)epsilon;
    }

    /// <inheritdoc />
    protected override IReadOnlyList<float[]> StateArrays => [_firstMoment, _secondMoment];

    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long stepNumber)
    {
        var b1 = (float)_beta1;
        var b2 = (float)_beta2;
        var stepSize = (float)(_learningRate * LearningRateScale / (1 - Math.Pow(_beta1, stepNumber)));
        var correction2 = (float)Math.Sqrt(1 - Math.Pow(_beta2, stepNumber));
        var m = _firstMoment.AsSpan();
        var v = _secondMoment.AsSpan();
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            var b1v = new Vector<float>(b1);
            var b2v = new Vector<float>(b2);
            var oneMinusB1 = new Vector<float>(1 - b1);
            var oneMinusB2 = new Vector<float>(1 - b2);
            var stepVector = new Vector<float>(stepSize);
            var correctionVector = new Vector<float>(correction2);
            var epsilonVector = new Vector<float>(_epsilon);
            for (; i <= parameters.Length - width; i += width)
            {
                var g = new Vector<float>(gradients[i..]);
                var mi = b1v * new Vector<float>(m[i..]) + oneMinusB1 * g;
                var vi = b2v * new Vector<float>(v[i..]) + oneMinusB2 * g * g;
                var denominator = Vector.SquareRoot(vi) / correctionVector + epsilonVector;
                (new Vector<float>(parameters[i..]) - stepVector * mi / denominator).CopyTo(parameters[i..]);
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
            }
        }

        for (; i < parameters.Length; i++)
        {
            var g = gradients[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            var denominator = MathF.Sqrt(v[i]) / correction2 + _epsilon;
            parameters[i] -= stepSize * m[i] / denominator;
        }
    }
}
