using System.Diagnostics;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Telemetry;
using DeepGen.Distributed.Worker.Training;

namespace DeepGen.Distributed.Coordinator.Benchmarks;

/// <summary>Training throughput of one configuration.</summary>
/// <param name="SamplesPerSecond">Training images of all workers per second over the timed steps.</param>
/// <param name="AllReduceFraction">Share of rank 0's step time spent in the gradient all-reduce.</param>
public sealed record TrainingResult(string Model, int Workers, int Threads, int BatchPerWorker, int Steps, double SamplesPerSecond, double AllReduceFraction);

/// <summary>
/// Times the training step of every worker of a run, each on its own thread with its own libtorch
/// thread count, connected by the real TCP ring. The control plane (Akka) is left out, as the
/// peer's DDP script leaves out its launcher: what is timed is compute plus gradient averaging.
/// </summary>
public static class TrainingBenchmark
{
    /// <param name="traceParent">When set, every rank wraps each step in a step span under this parent, as a worker does in a traced run.</param>
    public static TrainingResult MeasureVae(ImageDataset data, int workers, int threads, int batchPerWorker, int steps, WireFormat wire = WireFormat.Fp32, ActivityContext traceParent = default)
    {
        var config = new TrainingConfig(Workers: workers, BatchSizePerWorker: batchPerWorker, ThreadsPerWorker: threads);
        var initial = VaeReplica.InitialWeights(config, data.PixelsPerImage);
        return Measure("vae", data, workers, threads, batchPerWorker, steps, wire, () =>
        {
            var trainer = new VaeReplica(config, data.PixelsPerImage, initial);
            return (trainer, (batch, step, rank, globalBatch, ring) =>
            {
                using var span = traceParent == default ? null : IterationTrace.StartStep(traceParent, "bench", rank, step);
                var metrics = trainer.Step(data, batch, step, rank, workers, globalBatch, ring);
                return (metrics.StepSeconds, metrics.AllReduceSeconds);
            });
        });
    }

    public static TrainingResult MeasureDcgan(ImageDataset data, int workers, int threads, int batchPerWorker, int steps, WireFormat wire = WireFormat.Fp32)
    {
        var settings = new GanReplicaSettings(BatchSizePerWorker: batchPerWorker, ThreadsPerWorker: threads);
        var initial = GanReplica.InitialWeights(settings);
        return Measure("dcgan", data, workers, threads, batchPerWorker, steps, wire, () =>
        {
            var trainer = new GanReplica(settings, initial);
            return (trainer, (batch, step, rank, globalBatch, ring) =>
            {
                var metrics = trainer.Step(data, batch, step, rank, workers, globalBatch, ring);
                return (metrics.StepSeconds, metrics.AllReduceSeconds);
            });
        });
    }

    /// <summary>Runs one step of a replica: (batch, global step, rank, global batch size, ring) → (step seconds, all-reduce seconds).</summary>
    private delegate (double StepSeconds, double AllReduceSeconds) StepFunction(int[] batch, long step, int rank, int globalBatch, RingCollective ring);

    private static TrainingResult Measure(
        string model, ImageDataset data, int workers, int threads, int batchPerWorker, int steps, WireFormat wire, Func<(IDisposable Replica, StepFunction Step)> createReplica)
    {
        const int warmup = 10;
        var sampler = new DistributedSampler(data.Count, workers, seed: 1);

        // Only full batches: the last step of an epoch may be short, which would skew the rate.
        var fullSteps = data.Count / (workers * batchPerWorker);
        if (fullSteps < 1)
        {
            throw new ArgumentException($"{data.Count} images do not fill one global batch of {workers} × {batchPerWorker}; lower --batch-size or --workers.", nameof(data));
        }

        var ring = AllReduceBenchmark.FormRing(workers, wire);
        try
        {
            var results = AllReduceBenchmark.RunOnEveryRank(ring, r =>
            {
                var (replica, stepFunction) = createReplica();
                using var owned = replica;
                Stopwatch? clock = null;
                var allReduce = 0.0;
                var stepTime = 0.0;
                for (var i = 0; i < warmup + steps; i++)
                {
                    if (i == warmup)
                    {
                        r.Barrier();
                        clock = Stopwatch.StartNew();
                    }

                    var epoch = 1 + i / fullSteps;
                    var step = i % fullSteps;
                    var batch = sampler.Batch(epoch, r.Rank, step, batchPerWorker);
                    var (seconds, reduceSeconds) = stepFunction(batch, i + 1, r.Rank, sampler.GlobalBatchSize(step, batchPerWorker), r);
                    if (i >= warmup)
                    {
                        allReduce += reduceSeconds;
                        stepTime += seconds;
                    }
                }

                r.Barrier();
                return (Seconds: clock!.Elapsed.TotalSeconds, AllReduce: allReduce, StepTime: stepTime);
            });

            var elapsed = results.Max(x => x.Seconds);
            return new TrainingResult(model, workers, threads, batchPerWorker, steps, (double)steps * workers * batchPerWorker / elapsed, results[0].AllReduce / results[0].StepTime);
        }
        finally
        {
            foreach (var r in ring)
            {
                r.Dispose();
            }
        }
    }
}
