using ChatKit.Encryption;

namespace ChatKit.Keys;

/// <summary>The default key directory: in this process's memory, lost on restart. One lock serializes every call.</summary>
public sealed class InMemoryKeyDirectoryStore : IKeyDirectoryStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string User, string Device), Device> _devices = [];

    /// <inheritdoc />
    public Task<int> PublishAsync(DeviceIdentityKey identity, SignedPreKey signedPreKey, IReadOnlyList<OneTimePreKey> oneTimePreKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(oneTimePreKeys);
        lock (_lock)
        {
            var key = (identity.UserId, identity.DeviceId);
            if (!_devices.TryGetValue(key, out var device) || !device.Identity.SameKeysAs(identity))
            {
                device = new Device(identity);
                _devices[key] = device;
            }

            device.Identity = identity;
            device.SignedPreKey = signedPreKey;
            Add(device, oneTimePreKeys);
            return Task.FromResult(device.OneTimePreKeys.Count);
        }
    }

    /// <inheritdoc />
    public Task<int?> AddOneTimePreKeysAsync(string userId, string deviceId, IReadOnlyList<OneTimePreKey> oneTimePreKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(oneTimePreKeys);
        lock (_lock)
        {
            if (!_devices.TryGetValue((userId, deviceId), out var device))
            {
                return Task.FromResult<int?>(null);
            }

            Add(device, oneTimePreKeys);
            return Task.FromResult<int?>(device.OneTimePreKeys.Count);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DeviceIdentityKey>> GetDevicesAsync(string userId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<DeviceIdentityKey> devices = _devices
                .Where(d => string.Equals(d.Key.User, userId, StringComparison.Ordinal))
                .OrderBy(d => d.Key.Device, StringComparer.Ordinal)
                .Select(d => d.Value.Identity)
                .ToList();
            return Task.FromResult(devices);
        }
    }

    /// <inheritdoc />
    public Task<KeyClaim?> ClaimBundleAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue((userId, deviceId), out var device))
            {
                return Task.FromResult<KeyClaim?>(null);
            }

            OneTimePreKey? oneTime = null;
            if (device.OneTimePreKeys.Count > 0)
            {
                oneTime = device.OneTimePreKeys.Values[0];
                device.OneTimePreKeys.RemoveAt(0);
            }

            return Task.FromResult<KeyClaim?>(new KeyClaim(new PreKeyBundle(device.Identity, device.SignedPreKey!, oneTime), device.OneTimePreKeys.Count));
        }
    }

    /// <inheritdoc />
    public Task<int?> CountOneTimePreKeysAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_devices.TryGetValue((userId, deviceId), out var device) ? device.OneTimePreKeys.Count : (int?)null);
        }
    }

    /// <inheritdoc />
    public Task<bool> RemoveDeviceAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_devices.Remove((userId, deviceId)));
        }
    }

    private static void Add(Device device, IReadOnlyList<OneTimePreKey> keys)
    {
        foreach (var key in keys)
        {
            device.OneTimePreKeys.TryAdd(key.Id, key);
        }
    }

    private sealed class Device(DeviceIdentityKey identity)
    {
        public DeviceIdentityKey Identity { get; set; } = identity;

        public SignedPreKey? SignedPreKey { get; set; }

        public SortedList<uint, OneTimePreKey> OneTimePreKeys { get; } = [];
    }
}
