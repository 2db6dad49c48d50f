using System.CommandLine;
using DeepGen.Distributed.Coordinator.Explain;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Coordinator.Cli;

/// <summary><c>deepgen cam</c>: a class-activation-map report for a stored classifier or DCGAN checkpoint.</summary>
public static class CamCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint of a --model classifier or --model gan (dcgan) run.", Required = true };
        var data = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX files; the probe images come from its test set.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DEEPGEN_DATA") ?? FashionMnist.DefaultDirectory };
        var perClass = new Option<int>("--per-class") { Description = "Test images per class in the probe set.", DefaultValueFactory = _ => 3 };
        var generated = new Option<int>("--generated") { Description = "Generated images in the probe set of a GAN.", DefaultValueFactory = _ => 16 };
        var images = new Option<string?>("--images") { Description = "IDX images file (gzip or plain, 28×28) to explain instead of test images; the first 100 are used." };
        var output = new Option<string>("--output") { Description = "Folder for report.html, index.json and images/.", DefaultValueFactory = _ => "cam-report" };
        var command = new Command("cam", "Write a CAM (classifier) or Grad-CAM (DCGAN discriminator) report for a stored checkpoint.") { checkpoint, data, images, perClass, generated, output };
        command.SetAction(result =>
        {
            if (result.GetValue(perClass) is < 1 or > 100 || result.GetValue(generated) is < 0 or > 1000)
            {
                Console.Error.WriteLine("--per-class must be from 1 to 100 and --generated from 0 to 1000.");
                return 2;
            }

            try
            {
                TorchRuntime.EnsureLoaded();
                var stored = Checkpoint.Read(result.GetValue(checkpoint)!);
                ImageDataset test;
                int[] probe;
                if (result.GetValue(images) is { } imagesPath)
                {
                    // Images of unknown class: label 255 marks them as unlabelled in the report.
                    var loaded = IdxReader.ReadImages(imagesPath);
                    if (loaded.Rows != 28 || loaded.Columns != 28)
                    {
                        Console.Error.WriteLine($"{imagesPath}: images are {loaded.Rows}×{loaded.Columns}; the models take 28×28 images.");
                        return 2;
                    }

                    test = new ImageDataset(Path.GetFileName(imagesPath), loaded.Rows, loaded.Columns, loaded.Pixels, Enumerable.Repeat((byte)255, loaded.Count).ToArray());
                    probe = Enumerable.Range(0, Math.Min(100, test.Count)).ToArray();
                }
                else
                {
                    test = FashionMnist.Load(result.GetValue(data)!, DatasetSplit.Test);
                    probe = CamReport.ProbeIndices(test, result.GetValue(perClass));
                }

                var folder = Path.GetFullPath(result.GetValue(output)!);
                Directory.CreateDirectory(folder);
                var title = $"{Path.GetFileName(result.GetValue(checkpoint))}: {stored.Config.Model}";
                string page;
                switch (stored.Config.Model)
                {
                    case "classifier":
                        using (var model = new ClassifierCnn(new ClassifierOptions()))
                        {
                            ParameterCodec.Decode(stored.Weights, model);
                            var train = FashionMnist.Load(result.GetValue(data)!, DatasetSplit.Train);
                            page = CamReport.WriteForClassifier(model, test, probe, folder, title, stored.Epoch, stored.Step, (float)train.MeanPixelValue());
                        }

                        break;
                    case "gan" when stored.Config.GanArchitecture == "dcgan":
                        using (var networks = new GanNetworks("dcgan", new DcganOptions(stored.Config.LatentSize)))
                        {
                            ParameterCodec.Decode(stored.Weights, networks);
                            page = CamReport.WriteForDiscriminator(networks, test, probe, result.GetValue(generated), stored.Config.Seed, folder, title, stored.Epoch, stored.Step);
                        }

                        break;
                    default:
                        Console.Error.WriteLine($"{result.GetValue(checkpoint)} is a checkpoint of a {stored.Config.Model} run ({stored.Config.GanArchitecture} architecture for a GAN); CAM needs a classifier or a DCGAN.");
                        return 2;
                }

                Console.WriteLine($"report written: {page}");
                return 0;
            }
            catch (Exception error) when (error is CheckpointException or DatasetFormatException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine(error.Message);
                return 1;
            }
        });
        return command;
    }
}
