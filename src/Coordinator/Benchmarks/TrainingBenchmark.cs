using System.Diagnostics;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Configuration;
using DeepGen.Distributed.Data;
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
    public static TrainingResult MeasureVae(ImageDataset data, int workers, int threads, int batchPerWorker, int steps, WireFormat wire = WireFormat.Fp32)
    {
        const int warmup = 10;
        var config = new TrainingConfig(Workers: workers, BatchSizePerWorker: batchPerWorker, ThreadsPerWorker: threads);
        var initial = ReplicaTrainer.InitialWeights(config, data.PixelsPerImage);
        var sampler = new DistributedSampler(data.Count, workers, config.Seed);
        var stepsPerEpoch = sampler.StepsPerEpoch(batchPerWorker);
        var ring = AllReduceBenchmark.FormRing(workers, wire);
        try
        {
            var results = AllReduceBenchmark.RunOnEveryRank(ring, r =>
            {
                using var trainer = new ReplicaTrainer(config, data.PixelsPerImage, initial);
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

                    var epoch = 1 + i / stepsPerEpoch;
                    var step = i % stepsPerEpoch;
                    var batch = sampler.Batch(epoch, r.Rank, step, batchPerWorker);
                    var metrics = trainer.Step(data, batch, i + 1, r.Rank, workers, sampler.GlobalBatchSize(step, batchPerWorker), r);
                    if (i >= warmup)
                    {
                        allReduce += metrics.AllReduceSeconds;
                        stepTime += metrics.StepSeconds;
                    }
                }

                r.Barrier();
                return (Seconds: clock!.Elapsed.TotalSeconds, AllReduce: allReduce, StepTime: stepTime);
            });

            var seconds = results.Max(x => x.Seconds);
            return new TrainingResult("vae", workers, threads, batchPerWorker, steps, (double)steps * workers * batchPerWorker / seconds, results[0].AllReduce / results[0].StepTime);
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
