using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ChatKit.Peers.Ceiling;

/// <summary>The command line: <c>--port P [--redis HOST:PORT]</c>.</summary>
internal sealed record PeerOptions(int Port, string? Redis)
{
    public const string Usage = "usage: ChatKit.Peers.Ceiling --port P [--redis HOST:PORT]";

    public static bool TryParse(IReadOnlyList<string> args, [NotNullWhen(true)] out PeerOptions? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        int? port = null;
        string? redis = null;
        for (var i = 0; i < args.Count; i += 2)
        {
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
                case "--redis":
                    redis = value;
                    break;
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

        options = new PeerOptions(port.Value, redis);
        error = null;
        return true;
    }
}
