using ChatKit.Storage.EfCore.Migrations;
using ChatKit.Storage.EfCore.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatKit.Storage.EfCore.Hosting;

/// <summary>Brings the schema up to date before the app serves anyone, when the host opted in.</summary>
internal sealed partial class SchemaMigrationService(
    IDbContextFactory<ChatKitDbContext> contexts,
    IOptions<EfCoreStorageOptions> options,
    TimeProvider time,
    ILogger<SchemaMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.ApplyMigrationsAtStart)
        {
            return;
        }

        try
        {
            var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (db.ConfigureAwait(false))
            {
                var applied = await ChatKitSchema.MigrateAsync(db, settings.Provider, time, cancellationToken).ConfigureAwait(false);
                LogMigrated(logger, settings.Provider, applied);
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"ChatKit could not prepare its {settings.Provider} database: {ex.Message} Check ChatKit:Storage:ConnectionString and that the database server is running.",
                ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "ChatKit {Provider} schema is up to date; steps applied now: {Steps}")]
    private static partial void LogMigrated(ILogger logger, EfCoreStorageProvider provider, IReadOnlyList<string> steps);
}
