using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Peers;

namespace ChatKit.LoadGen;

/// <summary>
/// <c>smoke</c>: each system alone (started and stopped here, with its Redis and database), 20 connections in 4 rooms
/// of 5, 50 messages per second for a few seconds; then scenario D with 40 idle connections on 2 ChatKit nodes.
/// Correctness only: every message delivered once to every member, no refusal, no connection lost. No speed is asserted.
/// </summary>
internal static class SmokeCommand
{
    public static async Task<int> RunAsync(CommandOptions options, string root)
    {
        var systems = options.List("--systems", string.Join(',', SystemSpec.All.Select(s => s.Key))).Select(SystemSpec.Find).ToList();
        var seconds = TimeSpan.FromSeconds(options.Number("--seconds", 2));
        var layout = Scenarios.Layout("small");
        var failures = new List<string>();
        await using var infrastructure = new Infrastructure(root);
        foreach (var spec in systems)
        {
            Log.Progress($"smoke: {spec.Label}");
            try
            {
                await using var instance = await infrastructure.StartAsync(spec);
                await using var run = new LoadRun(spec.Key, spec.Protocol, instance.Ports, layout.Users, Log.Progress, layout);
                if (await run.ConnectAsync(layout.Users) > 0)
                {
                    failures.Add($"{spec.Key}: connections failed ({run.Session.FirstError})");
                    continue;
                }

                await run.SetupRoomsAsync(layout);
                await run.WaitQuietAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(20));
                var result = await run.RunStepAsync("smoke", layout, 50, TimeSpan.Zero, seconds);
                Log.Progress($"smoke: {spec.Key}: {result.Describe()}");
                if (result.Delivered != result.Expected || result.Duplicates > 0 || result.Errors > 0 || result.Closed > 0 || result.Expected == 0)
                {
                    failures.Add($"{spec.Key}: delivered {result.Delivered} of {result.Expected}, duplicates {result.Duplicates}, errors {result.Errors}, closed {result.Closed} ({result.FirstError})");
                }
                else
                {
                    Console.WriteLine($"smoke ok {spec.Key}: delivered {result.Delivered} of {result.Expected}");
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or System.Net.WebSockets.WebSocketException or System.Net.Http.HttpRequestException)
            {
                failures.Add($"{spec.Key}: {e.Message}");
            }
        }

        if (systems.Any(s => s.Key == "chatkit"))
        {
            // Scenario D in small: 2 ChatKit nodes on Redis and PostgreSQL, 20 idle connections each, held by 2 processes.
            Log.Progress("smoke: scenario D, 40 idle connections on 2 nodes");
            try
            {
                var machine = await CompareCommand.MachineIdleAsync(infrastructure, target: 40, perProcess: 20, TimeSpan.FromSeconds(1));
                var held = machine.Points.Max(p => p.Connections);
                if (machine.StoppedBecause is not null || held != 40)
                {
                    failures.Add($"scenario D: held {held} of 40 ({machine.StoppedBecause})");
                }
                else
                {
                    Console.WriteLine($"smoke ok scenario D: held {held} idle connections on {machine.Nodes} nodes");
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                failures.Add($"scenario D: {e.Message}");
            }
        }

        foreach (var failure in failures)
        {
            Console.Error.WriteLine($"smoke FAILED {failure}");
        }

        Log.Progress(failures.Count == 0 ? $"smoke: all {systems.Count} systems delivered every message" : $"smoke: {failures.Count} of {systems.Count} systems failed");
        return failures.Count == 0 ? 0 : 1;
    }
}
