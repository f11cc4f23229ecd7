using ChatKit.Sessions;
using ChatKit.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatKit.AspNetCore.Health;

/// <summary>Healthy while the store answers; reports this node's open connections.</summary>
internal sealed class ChatKitHealthCheck(IChatStore store, ConnectionRegistry registry) : IHealthCheck
{
    private const string ProbeRoom = "health-probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["connections"] = registry.Count };
        try
        {
            await store.GetLatestSequenceAsync(ProbeRoom, cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy("The chat store answers.", data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The chat store does not answer.", ex, data);
        }
    }
}
