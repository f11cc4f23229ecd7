using ChatKit.LoadGen.Load;

namespace ChatKit.LoadGen.Reporting;

/// <summary>Everything one <c>compare</c> measured, saved as JSON after each system so <c>report</c> can redo the docs.</summary>
internal sealed class CompareResults
{
    public string Machine { get; set; } = "";

    public string Command { get; set; } = "";

    public double Seconds { get; set; }

    public double Warmup { get; set; }

    /// <summary>The open-file limit of the run (load generator and peers), which bounds scenario C.</summary>
    public long OpenFiles { get; set; }

    public List<StepResult> Steps { get; set; } = [];

    public List<IdleResult> Idle { get; set; } = [];

    /// <summary>Scenario D, when it ran.</summary>
    public MachineIdleResult? MachineIdle { get; set; }

    /// <summary>Systems or phases that could not run, with why.</summary>
    public List<string> Failures { get; set; } = [];
}

/// <summary>Scenario C for one system: server memory (all its nodes' RSS) at each number of idle connections.</summary>
internal sealed record IdleResult(string System, List<IdlePoint> Points, double? BytesPerConnection, string? StoppedBecause);

internal sealed record IdlePoint(int Connections, long ResidentBytes);

/// <summary>
/// Scenario D: idle connections on the whole machine, ChatKit on <paramref name="Nodes"/> nodes (processes) because one
/// process may hold at most <paramref name="OpenFiles"/> descriptors; the nodes' RSS together after each node's share,
/// and each node's RSS at the end.
/// </summary>
internal sealed record MachineIdleResult(int Nodes, int Target, long OpenFiles, List<IdlePoint> Points, double? BytesPerConnection, List<long> NodeResidentBytes, string? StoppedBecause);
