using System.CommandLine;
using System.Globalization;
using System.Text;
using DeepGen.Distributed.Collectives;
using DeepGen.Distributed.Data;
using DeepGen.Distributed.Training;

namespace DeepGen.Distributed.Coordinator.Benchmarks;

/// <summary><c>deepgen bench</c>: all-reduce and training throughput, next to a plain socket and the PyTorch DDP peer, in one run.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var peerDir = new Option<string?>("--peer-dir") { Description = "Folder with the PyTorch DDP peer scripts ddp_vae.py and ddp_gan.py; without it the peer is not run." };
        var worldSizes = new Option<string>("--world-sizes") { Description = "Comma-separated world sizes of the all-reduce benchmark.", DefaultValueFactory = _ => "2,3,4" };
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated all-reduce buffer sizes in bytes.", DefaultValueFactory = _ => "4096,65536,1048576,2611296,16777216" };
        var iterations = new Option<int>("--iterations") { Description = "Timed all-reduces per size (the median is reported).", DefaultValueFactory = _ => 20 };
        var workers = new Option<int>("--workers") { Description = "Workers of the training benchmark.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads per worker.", DefaultValueFactory = _ => 1 };
        var steps = new Option<int>("--steps") { Description = "Timed training steps (after 10 warm-up steps).", DefaultValueFactory = _ => 300 };
        var batch = new Option<int>("--batch-size") { Description = "VAE images per worker per step.", DefaultValueFactory = _ => 128 };
        var ganBatch = new Option<int>("--gan-batch-size") { Description = "DCGAN real images per worker per step.", DefaultValueFactory = _ => 64 };
        var ganSteps = new Option<int>("--gan-steps") { Description = "Timed DCGAN steps (after 10 warm-up steps); 0 skips the DCGAN.", DefaultValueFactory = _ => 60 };
        var wire = new Option<string>("--wire-format") { Description = "Gradient format on the wire for the training benchmark: fp32, fp16 or bf16.", DefaultValueFactory = _ => "fp32" };
        var data = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX files.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DEEPGEN_DATA") ?? FashionMnist.DefaultDirectory };
        var skipAllReduce = new Option<bool>("--skip-allreduce") { Description = "Run only the training benchmark." };
        var skipTraining = new Option<bool>("--skip-training") { Description = "Run only the all-reduce benchmark." };
        var telemetryPairs = new Option<int>("--telemetry-pairs") { Description = "Also measure the VAE with and without full tracing and metrics export, alternating, this many times (0 = skip)." };

        var command = new Command("bench", "Measure the all-reduce and training throughput next to a plain socket and the PyTorch DDP peer.")
        {
            peerDir, worldSizes, sizes, iterations, workers, threads, steps, batch, ganBatch, ganSteps, wire, data, skipAllReduce, skipTraining, telemetryPairs,
        };
        command.SetAction(result =>
        {
            if (!TrainingConfigWire(result.GetValue(wire)!, out var wireFormat))
            {
                Console.Error.WriteLine($"--wire-format '{result.GetValue(wire)}' is not available; use fp32, fp16 or bf16.");
                return 2;
            }

            if (!TryParseList(result.GetValue(worldSizes)!, out var worlds) || worlds.Any(w => w < 1)
                || !TryParseList(result.GetValue(sizes)!, out var bytes) || bytes.Any(b => b < 4)
                || result.GetValue(iterations) < 1 || result.GetValue(workers) < 1 || result.GetValue(threads) < 1 || result.GetValue(steps) < 1 || result.GetValue(batch) < 1
                || result.GetValue(ganBatch) < 2 || result.GetValue(ganSteps) < 0 || result.GetValue(telemetryPairs) < 0)
            {
                Console.Error.WriteLine("Invalid benchmark option: world sizes must be ≥ 1, buffer sizes ≥ 4 bytes, --iterations, --workers, --threads, --steps and --batch-size ≥ 1, --gan-batch-size ≥ 2, --gan-steps and --telemetry-pairs ≥ 0.");
                return 2;
            }

            Console.WriteLine(Machine());
            if (!result.GetValue(skipAllReduce))
            {
                Console.WriteLine(AllReduceTable(worlds, bytes, result.GetValue(iterations)));
            }

            if (!result.GetValue(skipTraining))
            {
                TorchRuntime.EnsureLoaded();
                var dataset = FashionMnist.Load(result.GetValue(data)!, DatasetSplit.Train);
                Console.WriteLine(TrainingTable(dataset, result.GetValue(workers), result.GetValue(threads), result.GetValue(steps), result.GetValue(batch), result.GetValue(ganSteps), result.GetValue(ganBatch), wireFormat, result.GetValue(peerDir)));
            }

            if (result.GetValue(telemetryPairs) > 0)
            {
                TorchRuntime.EnsureLoaded();
                var dataset = FashionMnist.Load(result.GetValue(data)!, DatasetSplit.Train);
                var overhead = TelemetryOverheadBenchmark.Measure(dataset, result.GetValue(workers), result.GetValue(threads), result.GetValue(batch), result.GetValue(steps), result.GetValue(telemetryPairs));
                Console.WriteLine(TelemetryOverheadBenchmark.Table(overhead, result.GetValue(workers), result.GetValue(batch), result.GetValue(steps)));
            }

            return 0;
        });
        return command;
    }

    private static string AllReduceTable(IReadOnlyList<long> worlds, IReadOnlyList<long> sizes, int iterations)
    {
        var table = new StringBuilder();
        table.AppendLine("| world size | buffer | all-reduce (ms) | bus bandwidth (MB/s) | plain socket transfer (ms) | all-reduce ÷ socket |");
        table.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var world in worlds)
        {
            foreach (var size in sizes)
            {
                var r = AllReduceBenchmark.Measure((int)world, size, iterations);
                table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.WorldSize} | {FormatBytes(r.Bytes)} | {r.Milliseconds:F3} | {r.BusBandwidthMBps:N0} | {r.SocketMilliseconds:F3} | {r.Milliseconds / r.SocketMilliseconds:F2} |"));
            }
        }

        return table.ToString();
    }

    private static string TrainingTable(ImageDataset data, int workers, int threads, int steps, int batch, int ganSteps, int ganBatch, WireFormat wire, string? peerDir)
    {
        var table = new StringBuilder();
        var notes = new StringBuilder();
        table.AppendLine("| model | workers × threads | batch per worker | DeepGen samples/s | all-reduce share of step | PyTorch DDP samples/s | ratio |");
        table.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");

        var vae = TrainingBenchmark.MeasureVae(data, workers, threads, batch, steps, wire);
        AppendRow(table, notes, "VAE 784-400-20", vae, peerDir, "ddp_vae.py", steps);
        if (ganSteps > 0)
        {
            var dcgan = TrainingBenchmark.MeasureDcgan(data, workers, threads, ganBatch, ganSteps, wire);
            AppendRow(table, notes, "DCGAN (one D and one G step)", dcgan, peerDir, "ddp_gan.py", ganSteps);
        }

        table.AppendLine();
        table.Append(notes);
        return table.ToString();
    }

    private static void AppendRow(StringBuilder table, StringBuilder notes, string name, TrainingResult ours, string? peerDir, string script, int steps)
    {
        var (peer, detail) = peerDir is null
            ? (null, "no --peer-dir given")
            : PeerBenchmark.Run(Path.Combine(peerDir, script), ours.Workers, steps, ours.BatchPerWorker, ours.Threads, TimeSpan.FromMinutes(10));
        var peerText = peer is null ? "n/a" : peer.Value.ToString("N0", CultureInfo.InvariantCulture);
        var ratio = peer is null ? "n/a" : (ours.SamplesPerSecond / peer.Value).ToString("F2", CultureInfo.InvariantCulture);
        table.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {ours.Workers} × {ours.Threads} | {ours.BatchPerWorker} | {ours.SamplesPerSecond:N0} | {ours.AllReduceFraction:P1} | {peerText} | {ratio} |"));
        notes.AppendLine(CultureInfo.InvariantCulture, $"Peer {script}: {detail}");
    }

    private static bool TrainingConfigWire(string name, out WireFormat format) => Configuration.TrainingConfig.WireFormats.TryGetValue(name, out format);

    private static bool TryParseList(string text, out List<long> values)
    {
        values = [];
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            values.Add(value);
        }

        return values.Count > 0;
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.##} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.##} KiB"),
        _ => $"{bytes} B",
    };

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"Machine: {Environment.ProcessorCount} cores ({cpu ?? "unknown CPU"}), {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n";
    }
}
