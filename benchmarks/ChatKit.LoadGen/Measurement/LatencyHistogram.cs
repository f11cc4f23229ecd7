using System.Numerics;

namespace ChatKit.LoadGen.Measurement;

/// <summary>
/// Latencies in microseconds, in log-linear buckets: exact below 256 µs, then 128 buckets per power of two (under
/// 0.8 % error). Recording is lock-free (one interlocked increment), so every receive loop records into the same
/// histogram; histograms of several runs merge by adding their counts.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 7;
    private const int SubCount = 1 << SubBits;
    private const int BucketCount = (64 - SubBits) * SubCount + 2 * SubCount;
    private readonly long[] _counts = new long[BucketCount];
    private long _max;
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public long MaxMicroseconds => Interlocked.Read(ref _max);

    public void Record(long microseconds)
    {
        var value = Math.Max(0, microseconds);
        Interlocked.Increment(ref _counts[IndexOf(value)]);
        Interlocked.Increment(ref _total);
        var max = Interlocked.Read(ref _max);
        while (value > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        _total += other._total;
        _max = Math.Max(_max, other._max);
    }

    /// <summary>The value at quantile <paramref name="q"/> (0 to 1) in microseconds: the middle of its bucket, never above the maximum.</summary>
    public double ValueAt(double q)
    {
        var total = Count;
        if (total == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(q * total);
        rank = Math.Clamp(rank, 1, total);
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                var (low, high) = BoundsOf(i);
                return Math.Min((low + high) / 2.0, MaxMicroseconds);
            }
        }

        return MaxMicroseconds;
    }

    internal static int IndexOf(long value)
    {
        if (value < 2 * SubCount)
        {
            return (int)value;
        }

        var magnitude = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = magnitude - SubBits;
        return (shift * SubCount) + (int)(value >> shift);
    }

    internal static (long Low, long High) BoundsOf(int index)
    {
        if (index < 2 * SubCount)
        {
            return (index, index);
        }

        var shift = (index / SubCount) - 1;
        var sub = (index % SubCount) + SubCount;
        var low = (long)sub << shift;
        return (low, low + (1L << shift) - 1);
    }
}
