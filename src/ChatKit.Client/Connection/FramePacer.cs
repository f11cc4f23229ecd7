namespace ChatKit.Client;

/// <summary>
/// Spreads a connection's frames to the rate the server announced, a token bucket like the server's own, so a burst of
/// requests waits on the client instead of being refused with <c>rate_limited</c>. Not thread safe: the connection
/// calls it under its send lock.
/// </summary>
internal sealed class FramePacer
{
    private readonly TimeProvider _time;
    private readonly double _ratePerSecond;
    private readonly double _capacity;
    private double _tokens;
    private long _lastTimestamp;

    /// <param name="time">The clock.</param>
    /// <param name="ratePerSecond">Frames per second on average.</param>
    /// <param name="burst">Frames at once.</param>
    /// <param name="alreadySent">Frames the server has already counted on this connection (the hello).</param>
    public FramePacer(TimeProvider time, int ratePerSecond, int burst, int alreadySent)
    {
        _time = time;

        // A tenth slower than announced: frames reach the server with jitter, and one arriving a hair early costs a
        // rate_limited round trip.
        _ratePerSecond = ratePerSecond * 0.9;
        _capacity = burst;
        _tokens = Math.Max(0, burst - alreadySent);
        _lastTimestamp = time.GetTimestamp();
    }

    /// <summary>Waits until the server would accept one more frame, and counts it.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        Refill();
        if (_tokens < 1)
        {
            await Task.Delay(TimeSpan.FromSeconds((1 - _tokens) / _ratePerSecond), _time, cancellationToken).ConfigureAwait(false);
            Refill();
        }

        _tokens -= 1;
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (_time.GetElapsedTime(_lastTimestamp, now).TotalSeconds * _ratePerSecond));
        _lastTimestamp = now;
    }
}
