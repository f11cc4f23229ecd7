using ChatKit.LoadGen.Peers;

namespace ChatKit.LoadGen;

/// <summary>What systems share during one command: the repository, and one PostgreSQL cluster started on first need.</summary>
internal sealed class Infrastructure(string root) : IAsyncDisposable
{
    private PostgresCluster? _postgres;

    public string Root { get; } = root;

    public Task<SystemInstance> StartAsync(SystemSpec spec) => SystemInstance.StartAsync(spec, Root, CreateDatabaseAsync);

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    private async Task<string> CreateDatabaseAsync()
    {
        _postgres ??= await PostgresCluster.StartAsync();
        return await _postgres.CreateDatabaseAsync();
    }
}
