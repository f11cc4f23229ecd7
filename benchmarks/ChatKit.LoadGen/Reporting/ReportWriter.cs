using System.Globalization;
using System.Text;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Peers;

namespace ChatKit.LoadGen.Reporting;

/// <summary>Writes the comparison's blocks of docs/benchmarks.md and its SVG plot from the results.</summary>
internal static class ReportWriter
{
    private static readonly (string Scenario, string Title)[] Loaded =
    [
        ("A", "A: 1 room of 1,000 members"),
        ("B", "B: 1,000 rooms of 10 members"),
    ];

    public static void Write(CompareResults results, string markdownPath, string svgPath)
    {
        var systems = SystemSpec.All.Where(s => results.Steps.Any(r => r.System == s.Key) || results.Idle.Any(i => i.System == s.Key)).ToList();
        var svgName = Path.GetFileName(svgPath);
        File.WriteAllText(svgPath, LatencyPlot.Render(results.Steps, systems.Select(s => (s.Key, s.Label)).ToList(), Loaded.Where(l => results.Steps.Any(r => r.Scenario == l.Scenario)).ToList()));

        var block = new StringBuilder();
        block.AppendLine(results.Machine);
        block.AppendLine(Inv($"Command: `{results.Command}`")).AppendLine();
        block.AppendLine(Inv($"""
            Every system runs as its own process(es) on 127.0.0.1, driven by one load generator (`benchmarks/ChatKit.LoadGen`) on the same 2 cores, which speaks each system's protocol over raw WebSockets with the same client code (one receive loop and buffer per connection, bodies found by a marker, sends serialized per connection); connections come from 127.0.0.2 and up. Open loop: message k of a step is due at k / rate whatever the replies, its body carries its due time (Stopwatch), and every member times it from then, the sender included (a send the schedule's thread made late, it wakes every ~1 ms, counts). Each step: {results.Warmup:G} s of warm-up then {results.Seconds:G} s measured, at doubling loads until one fails, then two bisections (on a log scale) between the last that passed and the first that failed, so the max is known to within about 19 %; a load that failed on latency alone is run a second time and fails only if both runs do (one stall of the shared cores does not end a ramp; both runs are in the step table). A load **passes** when p99 < 50 ms and every message reached every member exactly once with no refusal and no connection lost. "Max" is the highest offered fan-out deliveries/s that passed; p50 / p99 are measured at half of it (the first run at that load). ChatKit's peer raises ChatKit's per-connection rate limit (50 frames/s, bursts of 100) to 1,000,000: the senders of scenario B send up to tens of frames per second each, and those of scenario A hundreds. On 2 nodes every room has members on both (user i goes to node ⌊i / s⌋ mod 2, s being the distance between the user numbers of a room's members), and each message is sent on one node and received on both. ChatKit numbers messages in its store, so its nodes share one: the "PostgreSQL store" line runs each node as a process of its own on one PostgreSQL (fsync on); the "shared in-memory store" line runs both nodes (each its own Kestrel, engine and Redis connection) in one process on one in-memory store, which measures delivery and the backplane without a database, as issue 4's goal asks. The durable line is the Kafka message log on librdkafka's mock cluster (3 brokers inside the peer process) in front of PostgreSQL. SignalR runs as one node only (its Redis backplane needs StackExchange.Redis 2.x, which does not restore here).
            """)).AppendLine();

        block.AppendLine("| system | A: max deliveries/s | A: p50 / p99 at half | B: max deliveries/s | B: p50 / p99 at half |");
        block.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var system in systems.Where(s => results.Steps.Any(r => r.System == s.Key)))
        {
            var a = Summarize(results.Steps, system.Key, "A");
            var b = Summarize(results.Steps, system.Key, "B");
            block.AppendLine(Inv($"| {system.Label} | {a.MaxText} | {a.HalfText} | {b.MaxText} | {b.HalfText} |"));
        }

