namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>One redis-server for the test run; tests keep apart through their own channel prefix.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    public string ConnectionString => _server!.ConnectionString;

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisGroup : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
