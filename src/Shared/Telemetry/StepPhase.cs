namespace DeepGen.Distributed.Telemetry;

/// <summary>The phases of one training step, in the order a replica runs them.</summary>
public enum StepPhase
{
    /// <summary>Copying the batch's images into the input tensor.</summary>
    Data,

    /// <summary>Forward pass, loss and backward pass, including gathering the gradients into the bucket.</summary>
    ForwardBackward,

    /// <summary>The ring all-reduce of the gradient bucket.</summary>
    AllReduce,

    /// <summary>The optimizer update.</summary>
    Optimizer,
}
