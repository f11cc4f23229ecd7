using System.Diagnostics.Metrics;
using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Diagnostics;
using ChatKit.Model;

namespace ChatKit.Core.Tests.Engine;

/// <summary>The meter is static; this collection runs alone so no other test's sends are counted.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryTestGroup;

[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests
{
    [Fact(Timeout = 30_000)]
    public async Task Stored_messages_are_counted_on_the_ChatKit_meter_and_duplicates_are_not()
    {
        using var harness = new CoreHarness();
        var alice = new ChatUser("alice", "Alice");
        var room = await harness.Engine.CreateRoomAsync(alice, "metrics", null, null, encrypted: false, CancellationToken.None);
        long stored = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ChatKitTelemetry.Name && instrument.Name == "chatkit.messages.stored")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref stored, value));
        listener.Start();

        await harness.Engine.SendAsync(alice, room.Id, "a", "one", CancellationToken.None);
        await harness.Engine.SendAsync(alice, room.Id, "a", "one again", CancellationToken.None);
        await harness.Engine.SendAsync(alice, room.Id, "b", "two", CancellationToken.None);

        Assert.Equal(2, Interlocked.Read(ref stored));
    }
}
