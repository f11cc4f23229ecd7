using System.Buffers;
using System.Text;
using ChatKit.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ChatKit.AspNetCore.WebSockets;

/// <summary>
/// The head of an HTTP/1.1 request that asks for a ChatKit WebSocket at one of the given paths, read by the direct
/// listener (<see cref="DirectConnectionMiddleware"/>) straight off a connection. Only a plain, well-formed handshake
/// is taken: anything unusual (another method or path, an obsolete line folding, a body, a missing or malformed
/// WebSocket header, no <c>chatkit.v1</c> offered) is <see cref="HeadOutcome.NotTaken"/>, and Kestrel's HTTP
/// stack then answers it exactly as it answers every request.
/// </summary>
internal sealed class UpgradeRequest
{
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>
    /// The longest request line waited for (Kestrel's default limit): a longer one goes to HTTP, which answers it. An
    /// access token in the query string (browsers cannot send headers with a WebSocket) fits well within it.
    /// </summary>
    private const int MaxRequestLine = 8 * 1024;

    private static readonly SearchValues<char> TokenChars = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private UpgradeRequest(int route, string path, string rawQuery, HeaderDictionary headers, string key, int headLength)
    {
        Route = route;
        Path = path;
        RawQuery = rawQuery;
        Headers = headers;
        Key = key;
        HeadLength = headLength;
    }

    /// <summary>The index of the path asked for that the request names.</summary>
    public int Route { get; }

    /// <summary>The request path as sent: that path, maybe in other case or with a trailing slash.</summary>
    public string Path { get; }

    /// <summary>The query string with its <c>?</c>, or empty.</summary>
    public string RawQuery { get; }

    public HeaderDictionary Headers { get; }

    /// <summary>The client's <c>Sec-WebSocket-Key</c>.</summary>
    public string Key { get; }

    /// <summary>Bytes of the head, its closing empty line included; WebSocket frames may follow it.</summary>
    public int HeadLength { get; }

    /// <summary>
    /// Reads a request head from the start of <paramref name="buffer"/>. <see cref="HeadOutcome.Incomplete"/> while the
    /// head could still become one to take and has not ended within <paramref name="maxHeadBytes"/>. Called again as
    /// more bytes arrive, with the same <paramref name="progress"/>, it looks at each byte only once, so a head sent a
    /// byte at a time costs no more than one sent whole.
    /// </summary>
    public static HeadOutcome TryRead(ReadOnlySequence<byte> buffer, IReadOnlyList<string> paths, int maxHeadBytes, ref HeadProgress progress, out UpgradeRequest? request)
    {
        request = null;
        if (!progress.RequestLineAccepted)
        {
            switch (ReadRequestLineSoFar(buffer, paths, ref progress))
            {
                case HeadOutcome.NotTaken:
                    return HeadOutcome.NotTaken;
                case HeadOutcome.Taken:
                    progress.RequestLineAccepted = true;
                    break;
            }
        }

        // The end of the head may straddle the end of the last search: start three bytes before it.
        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(Math.Max(0, progress.HeadSearched - (HeadEnd.Length - 1)));
        if (!reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd, advancePastDelimiter: true))
        {
            progress.HeadSearched = buffer.Length;
            return buffer.Length > maxHeadBytes ? HeadOutcome.NotTaken : HeadOutcome.Incomplete;
        }

        if (reader.Consumed > maxHeadBytes)
        {
            return HeadOutcome.NotTaken;
        }

