using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Peers;

namespace ChatKit.LoadGen;

/// <summary><c>run</c>: one system, one scenario, the given offered loads, each step printed.</summary>
internal static class RunCommand
{
    public static async Task<int> RunAsync(CommandOptions options, string root)
    {
        var spec = SystemSpec.Find(options.Get("--system") ?? throw new UsageException("run needs --system."));
        var scenario = options.Get("--scenario") ?? "B";
        var layout = Scenarios.Layout(scenario);
        var rates = options.List("--rates", "100").Select(r => double.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var seconds = TimeSpan.FromSeconds(options.Number("--seconds", 5));
        var warmup = TimeSpan.FromSeconds(options.Number("--warmup", 1));
        var given = options.Get("--ports");
        await using var infrastructure = new Infrastructure(root);
        await using var instance = given is null ? await infrastructure.StartAsync(spec) : null;
        var ports = given is null ? instance!.Ports : given.Split(',').Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Log.Progress($"{spec.Label}: {layout.Name} on port(s) {string.Join(',', ports)}");
        await using var run = new LoadRun(spec.Key, spec.Protocol, ports, layout.Users, Log.Progress, layout, instance is null ? null : instance.ServerCpuTime);
        if (await run.ConnectAsync(layout.Users) > 0)
        {
            return 1;
        }

        await run.SetupRoomsAsync(layout);
        await run.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var failed = false;
        foreach (var rate in rates)
        {
            var result = await run.RunStepAsync(scenario, layout, rate, warmup, seconds);
            Log.Progress($"{spec.Key} {scenario}: {result.Describe()}");
            failed |= !result.Passed;
            await run.WaitQuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        }

        return failed ? 1 : 0;
    }
}
