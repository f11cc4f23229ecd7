using ChatKit.Encryption;
using ChatKit.Keys;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>The key directory side: publishing this device, topping up its prekeys, reading other devices.</summary>
public sealed partial class EndToEndEncryption
{
    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        if (_time.GetUtcNow() - _device.SignedPreKeyCreatedAt > SignedPreKeyLifetime)
        {
            _device.RotateSignedPreKey(_time);
            _published = false;
        }

        var fresh = _device.OneTimePreKeyCount == 0 ? _device.GenerateOneTimePreKeys(OneTimePreKeyBatch) : [];
        await SaveDeviceAsync().ConfigureAwait(false);
        var upload = new DeviceKeysUpload
        {
            Identity = KeyWire.ToInfo(_device.Identity),
            SignedPreKey = KeyWire.ToInfo(_device.SignedPreKey),
            OneTimePreKeys = fresh.Select(KeyWire.ToInfo).ToList(),
        };
        await _directory.PublishAsync(DeviceId, upload, cancellationToken).ConfigureAwait(false);
        _published = true;
        await ReplenishCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> ReplenishCoreAsync(CancellationToken cancellationToken)
    {
        var status = await _directory.GetStatusAsync(DeviceId, cancellationToken).ConfigureAwait(false);
        if (!status.Low && status.OneTimePreKeys >= OneTimePreKeyBatch / 2)
        {
            _replenishDue = false;
            return status.OneTimePreKeys;
        }

        var fresh = _device.GenerateOneTimePreKeys(OneTimePreKeyBatch);
        await SaveDeviceAsync().ConfigureAwait(false);
        var added = await _directory.AddPreKeysAsync(DeviceId, new DeviceKeysUpload { OneTimePreKeys = fresh.Select(KeyWire.ToInfo).ToList() }, cancellationToken).ConfigureAwait(false);
        _replenishDue = false;
        return added.OneTimePreKeys;
    }

    /// <summary>Tops up when due, and leaves it due for a later call when the directory cannot be reached now: a message already read is never lost to it.</summary>
    private async Task TryReplenishAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ReplenishCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChatClientException or HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _replenishDue = true;
        }
    }

    private Task SaveDeviceAsync() => _store.SaveAsync(StateEntries.Device, _device.Export(), CancellationToken.None);

    /// <summary>The user's devices as the directory lists them, each signature checked.</summary>
    private async Task<List<DeviceIdentityKey>> DevicesAsync(string user, CancellationToken cancellationToken)
    {
        var listed = await _directory.GetDevicesAsync(user, cancellationToken).ConfigureAwait(false);
        var devices = new List<DeviceIdentityKey>(listed.Devices.Count);
        foreach (var info in listed.Devices)
        {
            var identity = KeyWire.FromInfo(info);
            identity.Verify();
            if (!string.Equals(identity.UserId, user, StringComparison.Ordinal))
            {
                throw new EncryptionException(EncryptionErrorCodes.BadSignature, $"The directory listed a device of user '{identity.UserId}' as one of '{user}'.");
            }

            devices.Add(identity);
        }

        return devices;
    }

    /// <summary>The signing keys that make a user's half of a safety number: listed now, or seen in a session.</summary>
    private async Task<List<byte[]>> VerifiedDevicesAsync(string user, CancellationToken cancellationToken)
    {
        var devices = await DevicesAsync(user, cancellationToken).ConfigureAwait(false);
        if (string.Equals(user, UserId, StringComparison.Ordinal) && !devices.Exists(d => d.SameKeysAs(_device.Identity)))
        {
            devices.Add(_device.Identity);
        }

        devices.AddRange(SeenDevices.Read(await _store.LoadAsync(StateEntries.Seen(user), cancellationToken).ConfigureAwait(false)));
        return devices.Select(d => d.SigningKey).DistinctBy(Convert.ToHexString, StringComparer.Ordinal).ToList();
    }

    /// <summary>Records a device this device has a session with, for safety numbers.</summary>
    private async Task RememberSeenAsync(DeviceIdentityKey device)
    {
        var seen = SeenDevices.Read(await _store.LoadAsync(StateEntries.Seen(device.UserId), CancellationToken.None).ConfigureAwait(false));
        if (!seen.Exists(d => d.SameKeysAs(device)))
        {
            seen.Add(device);
            await _store.SaveAsync(StateEntries.Seen(device.UserId), SeenDevices.Write(seen), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Every device of every member of the room, except this one. A direct room has two members whatever the server
    /// says: a third one listed there is refused, so the server cannot add a reader to a conversation of two.
    /// </summary>
    private async Task<List<DeviceIdentityKey>> TargetsAsync(string room, bool direct, CancellationToken cancellationToken)
    {
        var members = await _client.ListMembersAsync(room, cancellationToken).ConfigureAwait(false);
        if (direct && (members.Count > 2 || !members.Any(m => string.Equals(m.User, UserId, StringComparison.Ordinal))))
        {
            throw new EncryptionException(EncryptionErrorCodes.UnknownDevice, $"The server lists {members.Count} members for direct room {room}, not its two people; nothing was sent.");
        }

        var targets = new List<DeviceIdentityKey>();
        foreach (var member in members)
        {
            var devices = await DevicesAsync(member.User, cancellationToken).ConfigureAwait(false);
            targets.AddRange(devices.Where(d => !d.SameKeysAs(_device.Identity)));
        }

        return targets;
    }
}
