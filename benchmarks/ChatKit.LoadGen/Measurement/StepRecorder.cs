using System.Diagnostics;

namespace ChatKit.LoadGen.Measurement;

/// <summary>
/// What one load step received: how many times each message arrived (against how many members should get it) and
/// the latency of every delivery of the measured messages (those due after the warm-up). Thread-safe: every receive
/// loop records here.
/// </summary>
internal sealed class StepRecorder
{
    private readonly int[] _received;
    private readonly int[] _expected;
    private readonly int[] _senderNode;
    private readonly long _measuredFrom;
    private long _stray;
    private long _deliveries;

    public StepRecorder(int step, int messages, long measuredFrom)
    {
        Step = step;
        _received = new int[messages];
        _expected = new int[messages];
        _senderNode = new int[messages];
        _measuredFrom = measuredFrom;
    }

    public int Step { get; }

    public LatencyHistogram Latency { get; } = new();

    /// <summary>The deliveries of <see cref="Latency"/> that reached a member on another node than the sender's.</summary>
    public LatencyHistogram OtherNode { get; } = new();

    /// <summary>Deliveries of any message of this step, duplicates included.</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    /// <summary>Bodies of other steps (late arrivals of an earlier step) or that did not parse.</summary>
    public long Stray => Interlocked.Read(ref _stray);

    /// <summary>Called by the scheduler before message <paramref name="message"/> goes out from a connection to node <paramref name="senderNode"/>.</summary>
    public void Expect(long message, int members, int senderNode)
    {
        _senderNode[message] = senderNode;
        Volatile.Write(ref _expected[message], members);
    }

    /// <summary>Called by a receive loop of a connection to node <paramref name="node"/> with the bytes after a body marker.</summary>
    public void OnBody(ReadOnlySpan<byte> afterMarker, long now, int node)
    {
        if (!MessageBody.TryRead(afterMarker, out var step, out var message, out var due) || step != Step || (ulong)message >= (ulong)_received.Length)
        {
            Interlocked.Increment(ref _stray);
            return;
        }

        Interlocked.Increment(ref _received[message]);
        Interlocked.Increment(ref _deliveries);
        if (message >= _measuredFrom)
        {
            var microseconds = (now - due) * 1_000_000 / Stopwatch.Frequency;
            Latency.Record(microseconds);
            if (_senderNode[message] != node)
            {
                OtherNode.Record(microseconds);
            }
        }
    }

    /// <summary>Counts over the first <paramref name="sent"/> messages.</summary>
    public DeliveryCounts Count(long sent)
    {
        long expected = 0, delivered = 0, duplicates = 0, missing = 0, measuredDelivered = 0;
        for (var i = 0; i < sent; i++)
        {
            var want = _expected[i];
            var got = Volatile.Read(ref _received[i]);
            expected += want;
            delivered += Math.Min(want, got);
            duplicates += Math.Max(0, got - want);
            missing += Math.Max(0, want - got);
            if (i >= _measuredFrom)
            {
                measuredDelivered += Math.Min(want, got);
            }
        }

        return new DeliveryCounts(expected, delivered, duplicates, missing, measuredDelivered);
    }
}

/// <summary>Deliveries of a step: each message counts up to its room's size; more is a duplicate, less is missing.</summary>
internal readonly record struct DeliveryCounts(long Expected, long Delivered, long Duplicates, long Missing, long MeasuredDelivered);
