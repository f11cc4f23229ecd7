using ChatKit.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatKit.Hosting;

/// <summary>Ends typing indicators whose time ran out, a few times per typing timeout.</summary>
internal sealed partial class TypingExpiryService(ChatEngine engine, IOptions<ChatKitOptions> options, TimeProvider time, ILogger<TypingExpiryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(options.Value.TypingTimeout.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await engine.ExpireTypingAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // A backplane hiccup must not stop the host; the indicators are retried on the next tick.
                LogExpiryFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Ending expired typing indicators failed; retrying on the next tick")]
    private static partial void LogExpiryFailed(ILogger logger, Exception exception);
}
