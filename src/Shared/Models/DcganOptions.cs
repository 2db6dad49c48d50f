namespace DeepGen.Distributed.Models;

/// <summary>Sizes of a <see cref="DcganGenerator"/> and <see cref="DcganDiscriminator"/> pair.</summary>
/// <param name="LatentSize">Dimension of the generator's input noise z.</param>
/// <param name="ImageSize">Height and width of the square single-channel images, in pixels. Only 28 is supported,
/// because the layer stack upsamples a fixed 7×7 map twice by a factor of 2.</param>
public sealed record DcganOptions(int LatentSize = 64, int ImageSize = 28)
{
    /// <summary>Image height and width that the fixed layer stack produces and accepts.</summary>
    public const int SupportedImageSize = 28;

    /// <summary>Checks that the latent size is at least 1 and the image size is <see cref="SupportedImageSize"/>.</summary>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public void Validate()
    {
        if (LatentSize < 1)
        {
            throw new ArgumentException(
                $"{nameof(LatentSize)} is {LatentSize}, but the generator needs at least 1 latent dimension. " +
                $"Set {nameof(LatentSize)} to 1 or more.",
                nameof(LatentSize));
        }

        if (ImageSize != SupportedImageSize)
        {
            throw new ArgumentException(
                $"{nameof(ImageSize)} is {ImageSize}, but this DCGAN architecture only supports {SupportedImageSize}×{SupportedImageSize} " +
                $"images: the generator upsamples a 7×7 map twice by a factor of 2. Set {nameof(ImageSize)} to {SupportedImageSize} " +
                "or resize the images.",
                nameof(ImageSize));
        }
    }
}