        block.AppendLine();
        var idle = results.Idle.ToDictionary(i => i.System, StringComparer.Ordinal);
        block.AppendLine("| ratio (max deliveries/s; memory: less is better) | A | B | memory per idle connection |");
        block.AppendLine("|---|---:|---:|---:|");
        foreach (var (mine, other, label) in new[]
        {
            ("chatkit", "signalr", "ChatKit / SignalR"),
            ("chatkit", "socketio", "ChatKit / Socket.IO"),
            ("chatkit", "ceiling", "ChatKit / ceiling"),
            ("chatkit-2n", "socketio-2n", "ChatKit 2 nodes / Socket.IO 2 nodes"),
        })
        {
            var memory = idle.TryGetValue(mine, out var m) && idle.TryGetValue(other, out var o) && m.BytesPerConnection is { } mb && o.BytesPerConnection is { } ob && ob > 0 ? Inv($"{mb / ob:F2}x") : "-";
            block.AppendLine(Inv($"| {label} | {Ratio(results.Steps, mine, other, "A")} | {Ratio(results.Steps, mine, other, "B")} | {memory} |"));
        }

        block.AppendLine();
        block.Append(CpuPerDelivery(results, systems));
        block.AppendLine(Inv($"![p99 latency against offered load, every system]({svgName})")).AppendLine();
        block.AppendLine(Goals(results, idle));
        foreach (var failure in results.Failures)
        {
            block.AppendLine(Inv($"- Did not run: {failure}"));
        }

        if (results.Failures.Count > 0)
        {
            block.AppendLine();
        }

        DocumentBlocks.Replace(markdownPath, "sidebyside", "Side by side: ChatKit, SignalR, Socket.IO and the ceiling", block.ToString());
        var nodes = systems.Where(s => s.Nodes > 1 && results.Steps.Any(r => r.System == s.Key)).ToList();
        if (nodes.Count > 0)
        {
            DocumentBlocks.Replace(markdownPath, "sidebyside-nodes", "Side by side: across nodes", AcrossNodes(results, nodes));
        }

