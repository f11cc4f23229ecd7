using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ChatKit.Diagnostics;

/// <summary>
/// ChatKit's metrics (a <see cref="Meter"/>) and traces (an <see cref="ActivitySource"/>), both named <c>ChatKit</c>.
/// Listen with OpenTelemetry (<c>AddMeter("ChatKit")</c>, <c>AddSource("ChatKit")</c>) or dotnet-counters.
/// </summary>
public static class ChatKitTelemetry
{
    /// <summary>The name of the meter and the activity source.</summary>
    public const string Name = "ChatKit";

    /// <summary>The traces: one activity per request a connection sends.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly UpDownCounter<long> Connections =
        Meter.CreateUpDownCounter<long>("chatkit.connections", "{connection}", "Open connections on this node.");

    internal static readonly Counter<long> MessagesStored =
        Meter.CreateCounter<long>("chatkit.messages.stored", "{message}", "Messages stored (duplicates not counted).");

    internal static readonly Counter<long> FramesSent =
        Meter.CreateCounter<long>("chatkit.frames.sent", "{frame}", "Frames written to connections.");

    internal static readonly Counter<long> Errors =
        Meter.CreateCounter<long>("chatkit.errors", "{error}", "Error frames sent, by error code.");

    internal static readonly Counter<long> OutboundOverflows =
        Meter.CreateCounter<long>("chatkit.outbound.overflows", "{connection}", "Connections closed because they read too slowly.");

    internal static readonly Histogram<double> SendDuration =
        Meter.CreateHistogram<double>("chatkit.send.duration", "ms", "Time from receiving a send to acknowledging it.");
}
