namespace ChatKit.Encryption;

/// <summary>
/// A prekey message that decrypted (<see cref="RatchetSession.Open"/>): the new session and the first plaintext.
/// The device's keys change only when <see cref="Complete"/> is called.
/// </summary>
public sealed class AcceptedHandshake
{
    private readonly Action _complete;
    private bool _completed;

    internal AcceptedHandshake(RatchetSession session, byte[] plaintext, Action complete)
    {
        Session = session;
        Plaintext = plaintext;
        _complete = complete;
    }

    /// <summary>This side of the new session; <see cref="RatchetSession.Peer"/> is the initiator, its signature checked.</summary>
    public RatchetSession Session { get; }

    /// <summary>The first message's plaintext.</summary>
    public byte[] Plaintext { get; }

    /// <summary>Deletes the one-time prekey the handshake used from the device's keys and remembers the handshake, so a replay is refused. Once only.</summary>
    public void Complete()
    {
        if (!_completed)
        {
            _complete();
            _completed = true;
        }
    }
}
