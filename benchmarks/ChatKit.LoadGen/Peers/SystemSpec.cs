using ChatKit.LoadGen.Protocols;

namespace ChatKit.LoadGen.Peers;

/// <summary>
/// One line of the comparison: a peer, how many nodes of it, and what it needs around it. <paramref name="OneProcess"/>:
/// the nodes run in one process of the peer (listening on a port each) instead of a process each.
/// </summary>
internal sealed record SystemSpec(string Key, string Label, WireProtocol Protocol, int Nodes, bool NeedsRedis, bool NeedsPostgres, string Peer, bool OneProcess = false)
{
    private static readonly ChatKitProtocol ChatKit = new();
    private static readonly SignalRProtocol SignalR = new();
    private static readonly SocketIoProtocol SocketIo = new();
    private static readonly CeilingProtocol Ceiling = new();

    /// <summary>Every system, in the order of the tables.</summary>
    public static IReadOnlyList<SystemSpec> All { get; } =
    [
        new("chatkit", "ChatKit, 1 node", ChatKit, 1, false, false, "chatkit"),
        new("chatkit-2n", "ChatKit, 2 nodes + Redis (PostgreSQL store)", ChatKit, 2, true, true, "chatkit"),
        new("chatkit-2n-mem", "ChatKit, 2 nodes + Redis (one process, shared in-memory store)", ChatKit, 2, true, false, "chatkit", OneProcess: true),
        new("chatkit-durable", "ChatKit durable (Kafka mock + PostgreSQL)", ChatKit, 1, false, true, "chatkit"),
        new("signalr", "SignalR, 1 node", SignalR, 1, false, false, "signalr"),
        new("socketio", "Socket.IO, 1 node", SocketIo, 1, false, false, "socketio"),
        new("socketio-2n", "Socket.IO, 2 nodes + Redis", SocketIo, 2, true, false, "socketio"),
        new("ceiling", "Ceiling (raw Kestrel WebSocket)", Ceiling, 1, false, false, "ceiling"),
    ];

    public static SystemSpec Find(string key) =>
        All.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"Unknown system '{key}'; known: {string.Join(", ", All.Select(s => s.Key))}.");

    /// <summary>The command line of a process of the system listening on <paramref name="ports"/> (one port unless <see cref="OneProcess"/>).</summary>
    public (string File, List<string> Arguments) Command(string root, IReadOnlyList<int> ports, string? redis, string? postgres)
    {
        var portText = string.Join(',', ports.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        switch (Peer)
        {
            case "chatkit":
                var arguments = new List<string> { Path.Combine(root, "benchmarks/Peers/ChatKitPeer/bin/Release/net10.0/ChatKit.Peers.ChatKit.dll"), "--port", portText };
                if (redis is not null)
                {
                    arguments.AddRange(["--redis", redis]);
                }

                if (Key == "chatkit-durable")
                {
                    arguments.Add("--durable");
                }

                if (postgres is not null)
                {
                    arguments.AddRange(["--postgres", postgres]);
                }

                return ("dotnet", arguments);
            case "signalr":
                return ("dotnet", [Path.Combine(root, "benchmarks/Peers/SignalRPeer/bin/Release/net10.0/ChatKit.Peers.SignalR.dll"), "--port", portText]);
            case "ceiling":
                return ("dotnet", [Path.Combine(root, "benchmarks/Peers/CeilingPeer/bin/Release/net10.0/ChatKit.Peers.Ceiling.dll"), "--port", portText]);
            default:
                var node = new List<string> { Path.Combine(root, "benchmarks/Peers/SocketIoPeer/server.js"), "--port", portText };
                if (redis is not null)
                {
                    node.AddRange(["--redis", redis]);
                }

                return ("node", node);
        }
    }

    /// <summary>The file the peer runs from (a missing one means the peer is not built).</summary>
    public string Entry(string root) => Command(root, [1], null, null).Arguments[0];
}