        var steps = new StringBuilder();
        steps.AppendLine("Every step of the run above (latency in ms from the message's due time to its arrival at each member; deliveries counted per member).").AppendLine();
        steps.AppendLine("| system | scenario | msg/s | offered deliveries/s | p50 | p90 | p99 | p99.9 | max | other node p99 | server CPU µs per delivery | delivered / expected | dup | errors | closed | passed |");
        steps.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var system in systems)
        {
            foreach (var r in results.Steps.Where(r => r.System == system.Key).OrderBy(r => r.Scenario, StringComparer.Ordinal).ThenBy(r => r.MessagesPerSecond))
            {
                steps.AppendLine(Inv($"| {system.Label} | {r.Scenario} | {r.MessagesPerSecond:N0} | {r.OfferedDeliveriesPerSecond:N0} | {r.P50Ms:F2} | {r.P90Ms:F2} | {r.P99Ms:F2} | {r.P999Ms:F2} | {r.MaxMs:F2} | {(r.OtherNodeP99Ms is { } other ? Inv($"{other:F2}") : "-")} | {(r.ServerCpuUsPerDelivery is { } cpu ? Inv($"{cpu:F1}") : "-")} | {r.Delivered:N0} / {r.Expected:N0} | {r.Duplicates:N0} | {r.Errors:N0} | {r.Closed:N0} | {(r.Passed ? "yes" : "no")} |"));
            }
        }

        DocumentBlocks.Replace(markdownPath, "sidebyside-steps", "Side by side: every load step", steps.ToString());

        if (results.Idle.Count > 0 || results.MachineIdle is not null)
        {
            var memory = new StringBuilder();
            memory.AppendLine("Scenario C: idle connections (handshake done, no room, nothing sent; SignalR clients ping every 15 s and Socket.IO clients answer the server's pings, as their protocols require), opened in steps on one node. Memory is the node process's resident set (VmRSS in /proc/PID/status) a few seconds after each step; memory per connection is the slope of a least-squares line through the steps (the process's fixed memory falls out). A ramp stops where a step fails (more than 1 % of connections refused, or the node died).");
            memory.AppendLine(Inv($"The run's open-file limit was {results.OpenFiles:N0} per process (load generator and peers alike; every connection takes a descriptor on each side), so the steps stop below it{(results.OpenFiles < 101_000 ? ": 100,000 idle connections could not be tried on this machine (the hard limit cannot be raised in its container)" : "")}.")).AppendLine();
            memory.AppendLine("| system | RSS, no connections | " + string.Join(" | ", results.Idle.SelectMany(i => i.Points).Select(p => p.Connections).Where(c => c > 0).Distinct().Order().Select(c => Inv($"RSS at {c:N0}"))) + " | per connection (slope) | stopped |");
            var columns = results.Idle.SelectMany(i => i.Points).Select(p => p.Connections).Where(c => c > 0).Distinct().Order().ToList();
            memory.AppendLine("|---|---:|" + string.Concat(columns.Select(_ => "---:|")) + "---:|---|");
            foreach (var result in results.Idle)
            {
                var baseline = result.Points.FirstOrDefault(p => p.Connections == 0);
                var cells = columns.Select(c => result.Points.FirstOrDefault(p => p.Connections == c) is { } point ? Mb(point.ResidentBytes) : "-");
                var slope = result.BytesPerConnection is { } b ? Inv($"{b / 1024:F1} KB") : "-";
                memory.AppendLine(Inv($"| {SystemSpec.Find(result.System).Label} | {(baseline is null ? "-" : Mb(baseline.ResidentBytes))} | {string.Join(" | ", cells)} | {slope} | {result.StoppedBecause ?? "no"} |"));
            }

            if (results.MachineIdle is { } machine)
            {
                memory.AppendLine().AppendLine(MachineIdleTable(machine));
            }

            DocumentBlocks.Replace(markdownPath, "sidebyside-idle", "Side by side: idle connections and memory", memory.ToString());
        }
    }

    /// <summary>Scenario D: the nodes, the RSS of all of them after each node's share, and each node's at the end.</summary>
    private static string MachineIdleTable(MachineIdleResult machine)
    {
        var text = new StringBuilder();
        text.AppendLine(Inv($"Scenario D: {machine.Target:N0} idle connections on the machine. One process may hold at most {machine.OpenFiles:N0} open files here, so ChatKit runs as {machine.Nodes} nodes, each a process of its own, on one Redis backplane and one PostgreSQL store, as an app that scales out does; each node's share of the connections is opened (32 handshakes at a time) and held by a load generator process of its own, which reports any connection it loses. After each share: the resident sets of all the nodes together. Per connection is the slope of a least-squares line through the points with connections; each share takes one more node from no connection to its share, so it holds what a node's first connections cost besides the steady cost per connection that scenario C measures."));
        text.AppendLine();
        text.AppendLine("| idle connections | RSS of the nodes |");
        text.AppendLine("|---:|---:|");
        foreach (var point in machine.Points)
        {
            text.AppendLine(Inv($"| {point.Connections:N0} | {Mb(point.ResidentBytes)} |"));
        }

        text.AppendLine();
        text.Append(Inv($"Per connection (slope): {(machine.BytesPerConnection is { } b ? Inv($"{b / 1024:F1} KB") : "-")}. "));
        text.Append(Inv($"Each node's RSS at the end: {string.Join(", ", machine.NodeResidentBytes.Select(Mb))}. "));
        text.AppendLine(machine.StoppedBecause is null ? "Every connection was held to the end." : Inv($"Stopped: {machine.StoppedBecause}."));
        return text.ToString();
    }

    internal static (double? Max, string MaxText, string HalfText) Summarize(IReadOnlyList<StepResult> steps, string system, string scenario)
    {
        var mine = steps.Where(r => r.System == system && r.Scenario == scenario).ToList();
        if (mine.Count == 0)
        {
            return (null, "-", "-");
        }

        var best = mine.Where(r => r.Passed).MaxBy(r => r.MessagesPerSecond);
        if (best is null)
        {
            var lowest = mine.MinBy(r => r.MessagesPerSecond)!;
            return (null, Inv($"none (at {lowest.OfferedDeliveriesPerSecond:N0}: p99 {lowest.P99Ms:F1} ms)"), "-");
        }

        var half = mine.FirstOrDefault(r => Math.Abs(r.MessagesPerSecond - (best.MessagesPerSecond / 2)) < 0.01);
        return (best.OfferedDeliveriesPerSecond, Inv($"{best.OfferedDeliveriesPerSecond:N0}"), half is null ? "-" : Inv($"{half.P50Ms:F2} / {half.P99Ms:F2} ms"));
    }

    /// <summary>
    /// CPU time the servers spent per delivery at the loads that every one-node system but the durable line ran in a
    /// scenario: the same work offered to each, so unlike the max it does not turn on where one stall of the shared
    /// cores pushed a p99 over 50 ms.
    /// </summary>
    private static string CpuPerDelivery(CompareResults results, List<SystemSpec> systems)
    {
        var text = new StringBuilder();
        var single = systems.Where(s => s.Nodes == 1 && results.Steps.Any(r => r.System == s.Key && r.ServerCpuUsPerDelivery is not null)).ToList();
        foreach (var (scenario, title) in Loaded)
        {
            // The durable line carries far less than the others; it gets its cells where it ran, not a say in the columns.
            var loads = single.Where(s => !s.NeedsPostgres)
                .Select(s => results.Steps.Where(r => r.System == s.Key && r.Scenario == scenario && r.ServerCpuUsPerDelivery is not null).Select(r => r.OfferedDeliveriesPerSecond).ToHashSet())
                .Aggregate((HashSet<double>?)null, (common, mine) => common is null ? mine : [.. common.Intersect(mine)]);
            if (loads is not { Count: > 0 } || single.Count < 2)
            {
                continue;
            }

            var columns = loads.Order().ToList();
            text.AppendLine(Inv($"Server CPU per delivery in {title} (µs of CPU time of the system's processes, user and kernel, from a step's first send to the end of its drain, divided by the deliveries), at the loads every one-node system ran (the durable line where it ran them):")).AppendLine();
            text.AppendLine("| system | " + string.Join(" | ", columns.Select(c => Inv($"{c:N0}/s"))) + " |");
            text.AppendLine("|---|" + string.Concat(columns.Select(_ => "---:|")));
            foreach (var system in single)
            {
                var cells = columns.Select(c => results.Steps.FirstOrDefault(r => r.System == system.Key && r.Scenario == scenario && r.OfferedDeliveriesPerSecond == c)?.ServerCpuUsPerDelivery is { } cpu ? Inv($"{cpu:F1}") : "-");
                text.AppendLine(Inv($"| {system.Label} | {string.Join(" | ", cells)} |"));
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    /// <summary>The systems of several nodes: capacity, and latency at half of it for every member and for the members on another node than the sender's.</summary>
    private static string AcrossNodes(CompareResults results, List<SystemSpec> systems)
    {
        var text = new StringBuilder();
        text.AppendLine("The systems of two nodes from the run above. \"Other node\" counts only the deliveries to members connected to the other node than the sender's, which crossed Redis; \"all\" counts every member's.").AppendLine();
        text.AppendLine("| system | scenario | max deliveries/s | at half: all p50 / p99 | at half: other node p50 / p99 |");
        text.AppendLine("|---|---|---:|---:|---:|");
        var goal = new List<string>();
        foreach (var system in systems)
        {
            foreach (var (scenario, _) in Loaded)
            {
                var mine = results.Steps.Where(r => r.System == system.Key && r.Scenario == scenario).ToList();
                if (mine.Count == 0)
                {
                    continue;
                }

                var summary = Summarize(results.Steps, system.Key, scenario);
                var best = mine.Where(r => r.Passed).MaxBy(r => r.MessagesPerSecond);
                var half = best is null ? null : mine.FirstOrDefault(r => Math.Abs(r.MessagesPerSecond - (best.MessagesPerSecond / 2)) < 0.01);
                var other = half?.OtherNodeP99Ms is { } p99 ? Inv($"{half.OtherNodeP50Ms:F2} / {p99:F2} ms") : "-";
                text.AppendLine(Inv($"| {system.Label} | {scenario} | {summary.MaxText} | {summary.HalfText} | {other} |"));
                if (system.Peer == "chatkit" && half?.OtherNodeP99Ms is { } crossed)
                {
                    goal.Add(Inv($"{system.Label}, {scenario}: {crossed:F2} ms ({(crossed < 10 ? "met" : "not met")})"));
                }
            }
        }

        text.AppendLine();
        text.AppendLine(goal.Count == 0
            ? "Goal of issue 4 (p99 under 10 ms to the other node at half of the capacity): not measured."
            : "Goal of issue 4 (p99 under 10 ms to the other node at half of the capacity): " + string.Join("; ", goal) + ".");
        return text.ToString();
    }

    private static string Ratio(IReadOnlyList<StepResult> steps, string mine, string other, string scenario) =>
        Summarize(steps, mine, scenario).Max is { } m && Summarize(steps, other, scenario).Max is { } o && o > 0 ? Inv($"{m / o:F2}x") : "-";

    private static string Goals(CompareResults results, Dictionary<string, IdleResult> idle)
    {
        var lines = new StringBuilder();
        lines.AppendLine("Goals of issue 8 (measured, not asserted), in scenario B (A in brackets):");
        lines.AppendLine();
        string Against(string other, double goal)
        {
            var b = Summarize(results.Steps, "chatkit", "B").Max is { } cb && Summarize(results.Steps, other, "B").Max is { } ob && ob > 0 ? cb / ob : (double?)null;
            var a = Summarize(results.Steps, "chatkit", "A").Max is { } ca && Summarize(results.Steps, other, "A").Max is { } oa && oa > 0 ? ca / oa : (double?)null;
            return b is null ? "not measured" : Inv($"{b:F2}x ({(a is null ? "-" : Inv($"{a:F2}x"))}): {(b >= goal ? "met" : "not met")}");
        }

        lines.AppendLine(Inv($"- fan-out ≥ 1.5x SignalR: {Against("signalr", 1.5)}"));
        lines.AppendLine(Inv($"- fan-out ≥ 3x Socket.IO: {Against("socketio", 3)}"));
        lines.AppendLine(Inv($"- fan-out ≥ 80 % of the ceiling: {Against("ceiling", 0.8)}"));
        var half = results.Steps.Where(r => r.System == "chatkit" && r.Scenario == "B").ToList();
        var best = half.Where(r => r.Passed).MaxBy(r => r.MessagesPerSecond);
        var atHalf = best is null ? null : half.FirstOrDefault(r => Math.Abs(r.MessagesPerSecond - (best.MessagesPerSecond / 2)) < 0.01);
        lines.AppendLine(atHalf is null ? "- p99 < 5 ms on one node at half capacity: not measured" : Inv($"- p99 < 5 ms on one node at half capacity: {atHalf.P99Ms:F2} ms: {(atHalf.P99Ms < 5 ? "met" : "not met")}"));
        if (idle.TryGetValue("chatkit", out var memory) && memory.BytesPerConnection is { } bytes)
        {
            var most = memory.Points.Max(p => p.Connections);
            lines.AppendLine(Inv($"- ≤ 10 KB server memory per idle connection: {bytes / 1024:F1} KB: {(bytes <= 10 * 1024 ? "met" : "not met")}"));
            if (results.MachineIdle is null)
            {
                var limited = most < 100_000 && results.OpenFiles < 101_000 ? Inv($" (the open-file limit of {results.OpenFiles:N0} per process stopped the ramp)") : string.Empty;
                lines.AppendLine(Inv($"- 100,000 idle connections: {most:N0} on one node{limited}: {(most >= 100_000 ? "met" : "not met")}"));
            }
        }

        if (results.MachineIdle is { } machine)
        {
            var held = machine.StoppedBecause is null ? machine.Points.Max(p => p.Connections) : 0;
            lines.AppendLine(Inv($"- 100,000 idle connections: {(machine.StoppedBecause is null ? Inv($"{held:N0} held to the end") : "stopped: " + machine.StoppedBecause)} on {machine.Nodes} nodes (processes; one may hold at most {machine.OpenFiles:N0} open files here), {Mb(machine.Points[^1].ResidentBytes)} for all of them: {(held >= 100_000 ? "met" : "not met")}"));
        }

        return lines.ToString();
    }

    private static string Mb(long bytes) => Inv($"{bytes / 1024.0 / 1024.0:N0} MB");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
