using System.Net;
using System.Net.Sockets;

namespace ChatKit.LoadGen.Peers;

internal static class Ports
{
    /// <summary>A port free on 127.0.0.1 now (the kernel's choice, so outside what other runs just took).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
