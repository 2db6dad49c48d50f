using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Explain;
using DeepGen.Distributed.Imaging;
using DeepGen.Distributed.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepGen.Distributed.Coordinator.Explain;

/// <summary>One explained image of a report.</summary>
/// <param name="Image">PNG of the image, relative to the report folder.</param>
/// <param name="Overlay">PNG of the map blended over the image, relative to the report folder.</param>
/// <param name="Source"><c>test</c> (a held-out image with its label), <c>input</c> (an unlabelled image given by the user) or <c>generated</c>.</param>
/// <param name="Label">True class for test images, −1 for the others.</param>
/// <param name="Decision">What the map explains: a class name, or <c>real</c> / <c>generated</c> for a discriminator.</param>
/// <param name="Score">Softmax probability of the predicted class, or the discriminator's probability of "real".</param>
public sealed record CamEntry(string Image, string Overlay, string Source, int Label, string Decision, double Score);

/// <summary>The JSON index of one report.</summary>
/// <param name="Method"><c>CAM</c> for the classifier, <c>Grad-CAM</c> for the discriminator.</param>
public sealed record CamReportIndex(string Title, int Epoch, long Step, string Method, IReadOnlyList<CamEntry> Entries, IReadOnlyList<Faithfulness.FaithfulnessResult> Faithfulness);

/// <summary>
/// Writes a class-activation-map report for a probe set: PNG overlays (a jet colour map blended
/// over the grayscale image, scaled ×4, with the class or decision and the score drawn below),
/// an HTML page and a JSON index. The classifier is explained
/// with CAM for its predicted class; the DCGAN discriminator with Grad-CAM for its decision,
/// "real" or "generated". Runs on the calling thread, on the caller's copy of the networks.
/// </summary>
public static class CamReport
{
    /// <summary>Fashion-MNIST class names, by label.</summary>
    public static readonly IReadOnlyList<string> FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Shares of replaced pixels of the faithfulness measurement, in percent.</summary>
    public static readonly IReadOnlyList<double> FaithfulnessPercents = [10, 20, 50];

    private const int Scale = 4;

    private static readonly JsonSerializerOptions IndexJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Picks the first <paramref name="perClass"/> images of each class, in dataset order.</summary>
    public static int[] ProbeIndices(ImageDataset data, int perClass)
    {
        var perClassCount = new int[10];
        var indices = new List<int>();
        for (var i = 0; i < data.Count && indices.Count < 10 * perClass; i++)
        {
            var label = data.Labels[i];
            if (label < 10 && perClassCount[label] < perClass)
            {
                perClassCount[label]++;
                indices.Add(i);
            }
        }

        return [.. indices];
    }

    /// <summary>Explains the classifier's predictions on <paramref name="probe"/> images and returns the path of the HTML page.</summary>
    /// <param name="fillValue">Dataset mean pixel value, in [0, 1], that replaces pixels in the faithfulness measurement.</param>
    public static string WriteForClassifier(ClassifierCnn model, ImageDataset data, int[] probe, string folder, string title, int epoch, long step, float fillValue)
    {
        model.eval();
        using var scope = torch.NewDisposeScope();
        var images = Load(data, probe);
        Tensor probabilities;
        Tensor predicted;
        using (torch.no_grad())
        {
            probabilities = torch.softmax(model.call(images), 1);
            predicted = probabilities.argmax(1);
        }

        var maps = torch.zeros(probe.Length, ClassifierCnn.FeatureSize, ClassifierCnn.FeatureSize);
        using (torch.no_grad())
        {
            var features = model.Features(images);
            for (var i = 0; i < probe.Length; i++)
            {
                maps[i] = ClassActivationMap.Compute(features[i..(i + 1)], model.ClassifierWeight, predicted[i].item<long>())[0];
            }
        }

        var predictedClasses = predicted.data<long>().ToArray();
        var scores = probabilities.gather(1, predicted.unsqueeze(1)).squeeze(1).data<float>().ToArray();
        var entries = WriteImages(images, maps, folder, i => (LabelOf(data, probe[i]) < 0 ? "input" : "test", LabelOf(data, probe[i]), FashionMnistClasses[(int)predictedClasses[i]], scores[i]));
        var predictedTensor = predicted.clone();
        var faithfulness = Faithfulness.Measure(
            masked => torch.softmax(model.call(masked), 1).gather(1, predictedTensor.unsqueeze(1)).squeeze(1),
            images, maps, fillValue, FaithfulnessPercents, seed: 17);
        return WriteIndexAndPage(folder, new CamReportIndex(title, epoch, step, "CAM", entries, faithfulness));
    }

