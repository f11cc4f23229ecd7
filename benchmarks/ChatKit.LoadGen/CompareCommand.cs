using System.Globalization;
using System.Text.Json;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Peers;
using ChatKit.LoadGen.Reporting;

namespace ChatKit.LoadGen;

/// <summary>
/// <c>compare</c>: scenarios A and B at stepped loads for every system, then scenario C (idle connections and memory),
/// then scenario D (ChatKit's idle connections on the whole machine), then the docs blocks and the plot. Results are saved as JSON after every system, so a run cut short still reports.
/// </summary>
internal static class CompareCommand
{
    private const int MaxSteps = 9;
    private const int Bisections = 2;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The systems whose idle connections are measured (one node each; the durable path changes nothing for an idle connection).</summary>
    private static readonly int[] IdleTargets = [10_000, 20_000, 40_000, 100_000];

    private static readonly string[] IdleSystems = ["chatkit", "signalr", "socketio", "ceiling"];

    /// <summary>Scenario D's idle connections on the whole machine (issue 8's goal).</summary>
    private const int MachineIdleTarget = 100_000;

    public static async Task<int> RunAsync(CommandOptions options, string root, string[] args)
    {
        var systems = options.List("--systems", string.Join(',', SystemSpec.All.Select(s => s.Key))).Select(SystemSpec.Find).ToList();
        var scenarios = options.List("--scenarios", "A,B,C,D").Select(s => s.ToUpperInvariant()).ToList();
        var seconds = options.Number("--seconds", 4);
        var warmup = options.Number("--warmup", 1);
        var openFiles = OpenFilesLimit();
        var idleSteps = options.Get("--idle") is { } idle
            ? idle.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList()
            : DefaultIdleSteps(openFiles);
        var machineTarget = (int)options.Number("--machine-idle", MachineIdleTarget);
        var markdown = Path.Combine(root, options.Get("--out") ?? "docs/benchmarks.md");
        var svg = Path.Combine(root, options.Get("--svg") ?? "docs/benchmarks-p99.svg");
        var resultsPath = options.Get("--results") ?? Path.Combine(root, "artifacts", "loadgen", $"compare-{TimeProvider.System.GetUtcNow():yyyyMMdd-HHmmss}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(resultsPath))!);
        var passed = args.Skip(1).ToList();
        var results = new CompareResults
        {
            Machine = MachineDescription.Describe(),
            Command = passed.Count == 0 ? "scripts/compare.sh" : "scripts/compare.sh " + string.Join(' ', passed),
            Seconds = seconds,
            Warmup = warmup,
            OpenFiles = openFiles,
        };
        Log.Progress($"compare: {systems.Count} systems, scenarios {string.Join(',', scenarios)}, {warmup:G} s + {seconds:G} s per step; results in {resultsPath}");

        await using var infrastructure = new Infrastructure(root);
        foreach (var scenario in scenarios.Where(s => s is "A" or "B"))
        {
            foreach (var spec in systems)
            {
                Log.Progress($"scenario {scenario}, {spec.Label}");
                try
                {
                    results.Steps.AddRange(await RampAsync(infrastructure, spec, scenario, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(seconds)));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or System.Net.WebSockets.WebSocketException or System.Net.Http.HttpRequestException)
                {
                    Log.Progress($"scenario {scenario}, {spec.Label}: failed: {e.Message}");
                    results.Failures.Add($"scenario {scenario}, {spec.Label}: {e.Message}");
                }

                Save(results, resultsPath);
            }
        }

        if (scenarios.Contains("C"))
        {
            foreach (var spec in systems.Where(s => IdleSystems.Contains(s.Key)))
            {
                Log.Progress($"scenario C (idle connections), {spec.Label}");
                try
                {
                    results.Idle.Add(await IdleRampAsync(infrastructure, spec, idleSteps));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
                {
                    Log.Progress($"scenario C, {spec.Label}: failed: {e.Message}");
                    results.Failures.Add($"scenario C, {spec.Label}: {e.Message}");
                }

                Save(results, resultsPath);
            }
        }

        if (scenarios.Contains("D") && systems.Any(s => s.Key == "chatkit"))
        {
            Log.Progress($"scenario D ({machineTarget:N0} idle connections on the machine), ChatKit");
            try
            {
                results.MachineIdle = await MachineIdleAsync(infrastructure, machineTarget, (int)Math.Clamp(openFiles - 1_000, 1_000, machineTarget), TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                Log.Progress($"scenario D: failed: {e.Message}");
                results.Failures.Add($"scenario D: {e.Message}");
            }

            Save(results, resultsPath);
        }

        ReportWriter.Write(results, markdown, svg);
        Log.Progress($"compare: wrote {markdown} and {svg}; results in {resultsPath}");
        return 0;
    }

    public static int Report(CommandOptions options, string root)
    {
        var paths = options.List("--results", "");
        if (paths.Count == 0)
        {
            throw new UsageException("report needs --results FILE[,FILE...] (written by compare).");
        }

        // Later files replace what earlier ones measured for the same system and scenario (a phase run again alone).
        var results = paths.Select(p => JsonSerializer.Deserialize<CompareResults>(File.ReadAllText(p), Json) ?? throw new UsageException($"{p} holds no results.")).Aggregate(Merge);
        var markdown = Path.Combine(root, options.Get("--out") ?? "docs/benchmarks.md");
        var svg = Path.Combine(root, options.Get("--svg") ?? "docs/benchmarks-p99.svg");
        ReportWriter.Write(results, markdown, svg);
        Log.Progress($"report: wrote {markdown} and {svg}");
        return 0;
    }

    private static CompareResults Merge(CompareResults first, CompareResults later)
    {
        var redone = later.Steps.Select(s => (s.System, s.Scenario)).Concat(later.Idle.Select(i => (i.System, Scenario: "C"))).ToHashSet();
        bool Redone(string failure) => redone.Any(r => failure.StartsWith($"scenario {r.Scenario}, {SystemSpec.Find(r.System).Label}:", StringComparison.Ordinal));
        first.Steps = first.Steps.Where(s => !redone.Contains((s.System, s.Scenario))).Concat(later.Steps).ToList();
        first.Idle = first.Idle.Where(i => !redone.Contains((i.System, "C"))).Concat(later.Idle).ToList();
        first.Failures = first.Failures.Where(f => !Redone(f) && !(later.MachineIdle is not null && f.StartsWith("scenario D:", StringComparison.Ordinal))).Concat(later.Failures).ToList();
        first.MachineIdle = later.MachineIdle ?? first.MachineIdle;
        first.Command += $"; then {later.Command}";
        return first;
    }

    /// <summary>
    /// A fresh system, the scenario's connections and rooms, then loads doubling from the scenario's first rate until
    /// one fails, two bisections between the last pass and the first failure, and half of the best load if not yet run. A
    /// load that failed on latency alone is run once more and fails only when both runs do: one stall of the cores the
    /// system shares with the load generator should not end its ramp.
    /// </summary>
    private static async Task<List<StepResult>> RampAsync(Infrastructure infrastructure, SystemSpec spec, string scenario, TimeSpan warmup, TimeSpan seconds)
    {
        var layout = Scenarios.Layout(scenario);
        await using var instance = await infrastructure.StartAsync(spec);
        await using var run = new LoadRun(spec.Key, spec.Protocol, instance.Ports, layout.Users, Log.Progress, layout, instance.ServerCpuTime);
        if (await run.ConnectAsync(layout.Users) > 0)
        {
            throw new InvalidOperationException($"not every connection opened ({run.Session.FirstError}).");
        }

        await run.SetupRoomsAsync(layout);
        await run.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

        // An unreported first step at the first load: JIT, caches, Kafka consumer groups joining (seconds on the mock).
        var prime = await run.RunStepAsync(scenario, layout, Scenarios.FirstRate(scenario), TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Log.Progress($"  {spec.Key} {scenario}: warm-up, not reported: {prime.Describe()}");
        await run.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var steps = new List<StepResult>();

        async Task<StepResult> StepAsync(double rate)
        {
            var result = await run.RunStepAsync(scenario, layout, rate, warmup, seconds);
            Log.Progress($"  {spec.Key} {scenario}: {result.Describe()}");
            steps.Add(result);
            await run.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
            return result;
        }

        bool Broken(StepResult r) => r.Closed > 0 || instance.AnyExited;

        async Task<StepResult> LoadAsync(double rate)
        {
            var result = await StepAsync(rate);
            return result.Passed || !result.Correct || instance.AnyExited ? result : await StepAsync(rate);
        }

        var rate = Scenarios.FirstRate(scenario);
        StepResult? best = null;
        StepResult? failed = null;
        for (var i = 0; i < MaxSteps; i++)
        {
            var result = await LoadAsync(rate);
            if (!result.Passed)
            {
                failed = result;
                break;
            }

            best = result;
            rate *= 2;
        }

        if (failed is not null && !Broken(failed))
        {
            if (best is null)
            {
                // Even the first load failed: one much lower load, so the line has a point that may pass.
                var lower = await LoadAsync(failed.MessagesPerSecond / 4);
                best = lower.Passed ? lower : null;
            }
            else
            {
                // Two halvings of the gap (on a log scale) between the last load that passed and the first that
                // failed: the max is known to within a factor of 2^(1/4), about 19 %.
                var low = best.MessagesPerSecond;
                var high = failed.MessagesPerSecond;
                for (var i = 0; i < Bisections && !instance.AnyExited; i++)
                {
                    var between = await LoadAsync(Math.Round(Math.Sqrt(low * high)));
                    if (between.Passed)
                    {
                        best = between;
                        low = between.MessagesPerSecond;
                    }
                    else if (Broken(between))
                    {
                        break;
                    }
                    else
                    {
                        high = between.MessagesPerSecond;
                    }
                }
            }
        }

        if (best is not null && !steps.Any(s => Math.Abs(s.MessagesPerSecond - (best.MessagesPerSecond / 2)) < 0.01) && !steps.Any(Broken))
        {
            await StepAsync(best.MessagesPerSecond / 2);
        }

        return steps;
    }

    /// <summary>Idle connections opened in steps on one node; the node's RSS after each; the slope of RSS over connections.</summary>
    private static async Task<IdleResult> IdleRampAsync(Infrastructure infrastructure, SystemSpec spec, List<int> targets)
    {
        await using var instance = await infrastructure.StartAsync(spec);
        await using var run = new LoadRun(spec.Key, spec.Protocol, instance.Ports, targets.Max(), Log.Progress);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var points = new List<IdlePoint> { new(0, instance.NodesResidentBytes()) };
        string? stopped = null;
        foreach (var target in targets.Order())
        {
            var failures = await run.ConnectAsync(target, concurrency: 128);
            if (instance.AnyExited)
            {
                stopped = $"the node exited at {target:N0}";
                break;
            }

            if (failures > target / 100)
            {
                stopped = $"{failures:N0} of {target:N0} refused ({run.Session.FirstError})";
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(5));
            var rss = instance.NodesResidentBytes();
            points.Add(new IdlePoint(run.Connections, rss));
            Log.Progress(string.Create(CultureInfo.InvariantCulture, $"  {spec.Key}: {run.Connections:N0} idle connections, RSS {rss / 1024.0 / 1024.0:N0} MB"));
            if (run.Session.Closed > 0)
            {
                stopped = $"{run.Session.Closed:N0} connections dropped ({run.Session.FirstError})";
                break;
            }
        }

        var measured = points.Where(p => p.Connections > 0).ToList();
        var fit = measured.Count >= 2 ? measured : points;
        return new IdleResult(spec.Key, points, fit.Count >= 2 ? Slope(fit) : null, stopped);
    }

    /// <summary>
    /// Scenario D: <paramref name="target"/> idle connections on this machine. A process holds at most the open-file
    /// limit of descriptors, so ChatKit runs as as many nodes (processes, on Redis and one PostgreSQL, as an app that
    /// scales out does) as it takes at <paramref name="perProcess"/> connections each, and each node's share of the
    /// connections is opened and held by a load generator process of its own (<c>hold</c>). <paramref name="settle"/>
    /// after each share: the nodes' RSS together. The ramp stops where a share fails (more than 1 % refused, a
    /// connection lost, a node gone). The smoke run calls it with a few connections.
    /// </summary>
    internal static async Task<MachineIdleResult> MachineIdleAsync(Infrastructure infrastructure, int target, int perProcess, TimeSpan settle)
    {
        var nodes = (target + perProcess - 1) / perProcess;
        var share = (target + nodes - 1) / nodes;
        var spec = SystemSpec.Find("chatkit-2n") with { Key = "chatkit-machine", Label = $"ChatKit, {nodes} nodes + Redis (PostgreSQL store)", Nodes = nodes };
        await using var instance = await infrastructure.StartAsync(spec);
        var holders = new List<PeerProcess>();
        try
        {
            await Task.Delay(settle);
            var points = new List<IdlePoint> { new(0, instance.NodesResidentBytes()) };
            string? stopped = null;
            var held = 0;
            for (var node = 0; node < nodes && stopped is null; node++)
            {
                var count = Math.Min(share, target - (node * share));
                string[] arguments =
                [
                    typeof(HoldCommand).Assembly.Location, "hold", "--system", "chatkit",
                    "--port", instance.Ports[node].ToString(CultureInfo.InvariantCulture),
                    "--connections", count.ToString(CultureInfo.InvariantCulture),
                    "--first-user", (node * share).ToString(CultureInfo.InvariantCulture),
                ];
                var holder = await PeerProcess.StartAsync($"hold#{node + 1}", "dotnet", arguments, HoldCommand.ReadyText, TimeSpan.FromMinutes(5), infrastructure.Root);
                holders.Add(holder);
                var open = HoldCommand.Field(holder.ReadyLine, "open");
                var failed = HoldCommand.Field(holder.ReadyLine, "failed");
                held += open;
                await Task.Delay(settle);
                var rss = instance.NodesResidentBytes();
                points.Add(new IdlePoint(held, rss));
                Log.Progress(string.Create(CultureInfo.InvariantCulture, $"  {nodes} nodes: {held:N0} idle connections, RSS of the nodes {rss / 1024.0 / 1024.0:N0} MB ({holder.ReadyLine})"));
                stopped = failed > count / 100 ? $"{failed:N0} of {count:N0} refused on node {node + 1} ({holder.ReadyLine})"
                    : instance.AnyExited ? $"a node exited at {held:N0}"
                    : holders.Any(h => h.HasExited) ? $"connections were lost at {held:N0} (the holder's LOST line is above)"
                    : null;
            }

            var measured = points.Where(p => p.Connections > 0).ToList();
            var fit = measured.Count >= 2 ? measured : points;
            return new MachineIdleResult(nodes, target, OpenFilesLimit(), points, fit.Count >= 2 ? Slope(fit) : null, instance.NodeResidentBytes(), stopped);
        }
        finally
        {
            foreach (var holder in holders)
            {
                await holder.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// 10k, 20k, 40k and 100k idle connections as far as the open-file limit allows (each connection is a descriptor in
    /// the load generator and one in the server), and one step just under the limit when it stops the ramp early.
    /// </summary>
    private static List<int> DefaultIdleSteps(long openFiles)
    {
        var room = (int)Math.Min(int.MaxValue, openFiles - 1_000);
        var steps = IdleTargets.Where(s => s <= room).ToList();
        var last = room / 1_000 * 1_000;
        if ((steps.Count == 0 || steps[^1] < 100_000) && last > steps.LastOrDefault())
        {
            steps.Add(last);
        }

        if (steps.Count < 3 && room > 5_000)
        {
            // Three points at least for the slope.
            steps.Insert(0, 5_000);
        }

        return steps;
    }

    /// <summary>This process's soft limit of open files (the peers it starts inherit it).</summary>
    private static long OpenFilesLimit()
    {
        var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return soft is not null && long.TryParse(soft, CultureInfo.InvariantCulture, out var limit) ? limit : 1_024;
    }

    private static double Slope(List<IdlePoint> points)
    {
        var meanX = points.Average(p => (double)p.Connections);
        var meanY = points.Average(p => (double)p.ResidentBytes);
        var covariance = points.Sum(p => (p.Connections - meanX) * (p.ResidentBytes - meanY));
        var variance = points.Sum(p => (p.Connections - meanX) * (p.Connections - meanX));
        return variance == 0 ? 0 : covariance / variance;
    }

    private static void Save(CompareResults results, string path) => File.WriteAllText(path, JsonSerializer.Serialize(results, Json));
}
