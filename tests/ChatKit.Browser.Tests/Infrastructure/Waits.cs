namespace ChatKit.Browser.Tests.Infrastructure;

/// <summary>How long the tests wait for the page: limits of auto-waiting, never sleeps.</summary>
internal static class Waits
{
    /// <summary>Something the page shows after a round trip to the server (two browsers and the server share 2 cores).</summary>
    public static readonly TimeSpan Ui = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The page coming back after the server does: its client waits up to 10 s between attempts (with backoff from
    /// 200 ms), so an outage of a few seconds can leave it waiting about as long again.
    /// </summary>
    public static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(30);

    public static float Ms(this TimeSpan wait) => (float)wait.TotalMilliseconds;
}