    /// <summary>
    /// Explains the DCGAN discriminator's decisions on held-out real images and on images from the
    /// generator, and returns the path of the HTML page.
    /// </summary>
    public static string WriteForDiscriminator(GanNetworks networks, ImageDataset data, int[] probe, int generatedCount, int seed, string folder, string title, int epoch, long step)
    {
        var discriminator = networks.Discriminator as DcganDiscriminator
            ?? throw new ArgumentException("Grad-CAM needs the DCGAN discriminator; the mlp architecture has no convolution to explain.", nameof(networks));
        networks.eval();
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        Tensor images;
        using (torch.no_grad())
        {
            var real = (Load(data, probe) * 2) - 1;
            var fake = networks.Generator.call(torch.randn([generatedCount, networks.Options.LatentSize], generator: generator));
            images = torch.cat([real, fake], 0);
        }

        Tensor realProbability;
        using (torch.no_grad())
        {
            realProbability = torch.sigmoid(discriminator.call(images)).squeeze(1);
        }

        var judgedReal = realProbability.gt(0.5f).data<bool>().ToArray();
        var maps = torch.zeros(images.shape[0], DcganDiscriminator.FeatureSize, DcganDiscriminator.FeatureSize);
        for (var i = 0; i < images.shape[0]; i++)
        {
            maps[i] = GradCam.ForDiscriminator(discriminator, images[i..(i + 1)], judgedReal[i]).detach()[0];
        }

        var scores = realProbability.data<float>().ToArray();
        var display = (images + 1) / 2;
        var entries = WriteImages(display, maps, folder, i => i < probe.Length
            ? (LabelOf(data, probe[i]) < 0 ? "input" : "test", LabelOf(data, probe[i]), judgedReal[i] ? "real" : "generated", scores[i])
            : ("generated", -1, judgedReal[i] ? "real" : "generated", scores[i]));

        // Confidence in the discriminator's own decision, as the map explains that decision.
        var decisions = torch.tensor(judgedReal);
        var faithfulness = Faithfulness.Measure(
            masked =>
            {
                var p = torch.sigmoid(discriminator.call(masked)).squeeze(1);
                return torch.where(decisions, p, 1 - p);
            },
            images, maps, fillValue: 0f, FaithfulnessPercents, seed: 17);
        return WriteIndexAndPage(folder, new CamReportIndex(title, epoch, step, "Grad-CAM", entries, faithfulness));
    }

    /// <summary>Returns the image's class, or −1 for images without a Fashion-MNIST label.</summary>
    private static int LabelOf(ImageDataset data, int index) => data.Labels[index] < FashionMnistClasses.Count ? data.Labels[index] : -1;

    private static Tensor Load(ImageDataset data, int[] indices)
    {
        var pixels = new float[(long)indices.Length * data.PixelsPerImage];
        data.CopyNormalized(indices, pixels);
        return torch.tensor(pixels, [indices.Length, 1, data.Rows, data.Columns]);
    }

