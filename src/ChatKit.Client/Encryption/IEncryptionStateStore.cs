namespace ChatKit.Client;

/// <summary>
/// Where <see cref="EndToEndEncryption"/> keeps its device keys, sessions and sender keys between runs. Entries are
/// secret (they hold private keys): keep them where only the app can read them. Calls for one device are made one at
/// a time.
/// </summary>
public interface IEncryptionStateStore
{
    /// <summary>The entry saved under <paramref name="name"/>, or null.</summary>
    Task<byte[]?> LoadAsync(string name, CancellationToken cancellationToken);

    /// <summary>Saves (replaces) an entry; it must be whole after a crash: the old bytes or the new ones.</summary>
    Task SaveAsync(string name, byte[] state, CancellationToken cancellationToken);
}
