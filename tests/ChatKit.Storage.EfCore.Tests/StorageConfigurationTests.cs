using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Storage.EfCore.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatKit.Storage.EfCore.Tests;

public sealed class StorageConfigurationTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_missing_connection_string_stops_the_app_at_start_saying_what_to_set()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ChatTestServer.StartAsync(chatKit: kit => kit.AddEfCoreStorage(o => o.CommandTimeout = TimeSpan.Zero)));

        Assert.Contains(error.Failures, f => f.Contains("ChatKit:Storage:ConnectionString", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ChatKit:Storage:CommandTimeout", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unreachable_database_at_start_fails_with_a_message_that_says_what_to_check()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ChatTestServer.StartAsync(chatKit: kit => kit.AddEfCoreStorage(o =>
            {
                o.Provider = EfCoreStorageProvider.PostgreSql;
                o.ConnectionString = "Host=127.0.0.1;Port=1;Username=chatkit;Database=chat;Timeout=2";
                o.ApplyMigrationsAtStart = true;
            })));

        Assert.Contains("PostgreSql database", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatKit:Storage:ConnectionString", error.Message, StringComparison.Ordinal);
    }
}
