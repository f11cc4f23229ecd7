using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A plain TCP connection to a test server, for what ClientWebSocket and HttpClient never send: a handshake cut into
/// single bytes, frames in the same packet as the handshake, a head over the limits, a head that never ends.
/// </summary>
internal sealed class RawConnection : IAsyncDisposable
{
    /// <summary>The key of RFC 6455's example handshake (section 1.3), whose accept value is known.</summary>
    public const string ExampleKey = "dGhlIHNhbXBsZSBub25jZQ==";

    /// <summary>RFC 6455's accept value for <see cref="ExampleKey"/>.</summary>
    public const string ExampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];

    private RawConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static Task<RawConnection> OpenAsync(ChatTestServer server) => OpenAsync(server.HttpUri);

    public static async Task<RawConnection> OpenAsync(Uri httpUri)
    {
        var client = new TcpClient();
        await client.ConnectAsync(httpUri.Host, httpUri.Port);
        return new RawConnection(client);
    }

    /// <summary>A ChatKit WebSocket handshake for <paramref name="path"/>, as <paramref name="user"/> when given.</summary>
    public static string Handshake(string? user, string path = "/chat", string extraHeaders = "") =>
        $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {ExampleKey}\r\n" +
        $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chatkit.v1\r\n{(user is null ? string.Empty : $"Authorization: Bearer {user}\r\n")}{extraHeaders}\r\n";

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public Task WriteAsync(string text) => WriteAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>A client's text frame: masked, as RFC 6455 requires of clients, with a 7-bit or 16-bit length.</summary>
    public static byte[] TextFrame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var header = payload.Length < 126 ? [0x81, (byte)(0x80 | payload.Length)] : new byte[] { 0x81, 0x80 | 126, (byte)(payload.Length >> 8), (byte)payload.Length };
        var mask = RandomNumberGenerator.GetBytes(4);
        return [.. header, .. mask, .. payload.Select((b, i) => (byte)(b ^ mask[i % 4]))];
    }

    /// <summary>Reads up to the end of a response head; the bytes after it stay for the next read.</summary>
    public async Task<string> ReadHeadAsync()
    {
        while (true)
        {
            var text = Encoding.ASCII.GetString([.. _pending]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.RemoveRange(0, end + 4);
                return text[..(end + 4)];
            }

            if (!await FillAsync())
            {
                throw new IOException($"The server closed the connection within a response head: '{text}'.");
            }
        }
    }

    /// <summary>Reads the body of the response <paramref name="head"/> begins: Content-Length or chunked.</summary>
    public async Task<string> ReadBodyAsync(string head)
    {
        var lines = head.Split("\r\n");
        var length = lines.FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (length is not null)
        {
            return Encoding.UTF8.GetString(await ReadBytesAsync(int.Parse(length["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture)));
        }

        Assert.Contains("Transfer-Encoding: chunked", lines);
        var body = new List<byte>();
        while (true)
        {
            var size = int.Parse(await ReadLineAsync(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            body.AddRange(await ReadBytesAsync(size));
            Assert.Equal(string.Empty, await ReadLineAsync());
            if (size == 0)
            {
                return Encoding.UTF8.GetString([.. body]);
            }
        }
    }

    private async Task<string> ReadLineAsync()
    {
        while (true)
        {
            var end = _pending.IndexOf((byte)'\n');
            if (end > 0 && _pending[end - 1] == '\r')
            {
                var line = Encoding.ASCII.GetString([.. _pending.Take(end - 1)]);
                _pending.RemoveRange(0, end + 1);
                return line;
            }

            await NeedAsync(_pending.Count + 1);
        }
    }

    private async Task<byte[]> ReadBytesAsync(int count)
    {
        await NeedAsync(count);
        var bytes = _pending.Take(count).ToArray();
        _pending.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>Reads one unmasked text frame from the server.</summary>
    public async Task<string> ReadTextFrameAsync()
    {
        await NeedAsync(2);
        var length = _pending[1] & 0x7f;
        var offset = 2;
        if (length == 126)
        {
            await NeedAsync(4);
            length = BinaryPrimitives.ReadUInt16BigEndian([_pending[2], _pending[3]]);
            offset = 4;
        }

        Assert.Equal(0x81, _pending[0]);
        await NeedAsync(offset + length);
        var text = Encoding.UTF8.GetString([.. _pending.Skip(offset).Take(length)]);
        _pending.RemoveRange(0, offset + length);
        return text;
    }

    /// <summary>Reads until the server closes the connection (or resets it); false if the test's timeout came first.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var buffer = new byte[1024];
        try
        {
            int read;
            do
            {
                read = await _stream.ReadAsync(buffer, timeout.Token);
            }
            while (read > 0);

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task NeedAsync(int count)
    {
        while (_pending.Count < count)
        {
            if (!await FillAsync())
            {
                throw new IOException("The server closed the connection within a frame.");
            }
        }
    }

    private async Task<bool> FillAsync()
    {
        using var timeout = new CancellationTokenSource(RawChatClient.Timeout);
        var buffer = new byte[4096];
        var read = await _stream.ReadAsync(buffer, timeout.Token);
        _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        return read > 0;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
