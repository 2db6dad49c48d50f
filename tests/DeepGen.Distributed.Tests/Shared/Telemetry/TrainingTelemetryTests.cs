using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Tests.Collectives;
using DeepGen.Distributed.Training;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Tests.Telemetry;

/// <summary>The meter is process-wide, so these tests run alone: no other test's training may record meanwhile.</summary>
[CollectionDefinition(nameof(TrainingTelemetryTests), DisableParallelization = true)]
[Collection(nameof(TrainingTelemetryTests))]
public sealed class TrainingTelemetryTests
{
    [Fact]
    public void Training_step_records_duration_samples_and_allreduce_bytes()
    {
        var measurements = new ConcurrentDictionary<string, List<double>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DeepGenTelemetry.SourceName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Record(measurements, instrument.Name, value));
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Record(measurements, instrument.Name, value));
        listener.Start();

        TorchRuntime.EnsureLoaded();
        var data = FashionMnist.Load(FashionMnist.DefaultDirectory, DatasetSplit.Test).Slice(0, 64);
        var config = new TrainingConfig(Workers: 2, BatchSizePerWorker: 16);
        var initial = VaeReplica.InitialWeights(config, data.PixelsPerImage);
        var sampler = new DistributedSampler(data.Count, 2, config.Seed);
        var ring = LoopbackRing.Form(2);
        try
        {
            LoopbackRing.RunOnEveryRank(ring, r =>
            {
                using var trainer = new VaeReplica(config, data.PixelsPerImage, initial);
                return trainer.Step(data, sampler.Batch(1, r.Rank, 0, 16), 1, r.Rank, 2, sampler.GlobalBatchSize(0, 16), r);
            });
        }
        finally
        {
            foreach (var r in ring)
            {
                r.Dispose();
            }
        }

        Assert.Equal(2, Values(measurements, DeepGenTelemetry.StepDurationName).Count);
        Assert.All(Values(measurements, DeepGenTelemetry.StepDurationName), seconds => Assert.True(seconds > 0));
        Assert.Equal(32, Values(measurements, DeepGenTelemetry.SamplesName).Sum());

        // Two ranks each send half of the bucket (652,824 gradients and 3 loss slots) in each of
        // the two phases, so together they send the bucket twice, plus 12-byte frame headers.
        var bucketBytes = (652_824 + 3) * 4.0;
        Assert.InRange(Values(measurements, DeepGenTelemetry.AllReduceBytesName).Sum(), 2 * bucketBytes, 2 * bucketBytes + 100);
    }

    private static void Record(ConcurrentDictionary<string, List<double>> store, string name, double value)
    {
        var list = store.GetOrAdd(name, _ => []);
        lock (list)
        {
            list.Add(value);
        }
    }

    private static List<double> Values(ConcurrentDictionary<string, List<double>> store, string name) =>
        store.TryGetValue(name, out var list) ? list : [];
}
