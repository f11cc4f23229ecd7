using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace ChatKit.LoadGen.Load;

/// <summary>
/// Opens WebSockets from chosen loopback source addresses (127.0.0.2, 127.0.0.3, ...): one source address and one
/// server port give about 28,000 ephemeral ports, so many connections are spread over several sources. The socket is
/// connected by <see cref="SocketsHttpHandler.ConnectCallback"/> (bound to the source first) and the upgrade is done
/// by <see cref="ClientWebSocket"/> through that handler.
/// </summary>
internal sealed class LoopbackConnector : IDisposable
{
    private const int IpProtocolIp = 0;
    private const int IpBindAddressNoPort = 24;
    private readonly HttpMessageInvoker[] _invokers;

    public LoopbackConnector(int sources)
    {
        Sources = Math.Clamp(sources, 1, 250);
        _invokers = new HttpMessageInvoker[Sources];
        for (var i = 0; i < Sources; i++)
        {
            var source = new IPAddress([127, 0, 0, (byte)(2 + i)]);
            var handler = new SocketsHttpHandler
            {
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(30),
                ConnectCallback = (context, cancellation) => ConnectFromAsync(source, context.DnsEndPoint, cancellation),
            };
            _invokers[i] = new HttpMessageInvoker(handler, disposeHandler: true);
        }
    }

    public int Sources { get; }

    /// <summary>Sources enough for <paramref name="connections"/> to one server port, 20,000 per source.</summary>
    public static int SourcesFor(int connections) => Math.Max(1, (connections + 19_999) / 20_000);

    /// <summary>Opens connection number <paramref name="index"/> (its source address is chosen round-robin).</summary>
    public async Task<ClientWebSocket> ConnectAsync(Uri uri, string? subProtocol, int index, CancellationToken cancellation)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            socket.Options.HttpVersion = HttpVersion.Version11;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            if (subProtocol is not null)
            {
                socket.Options.AddSubProtocol(subProtocol);
            }

            await socket.ConnectAsync(uri, _invokers[index % Sources], cancellation);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var invoker in _invokers)
        {
            invoker.Dispose();
        }
    }

    private static async ValueTask<Stream> ConnectFromAsync(IPAddress source, DnsEndPoint target, CancellationToken cancellation)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // Without these, bind() takes a port for the source address alone, and ports left in TIME_WAIT by an
            // earlier run (tens of thousands after an idle ramp) exhaust the source: IP_BIND_ADDRESS_NO_PORT leaves the
            // port to connect(), which only needs the whole (source, destination) pair to be unique.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.SetRawSocketOption(IpProtocolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(target.Host), target.Port), cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
