using System.CommandLine;
using DeepGen.Distributed.Coordinator.Cli;

var root = new RootCommand("DeepGen.Distributed: data-parallel training of generative models on an Akka.NET cluster.")
{
    TrainCommand.Create(),
    DeepGen.Distributed.Coordinator.Benchmarks.BenchCommand.Create(),
    FidReferencesCommand.Create(),
    CamCommand.Create(),
    DeepGen.Distributed.Coordinator.Sweeps.SweepCommand.Create(),
};

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
