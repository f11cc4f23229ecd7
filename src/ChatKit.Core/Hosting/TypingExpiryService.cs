using ChatKit.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatKit.Hosting;

/// <summary>Ends typing indicators whose time ran out, a few times per typing timeout.</summary>
internal sealed class TypingExpiryService(ChatEngine engine, IOptions<ChatKitOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(options.Value.TypingTimeout.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await engine.ExpireTypingAsync(stoppingToken).ConfigureAwait(false);
        }
    }
}
