using ChatKit.Backplane;
using ChatKit.Encryption;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;
using Microsoft.Extensions.Options;

namespace ChatKit.Keys;

/// <summary>
/// The key directory's rules in front of <see cref="IKeyDirectoryStore"/>: a user publishes keys for their own devices
/// only, every key and signature is checked before it is stored (so a broken client cannot publish keys nobody can
/// use), the counts are bounded, and a device whose one-time prekeys run low is told so with a <c>keys.low</c> frame
/// on every node. Any signed-in user may read any user's devices and claim bundles, as in Signal: keys are public.
/// </summary>
public sealed class KeyDirectory(IKeyDirectoryStore store, IChatBackplane backplane, IOptions<ChatKitOptions> options)
{
    private readonly ChatKitOptions _options = options.Value;

    /// <summary>Publishes (or replaces) one of the caller's devices with its signed prekey and one-time prekeys.</summary>
    public async Task<DeviceKeyStatus> PublishAsync(ChatUser user, string? deviceId, DeviceKeysUpload? upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var device = InputRules.DeviceId(deviceId);
        var body = upload ?? throw new ChatException(ChatErrorCodes.MissingField, "The body must be a JSON object with 'identity', 'signedPreKey' and 'oneTimePreKeys'.");
        var identity = KeyWire.FromInfo(body.Identity);
        if (!string.Equals(identity.UserId, user.Id, StringComparison.Ordinal) || !string.Equals(identity.DeviceId, device, StringComparison.Ordinal))
        {
            throw new ChatException(ChatErrorCodes.Forbidden, $"The identity is for device '{identity.DeviceId}' of user '{identity.UserId}'; you may publish only your own device '{device}'.");
        }

        var signedPreKey = KeyWire.FromInfo(body.SignedPreKey);
        Check(() =>
        {
            identity.Verify();
            signedPreKey.Verify(identity);
        });
        var oneTime = OneTimePreKeys(body.OneTimePreKeys);
        var devices = await store.GetDevicesAsync(user.Id, cancellationToken).ConfigureAwait(false);
        var known = devices.FirstOrDefault(d => string.Equals(d.DeviceId, device, StringComparison.Ordinal));
        if (known is null && devices.Count >= _options.MaxDevicesPerUser)
        {
            throw new ChatException(ChatErrorCodes.TooManyKeys, $"User '{user.Id}' already has {devices.Count} devices, the most allowed (ChatKit:MaxDevicesPerUser); remove one first.");
        }

        var held = known is not null && known.SameKeysAs(identity)
            ? await store.CountOneTimePreKeysAsync(user.Id, device, cancellationToken).ConfigureAwait(false) ?? 0
            : 0;
        CheckRoom(held, oneTime.Count);
        var count = await store.PublishAsync(identity, signedPreKey, oneTime, cancellationToken).ConfigureAwait(false);
        return Status(device, count);
    }

    /// <summary>Adds one-time prekeys to one of the caller's published devices.</summary>
    public async Task<DeviceKeyStatus> AddOneTimePreKeysAsync(ChatUser user, string? deviceId, DeviceKeysUpload? upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var device = InputRules.DeviceId(deviceId);
        var oneTime = OneTimePreKeys(upload?.OneTimePreKeys);
        var held = await store.CountOneTimePreKeysAsync(user.Id, device, cancellationToken).ConfigureAwait(false) ?? throw UnknownDevice(user.Id, device);
        CheckRoom(held, oneTime.Count);
        var count = await store.AddOneTimePreKeysAsync(user.Id, device, oneTime, cancellationToken).ConfigureAwait(false) ?? throw UnknownDevice(user.Id, device);
        return Status(device, count);
    }

    /// <summary>How many one-time prekeys one of the caller's devices has left.</summary>
    public async Task<DeviceKeyStatus> GetStatusAsync(ChatUser user, string? deviceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var device = InputRules.DeviceId(deviceId);
        var count = await store.CountOneTimePreKeysAsync(user.Id, device, cancellationToken).ConfigureAwait(false) ?? throw UnknownDevice(user.Id, device);
        return Status(device, count);
    }

    /// <summary>Removes one of the caller's devices and its prekeys.</summary>
    public async Task RemoveDeviceAsync(ChatUser user, string? deviceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var device = InputRules.DeviceId(deviceId);
        if (!await store.RemoveDeviceAsync(user.Id, device, cancellationToken).ConfigureAwait(false))
        {
            throw UnknownDevice(user.Id, device);
        }
    }

    /// <summary>Every device a user has published keys for.</summary>
    public async Task<UserDevicesInfo> GetDevicesAsync(ChatUser user, string? userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var target = InputRules.UserId(userId);
        var devices = await store.GetDevicesAsync(target, cancellationToken).ConfigureAwait(false);
        return new UserDevicesInfo { User = target, Devices = devices.Select(KeyWire.ToInfo).ToList() };
    }

    /// <summary>
    /// A bundle of the device with one of its one-time prekeys, handed out to this caller only; when that leaves the
    /// device below <see cref="ChatKitOptions.LowOneTimePreKeys"/>, its owner's connections get <c>keys.low</c>.
    /// </summary>
    public async Task<PreKeyBundleInfo> ClaimBundleAsync(ChatUser user, string? userId, string? deviceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var target = InputRules.UserId(userId);
        var device = InputRules.DeviceId(deviceId);
        var claim = await store.ClaimBundleAsync(target, device, cancellationToken).ConfigureAwait(false) ?? throw UnknownDevice(target, device);
        if (claim.Remaining < _options.LowOneTimePreKeys)
        {
            var frame = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.KeysLow, Device = device, OneTimePreKeys = claim.Remaining });
            await backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.UserFrame, target, null, 0, frame), cancellationToken).ConfigureAwait(false);
        }

        return KeyWire.ToInfo(claim.Bundle);
    }

    private static ChatException UnknownDevice(string userId, string deviceId) =>
        new(ChatErrorCodes.NotFound, $"User '{userId}' has no device '{deviceId}' in the key directory.");

    private static void Check(Action verify)
    {
        try
        {
            verify();
        }
        catch (EncryptionException ex)
        {
            throw new ChatException(ChatErrorCodes.InvalidKey, ex.Message, ex);
        }
    }

    private List<OneTimePreKey> OneTimePreKeys(IList<OneTimePreKeyInfo>? infos)
    {
        if (infos is null)
        {
            return [];
        }

        if (infos.Count > _options.MaxOneTimePreKeys)
        {
            throw new ChatException(ChatErrorCodes.TooManyKeys, $"The body holds {infos.Count} one-time prekeys; at most {_options.MaxOneTimePreKeys} (ChatKit:MaxOneTimePreKeys) are kept per device.");
        }

        var keys = infos.Select(KeyWire.FromInfo).ToList();
        Check(() => keys.ForEach(k => P256.Validate(k.PublicKey)));
        return keys;
    }

    private void CheckRoom(int held, int adding)
    {
        if (held + adding > _options.MaxOneTimePreKeys)
        {
            throw new ChatException(ChatErrorCodes.TooManyKeys, $"The device holds {held} one-time prekeys; adding {adding} would pass the limit of {_options.MaxOneTimePreKeys} (ChatKit:MaxOneTimePreKeys).");
        }
    }

    private DeviceKeyStatus Status(string device, int count) => new() { Device = device, OneTimePreKeys = count, Low = count < _options.LowOneTimePreKeys };
}
