using System.CommandLine;
using System.Globalization;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Evaluation;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Coordinator.Cli;

/// <summary>
/// <c>deepgen fid-references</c>: the two reference values of the GAN's Fréchet distance with a given
/// classifier. The floor compares the test set with 10,000 training images; the ceiling compares it
/// with an untrained generator's images.
/// </summary>
public static class FidReferencesCommand
{
    public static Command Create()
    {
        var classifier = new Option<string>("--fid-classifier") { Description = "Classifier checkpoint (checkpoints/final.ckpt of a --model classifier run).", Required = true };
        var data = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX files.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DEEPGEN_DATA") ?? FashionMnist.DefaultDirectory };
        var architecture = new Option<string>("--gan-architecture") { Description = "Architecture of the untrained generator: dcgan or mlp.", DefaultValueFactory = _ => "dcgan" };
        var seed = new Option<int>("--seed") { Description = "Seed of the untrained generator and of its noise.", DefaultValueFactory = _ => 1 };
        var command = new Command("fid-references", "Print the floor and the ceiling of the GAN's Fréchet distance in a classifier's features.") { classifier, data, architecture, seed };
        command.SetAction(result =>
        {
            var config = new TrainingConfig(Model: "gan", GanArchitecture: result.GetValue(architecture)!, Seed: result.GetValue(seed), LatentSize: 64, FidClassifier: result.GetValue(classifier)!, DataDirectory: result.GetValue(data)!);
            var errors = config.Validate();
            if (errors.Count > 0)
            {
                Console.Error.WriteLine(string.Join(Environment.NewLine, errors));
                return 2;
            }

            try
            {
                TorchRuntime.EnsureLoaded();
                var test = FashionMnist.Load(config.DataDirectory, DatasetSplit.Test);
                var train = FashionMnist.Load(config.DataDirectory, DatasetSplit.Train);
                using var evaluator = new GanEvaluator(test, config.GanArchitecture, new DcganOptions(config.LatentSize), Checkpoint.Read(config.FidClassifier).Weights, config.Seed);
                var floor = evaluator.FrechetDistanceTo(train.Slice(0, Math.Min(10_000, train.Count)));
                var untrained = evaluator.Evaluate(ReplicaFactory.InitialWeights(config, test.Rows, test.Columns));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"floor (test set vs 10,000 training images): {floor:F4}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ceiling (test set vs an untrained {config.GanArchitecture} generator): {untrained[0]:F4}, class entropy {untrained[1]:F4} nats"));
                return 0;
            }
            catch (Exception error) when (error is DatasetFormatException or CheckpointException or InvalidDataException)
            {
                Console.Error.WriteLine(error.Message);
                return 1;
            }
        });
        return command;
    }
}