        request = Parse(Encoding.Latin1.GetString(buffer.Slice(0, reader.Consumed - HeadEnd.Length)), paths, (int)reader.Consumed);
        return request is null ? HeadOutcome.NotTaken : HeadOutcome.Taken;
    }

    /// <summary>
    /// Taken once the request line has ended and is <c>GET</c> of one of the paths, not taken as soon as the bytes so
    /// far show it is not, and incomplete until then.
    /// </summary>
    private static HeadOutcome ReadRequestLineSoFar(ReadOnlySequence<byte> buffer, IReadOnlyList<string> paths, ref HeadProgress progress)
    {
        var get = "GET /"u8;
        Span<byte> prefix = stackalloc byte[get.Length];
        prefix = prefix[..(int)Math.Min(buffer.Length, get.Length)];
        buffer.Slice(0, prefix.Length).CopyTo(prefix);
        if (!get.StartsWith(prefix))
        {
            return HeadOutcome.NotTaken;
        }

        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(Math.Max(0, progress.LineSearched - 1));
        if (!reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n"u8, advancePastDelimiter: false))
        {
            progress.LineSearched = buffer.Length;
            return buffer.Length > MaxRequestLine ? HeadOutcome.NotTaken : HeadOutcome.Incomplete;
        }

        return ReadRequestLine(Encoding.Latin1.GetString(buffer.Slice(0, reader.Consumed)), paths) is null ? HeadOutcome.NotTaken : HeadOutcome.Taken;
    }

    private static UpgradeRequest? Parse(string head, IReadOnlyList<string> paths, int headLength)
    {
        var lines = head.Split("\r\n");
        if (ReadRequestLine(lines[0], paths) is not var (route, path, query))
        {
            return null;
        }

        var headers = new HeaderDictionary();
        for (var i = 1; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || lines[i].AsSpan(0, colon).ContainsAnyExcept(TokenChars) || lines[i].AsSpan().ContainsAny('\0', '\n', '\r'))
            {
                // Not a header line (an obsolete folded line starts with a space): HTTP answers it with its 400.
                return null;
            }

            headers.Append(lines[i][..colon], lines[i][(colon + 1)..].Trim(' ', '\t'));
        }

        if (headers[HeaderNames.Host] is not [{ Length: > 0 }]
            || headers.ContainsKey(HeaderNames.ContentLength) || headers.ContainsKey(HeaderNames.TransferEncoding)
            || !HasToken(headers[HeaderNames.Connection], "upgrade", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(headers[HeaderNames.Upgrade], "websocket", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(headers[HeaderNames.SecWebSocketVersion], "13", StringComparison.Ordinal)
            || !HasToken(headers[HeaderNames.SecWebSocketProtocol], ChatProtocol.Subprotocol, StringComparison.Ordinal)
            || headers[HeaderNames.SecWebSocketKey] is not [{ } key] || !IsWebSocketKey(key))
        {
            return null;
        }

        return new UpgradeRequest(route, path, query, headers, key, headLength);
    }

    /// <summary>
    /// The index in <paramref name="paths"/> of the path of <c>GET {target} HTTP/1.1</c>, the path as sent and the
    /// query; null for another request line.
    /// </summary>
    private static (int Route, string Path, string Query)? ReadRequestLine(string line, IReadOnlyList<string> paths)
    {
        if (line.Split(' ') is not ["GET", ['/', ..] target, "HTTP/1.1"])
        {
            return null;
        }

        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? target : target[..queryStart];
        var route = RouteOf(path, paths);
        return route < 0 ? null : (route, path, queryStart < 0 ? string.Empty : target[queryStart..]);
    }

    /// <summary>
    /// The index of <paramref name="requested"/> in <paramref name="paths"/>, ignoring case and a trailing slash as
    /// routing does, or -1. An encoded or dot-segment spelling of a path does not match: HTTP handles it.
    /// </summary>
    private static int RouteOf(string requested, IReadOnlyList<string> paths)
    {
        var trimmed = requested.Length > 1 && requested[^1] == '/' ? requested[..^1] : requested;
        for (var i = 0; i < paths.Count; i++)
        {
            if (string.Equals(paths[i], trimmed, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool HasToken(StringValues values, string token, StringComparison comparison) =>
        values.Any(v => v is not null && v.Split(',').Any(t => string.Equals(t.Trim(' ', '\t'), token, comparison)));

    /// <summary>RFC 6455 4.2.1: the key is 16 bytes in base64.</summary>
    private static bool IsWebSocketKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }
}
