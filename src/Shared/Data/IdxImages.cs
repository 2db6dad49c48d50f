namespace DeepGen.Distributed.Data;

/// <summary>Images read from or written to an IDX file of unsigned bytes with three dimensions.</summary>
/// <param name="Count">Number of images.</param>
/// <param name="Rows">Image height in pixels.</param>
/// <param name="Columns">Image width in pixels.</param>
/// <param name="Pixels">
/// <paramref name="Count"/> × <paramref name="Rows"/> × <paramref name="Columns"/> bytes, image after image,
/// each image row-major.
/// </param>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);
