using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ChatKit.Peers.SignalR;

/// <summary>The command line: <c>--port P</c>. <c>--redis</c> is refused with the reason.</summary>
internal sealed record PeerOptions(int Port)
{
    public const string Usage = "usage: ChatKit.Peers.SignalR --port P";

    public const string NoRedis =
        "--redis is not supported by the SignalR peer: its backplane, Microsoft.AspNetCore.SignalR.StackExchangeRedis, "
        + "is not in this machine's package registry (NU1101), and the StackExchange.Redis 2.x it needs does not restore "
        + "here either (Pipelines.Sockets.Unofficial and System.IO.Hashing are missing). Run it as a single node.";

    public static bool TryParse(IReadOnlyList<string> args, [NotNullWhen(true)] out PeerOptions? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        int? port = null;
        for (var i = 0; i < args.Count; i += 2)
        {
            if (string.Equals(args[i], "--redis", StringComparison.Ordinal))
            {
                error = NoRedis;
                return false;
            }

            if (i + 1 >= args.Count)
            {
                error = $"{args[i]} needs a value.";
                return false;
            }

            var value = args[i + 1];
            switch (args[i])
            {
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535:
                    port = p;
                    break;
                case "--port":
                    error = $"--port must be a TCP port (1-65535), not '{value}'.";
                    return false;
                default:
                    error = $"Unknown argument '{args[i]}'.";
                    return false;
            }
        }

        if (port is null)
        {
            error = "--port is required.";
            return false;
        }

        options = new PeerOptions(port.Value);
        error = null;
        return true;
    }
}
