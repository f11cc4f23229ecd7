namespace ChatKit.LoadGen.Load;

/// <summary>
/// One load step of one system: offered load, latency from each message's due time, what arrived, and the CPU time the
/// system's processes used per delivery, from the step's first send to the end of its drain (null where not measured).
/// </summary>
internal sealed record StepResult(
    string System,
    string Scenario,
    double MessagesPerSecond,
    double Fanout,
    double OfferedDeliveriesPerSecond,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    long Expected,
    long Delivered,
    long Duplicates,
    long Missing,
    long Errors,
    long Closed,
    long Acks,
    string? FirstError,
    double? OtherNodeP50Ms = null,
    double? OtherNodeP99Ms = null,
    double? ServerCpuUsPerDelivery = null)
{
    /// <summary>The bar for "this load is carried": p99 under 50 ms, everything delivered once, nothing refused or closed.</summary>
    public bool Passed => P99Ms < 50 && Correct;

    /// <summary>Every message reached every member once, nothing was refused and no connection was lost (latency aside).</summary>
    public bool Correct => Missing == 0 && Duplicates == 0 && Errors == 0 && Closed == 0;

    public string Describe() =>
        FormattableString.Invariant($"{MessagesPerSecond,8:N0} msg/s = {OfferedDeliveriesPerSecond,10:N0} deliveries/s: p50 {P50Ms,7:F2} p90 {P90Ms,7:F2} p99 {P99Ms,7:F2} p99.9 {P999Ms,7:F2} max {MaxMs,8:F2} ms; delivered {Delivered:N0}/{Expected:N0}, duplicates {Duplicates}, missing {Missing}, errors {Errors}, closed {Closed}{(OtherNodeP99Ms is { } p99 ? FormattableString.Invariant($"; other node p50 {OtherNodeP50Ms:F2} p99 {p99:F2} ms") : "")}{(ServerCpuUsPerDelivery is { } cpu ? FormattableString.Invariant($"; server CPU {cpu:F1} µs per delivery") : "")} {(Passed ? "PASS" : "over")}{(FirstError is null ? "" : " (" + FirstError + ")")}");
}
