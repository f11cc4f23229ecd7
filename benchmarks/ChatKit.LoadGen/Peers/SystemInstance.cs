using System.Globalization;

namespace ChatKit.LoadGen.Peers;

/// <summary>A running system: its nodes, and the redis-server and database it needs. Disposing stops them all.</summary>
internal sealed class SystemInstance : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly List<PeerProcess> _nodes = [];
    private PeerProcess? _redis;

    private SystemInstance(SystemSpec spec) => Spec = spec;

    public SystemSpec Spec { get; }

    public List<int> Ports { get; } = [];

    public bool AnyExited => _nodes.Any(n => n.HasExited);

    /// <summary>Starts the system; <paramref name="postgres"/> gives a fresh database when the system needs one.</summary>
    public static async Task<SystemInstance> StartAsync(SystemSpec spec, string root, Func<Task<string>> postgres)
    {
        var entry = spec.Entry(root);
        if (!File.Exists(entry))
        {
            throw new FileNotFoundException($"{spec.Label}: {entry} is missing (not built: scripts/compare.sh builds every peer).", entry);
        }

        var instance = new SystemInstance(spec);
        try
        {
            string? redis = null;
            if (spec.NeedsRedis)
            {
                var port = Peers.Ports.Free();
                instance._redis = await PeerProcess.StartAsync("redis", "redis-server",
                    ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--maxclients", "10000"],
                    "Ready to accept connections", StartTimeout, echo: false);
                redis = $"127.0.0.1:{port}";
            }

            var database = spec.NeedsPostgres ? await postgres() : null;
            var processes = spec.OneProcess ? 1 : spec.Nodes;
            for (var n = 0; n < processes; n++)
            {
                var ports = new List<int>();
                while (ports.Count < spec.Nodes / processes)
                {
                    var port = Peers.Ports.Free();
                    if (!ports.Contains(port) && !instance.Ports.Contains(port))
                    {
                        ports.Add(port);
                    }
                }

                var (file, arguments) = spec.Command(root, ports, redis, database);
                var workingDirectory = spec.Peer == "socketio" ? Path.GetDirectoryName(entry) : root;
                instance._nodes.Add(await PeerProcess.StartAsync($"{spec.Key}#{n + 1}", file, arguments, $"READY {ports[0]}", StartTimeout, workingDirectory));
                instance.Ports.AddRange(ports);
            }

            return instance;
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }
    }

    /// <summary>CPU time used so far by the system's nodes and its redis-server (PostgreSQL, shared by the run, not counted).</summary>
    public TimeSpan ServerCpuTime() => _nodes.Aggregate(_redis?.CpuTime() ?? TimeSpan.Zero, (sum, node) => sum + node.CpuTime());

    /// <summary>Resident memory of the system's nodes together (Redis and PostgreSQL not counted).</summary>
    public long NodesResidentBytes() => _nodes.Sum(n => n.ResidentBytes());

    /// <summary>Resident memory of each node process.</summary>
    public List<long> NodeResidentBytes() => _nodes.Select(n => n.ResidentBytes()).ToList();

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
