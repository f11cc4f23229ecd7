namespace ChatKit.Sessions;

/// <summary>A token bucket on a <see cref="TimeProvider"/>: <c>burst</c> tokens at most, refilled at <c>ratePerSecond</c>. Not thread safe.</summary>
internal sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly double _ratePerSecond;
    private readonly double _capacity;
    private double _tokens;
    private long _lastTimestamp;

    public TokenBucket(TimeProvider time, int ratePerSecond, int burst)
    {
        _time = time;
        _ratePerSecond = ratePerSecond;
        _capacity = burst;
        _tokens = burst;
        _lastTimestamp = time.GetTimestamp();
    }

    /// <summary>Takes a token if one is there; otherwise says how long until one is.</summary>
    public bool TryTake(out TimeSpan retryAfter)
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (_time.GetElapsedTime(_lastTimestamp, now).TotalSeconds * _ratePerSecond));
        _lastTimestamp = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            retryAfter = TimeSpan.Zero;
            return true;
        }

        retryAfter = TimeSpan.FromSeconds((1 - _tokens) / _ratePerSecond);
        return false;
    }
}
