namespace DeepGen.Distributed.Data;

/// <summary>Part of an MNIST-style dataset: the training files (train-*) or the test files (t10k-*).</summary>
public enum DatasetSplit
{
    /// <summary>The training split, files named train-images-idx3-ubyte and train-labels-idx1-ubyte.</summary>
    Train,

    /// <summary>The test split, files named t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte.</summary>
    Test,
}