    /// <summary>Writes each image and its overlay (×4 nearest-neighbour) and returns the entries.</summary>
    private static List<CamEntry> WriteImages(Tensor images, Tensor maps, string folder, Func<int, (string Source, int Label, string Decision, double Score)> describe)
    {
        var imageFolder = Path.Combine(folder, "images");
        Directory.CreateDirectory(imageFolder);
        var height = (int)images.shape[2];
        var width = (int)images.shape[3];
        using var upsampled = MapDisplay.Normalize(ClassActivationMap.Upsample(maps, height, width));
        var pixels = images.contiguous().data<float>().ToArray();
        var mapValues = upsampled.contiguous().data<float>().ToArray();
        var entries = new List<CamEntry>();
        for (var i = 0; i < images.shape[0]; i++)
        {
            var gray = pixels.AsSpan(i * height * width, height * width);
            var overlay = MapDisplay.Overlay(gray, mapValues.AsSpan(i * height * width, height * width), height, width);
            var grayRgb = new byte[height * width * 3];
            for (var p = 0; p < height * width; p++)
            {
                var value = (byte)Math.Clamp(MathF.Round(gray[p] * 255), 0, 255);
                grayRgb[3 * p] = grayRgb[(3 * p) + 1] = grayRgb[(3 * p) + 2] = value;
            }

            var imageName = $"images/{i:000}-image.png";
            var overlayName = $"images/{i:000}-cam.png";
            var (source, label, decision, score) = describe(i);
            PngWriter.WriteRgb(Path.Combine(folder, imageName), width * Scale, height * Scale, Enlarge(grayRgb, height, width));

            // The overlay carries its own caption: the explained class or decision, and the score.
            var (labelledHeight, labelled) = TextStrip.AppendBelow(
                Enlarge(overlay, height, width), height * Scale, width * Scale, [decision, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"P={score:0.000}")]);
            PngWriter.WriteRgb(Path.Combine(folder, overlayName), width * Scale, labelledHeight, labelled);
            entries.Add(new CamEntry(imageName, overlayName, source, label, decision, score));
        }

        return entries;
    }

    private static byte[] Enlarge(byte[] rgb, int height, int width)
    {
        var enlarged = new byte[rgb.Length * Scale * Scale];
        for (var y = 0; y < height * Scale; y++)
        {
            for (var x = 0; x < width * Scale; x++)
            {
                var source = 3 * (((y / Scale) * width) + (x / Scale));
                var target = 3 * ((y * width * Scale) + x);
                enlarged[target] = rgb[source];
                enlarged[target + 1] = rgb[source + 1];
                enlarged[target + 2] = rgb[source + 2];
            }
        }

        return enlarged;
    }

    private static string WriteIndexAndPage(string folder, CamReportIndex index)
    {
        File.WriteAllBytes(Path.Combine(folder, "index.json"), JsonSerializer.SerializeToUtf8Bytes(index, IndexJson));
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.AppendLine(CultureInfo.InvariantCulture, $"<title>{WebUtility.HtmlEncode(index.Title)}</title>");
        html.AppendLine("<style>body{font-family:sans-serif;margin:1.5em}figure{display:inline-block;margin:.4em;text-align:center}img{image-rendering:pixelated;border:1px solid #ccc}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}</style></head><body>");
        html.AppendLine(CultureInfo.InvariantCulture, $"<h1>{WebUtility.HtmlEncode(index.Title)}</h1><p>{index.Method} maps after epoch {index.Epoch}, step {index.Step}. Red marks the regions that raise the explained score.</p>");
        html.AppendLine("<h2>Faithfulness</h2><table><tr><th>pixels replaced</th><th>confidence drop, map order</th><th>confidence drop, random pixels</th></tr>");
        foreach (var f in index.Faithfulness)
        {
            html.AppendLine(CultureInfo.InvariantCulture, $"<tr><td>{f.Percent:0} %</td><td>{f.MapDrop:F4}</td><td>{f.RandomDrop:F4}</td></tr>");
        }

        html.AppendLine("</table><h2>Maps</h2>");
        foreach (var e in index.Entries)
        {
            var label = e.Label >= 0 && e.Label < FashionMnistClasses.Count ? $"label {FashionMnistClasses[e.Label]}, " : "";
            var caption = WebUtility.HtmlEncode(string.Create(CultureInfo.InvariantCulture, $"{e.Source}: {label}{e.Decision} ({e.Score:F3})"));
            html.AppendLine(CultureInfo.InvariantCulture, $"<figure><img src=\"{e.Image}\" alt=\"image\"> <img src=\"{e.Overlay}\" alt=\"map\"><figcaption>{caption}</figcaption></figure>");
        }

        // The page reports how many of its images the browser decoded, so that a headless check can read it.
        html.AppendLine("<p id=\"image-check\">images not checked</p><script>window.addEventListener('load',()=>{const all=[...document.images];const ok=all.filter(i=>i.complete&&i.naturalWidth>0).length;document.getElementById('image-check').textContent=`images loaded: ${ok} of ${all.length}`;});</script>");
        html.AppendLine("</body></html>");
        var page = Path.Combine(folder, "report.html");
        File.WriteAllText(page, html.ToString());
        return page;
    }
}
