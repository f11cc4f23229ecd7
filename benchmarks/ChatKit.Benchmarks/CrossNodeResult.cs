namespace ChatKit.Benchmarks;

/// <summary>One cross-node scenario: its capacity, and the latency from send to receive at fractions of it.</summary>
internal sealed record CrossNodeResult(string Scenario, double CapacityDeliveriesPerSecond, double CapacityMessagesPerSecond, IReadOnlyList<LoadPoint> Loads);

/// <summary>Sends paced at <paramref name="Load"/> of the capacity: what was offered, delivered, and how long it took to each node.</summary>
internal sealed record LoadPoint(double Load, double MessagesPerSecond, double DeliveriesPerSecond, Latency Remote, Latency Local);

/// <summary>Send-to-receive percentiles in milliseconds over <paramref name="Samples"/> deliveries.</summary>
internal sealed record Latency(double P50Ms, double P99Ms, int Samples)
{
    public static Latency Of(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToList();
        return sorted.Count == 0 ? new Latency(0, 0, 0) : new Latency(At(0.50), At(0.99), sorted.Count);

        double At(double p) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];
    }
}
