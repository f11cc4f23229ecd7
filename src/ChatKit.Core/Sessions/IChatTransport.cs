namespace ChatKit.Sessions;

/// <summary>
/// The socket under a <see cref="ChatSession"/>. The session sends from one loop only, so implementations need not
/// allow concurrent sends; <see cref="Abort"/> may be called from any thread.
/// </summary>
public interface IChatTransport
{
    /// <summary>Sends one UTF-8 text frame.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>Starts the closing handshake with a close code and reason.</summary>
    ValueTask CloseAsync(int closeCode, string reason, CancellationToken cancellationToken);

    /// <summary>Drops the connection at once.</summary>
    void Abort();
}
