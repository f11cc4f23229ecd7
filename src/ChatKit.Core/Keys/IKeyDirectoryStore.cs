using ChatKit.Encryption;

namespace ChatKit.Keys;

/// <summary>
/// Where the key directory keeps devices' public keys. The directory is trusted for availability only: clients check
/// every signature themselves. Implementations must be safe for concurrent use from many nodes, and must hand each
/// one-time prekey out at most once, even to concurrent claims. Inputs arrive validated by <see cref="KeyDirectory"/>.
/// </summary>
public interface IKeyDirectoryStore
{
    /// <summary>
    /// Stores the device's identity and signed prekey and adds the one-time prekeys (ids it already has are kept as
    /// they are). A device that comes back with other identity keys is a new device: its old one-time prekeys go.
    /// </summary>
    /// <returns>How many one-time prekeys the device has now.</returns>
    Task<int> PublishAsync(DeviceIdentityKey identity, SignedPreKey signedPreKey, IReadOnlyList<OneTimePreKey> oneTimePreKeys, CancellationToken cancellationToken);

    /// <summary>Adds one-time prekeys to a known device; returns how many it has now, or null when the device is unknown.</summary>
    Task<int?> AddOneTimePreKeysAsync(string userId, string deviceId, IReadOnlyList<OneTimePreKey> oneTimePreKeys, CancellationToken cancellationToken);

    /// <summary>Every device of the user, ordered by device id.</summary>
    Task<IReadOnlyList<DeviceIdentityKey>> GetDevicesAsync(string userId, CancellationToken cancellationToken);

    /// <summary>
    /// The device's bundle with one of its one-time prekeys, which is removed in the same atomic step (none when it
    /// has none left); null when the device is unknown.
    /// </summary>
    Task<KeyClaim?> ClaimBundleAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>How many one-time prekeys the device has, or null when the device is unknown.</summary>
    Task<int?> CountOneTimePreKeysAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>Removes the device and its prekeys; false when it was unknown.</summary>
    Task<bool> RemoveDeviceAsync(string userId, string deviceId, CancellationToken cancellationToken);
}
