using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Coordinator.Output;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Messages;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Models;
using DeepGen.Distributed.Training;
using TorchSharp;

namespace DeepGen.Distributed.Coordinator.Explain;

/// <summary>
/// Writes a CAM report of one run for every snapshot it receives (every <c>--eval-every</c> steps
/// and at each epoch end), under <c>cam/step-NNNNNN/</c> of the run folder, and keeps
/// <c>cam/index.json</c> listing them. It works on its own libtorch thread and decodes each snapshot
/// into its own copy of the networks. The replicas run in the workers, which never wait for it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Actors release resources in PostStop, which Akka calls when the actor stops.")]
public sealed class CamReporterActor : ReceiveActor
{
    private const int ProbePerClass = 3;
    private const int GeneratedCount = 16;

    private readonly TrainingThread _thread;
    private readonly List<object> _reports = [];

    public CamReporterActor(TrainingConfig config, ImageDataset testSet, float fillValue, RunOutput output)
    {
        var log = Context.GetLogger();
        var parent = Context.Parent;
        _thread = new TrainingThread("cam-reporter", error => log.Error(error, "CAM reporter thread failed"));
        var probe = CamReport.ProbeIndices(testSet, ProbePerClass);
        Receive<ReportCam>(snapshot => _thread.Post(() =>
        {
            var folder = Path.Combine(output.Directory, "cam", $"step-{snapshot.Step:000000}");
            using var span = DeepGenTelemetry.ActivitySource.StartActivity("cam_report")?.SetTag("deepgen.epoch", snapshot.Epoch).SetTag("deepgen.step", snapshot.Step);
            try
            {
                torch.set_num_threads(1);
                Directory.CreateDirectory(folder);
                var title = $"{config.Model} after step {snapshot.Step}";
                string page;
                if (config.Model == "classifier")
                {
                    using var model = DefaultGenerator.Unseeded(() => new ClassifierCnn(new ClassifierOptions()));
                    ParameterCodec.Decode(snapshot.Weights, model);
                    page = CamReport.WriteForClassifier(model, testSet, probe, folder, title, snapshot.Epoch, snapshot.Step, fillValue);
                }
                else
                {
                    using var networks = DefaultGenerator.Unseeded(() => new GanNetworks(config.GanArchitecture, new DcganOptions(config.LatentSize)));
                    ParameterCodec.Decode(snapshot.Weights, networks);
                    page = CamReport.WriteForDiscriminator(networks, testSet, probe, GeneratedCount, config.Seed, folder, title, snapshot.Epoch, snapshot.Step);
                }

                _reports.Add(new { epoch = snapshot.Epoch, step = snapshot.Step, page = Path.GetRelativePath(Path.Combine(output.Directory, "cam"), page) });
                var index = Path.Combine(output.Directory, "cam", "index.json");
                File.WriteAllBytes(index + ".tmp", JsonSerializer.SerializeToUtf8Bytes(_reports));
                File.Move(index + ".tmp", index, overwrite: true);
                parent.Tell(new CamReportWritten(snapshot.Epoch, snapshot.Step, page, null));
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                parent.Tell(new CamReportWritten(snapshot.Epoch, snapshot.Step, null, $"{error.GetType().Name}: {error.Message}"));
            }
        }));
    }

    /// <summary>True for the model families whose decisions CAM or Grad-CAM can explain.</summary>
    public static bool Supports(TrainingConfig config) => config.Model == "classifier" || (config.Model == "gan" && config.GanArchitecture == "dcgan");

    public static Props Props(TrainingConfig config, ImageDataset testSet, float fillValue, RunOutput output) =>
        Akka.Actor.Props.Create(() => new CamReporterActor(config, testSet, fillValue, output));

    /// <summary>Waits for the reports already queued, so that the run folder is complete when the run ends.</summary>
    protected override void PostStop() => _thread.Dispose();
}
