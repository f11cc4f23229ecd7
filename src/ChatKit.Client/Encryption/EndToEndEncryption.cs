using System.Runtime.CompilerServices;
using System.Text;
using ChatKit.Encryption;
using ChatKit.Keys;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>
/// End-to-end encryption for one device of the signed-in user, on top of a <see cref="ChatClient"/>. It publishes the
/// device's keys to the server's key directory, encrypts what <see cref="SendAsync"/> sends to an encrypted room for
/// every device of every member (the sender's other devices included), and decrypts what arrives with
/// <see cref="DecryptAsync"/>. Direct conversations use pairwise Double Ratchet sessions; group rooms use Sender
/// Keys, distributed over those sessions and replaced when a device that had the key is no longer a member.
/// Everything it needs to go on after a restart is saved in the app's <see cref="IEncryptionStateStore"/>.
/// Thread safe: calls run one at a time.
/// </summary>
public sealed class EndToEndEncryption : IDisposable
{
    /// <summary>One-time prekeys uploaded at a time, and the count below which the device uploads more.</summary>
    public const int OneTimePreKeyBatch = 50;

    /// <summary>How long a signed prekey is used before the device makes a new one.</summary>
    public static readonly TimeSpan SignedPreKeyLifetime = TimeSpan.FromDays(7);

    private const int KeptSessionsPerDevice = 3;
    private const int KeptSentMessages = 1000;
    private const byte TextPayload = 1;
    private const byte SenderKeyPayload = 2;

    private readonly ChatClient _client;
    private readonly HttpClient _http;
    private readonly KeyDirectoryClient _directory;
    private readonly IEncryptionStateStore _store;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, string> _sent = new(StringComparer.Ordinal);
    private readonly Queue<string> _sentOrder = new();
    private readonly DeviceKeys _device;

    private EndToEndEncryption(ChatClient client, HttpClient http, IEncryptionStateStore store, DeviceKeys device)
    {
        _client = client;
        _http = http;
        _store = store;
        _device = device;
        _time = client.Options.TimeProvider;
        _directory = new KeyDirectoryClient(http, KeyDirectoryClient.BaseOf(client.Options.ServerUri), client.Options.AccessTokenProvider);
    }

    /// <summary>The signed-in user.</summary>
    public string UserId => _device.Identity.UserId;

    /// <summary>This device's id.</summary>
    public string DeviceId => _device.Identity.DeviceId;

    /// <summary>This device's public identity, as published.</summary>
    public DeviceIdentityKey Identity => _device.Identity;

    /// <summary>
    /// Loads this device's keys from <paramref name="store"/> (or makes them the first time), rotates the signed prekey
    /// when it is older than <see cref="SignedPreKeyLifetime"/>, and publishes the device to the key directory with
    /// enough one-time prekeys.
    /// </summary>
    /// <param name="client">The connected client of <paramref name="userId"/>.</param>
    /// <param name="userId">The signed-in user, as the server knows them.</param>
    /// <param name="deviceId">This device's id: stable across runs, unique among the user's devices.</param>
    /// <param name="store">Where the keys and sessions are kept.</param>
    /// <param name="handler">The HTTP handler for the key directory calls (tests, proxies); a default one when null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public static async Task<EndToEndEncryption> StartAsync(ChatClient client, string userId, string deviceId, IEncryptionStateStore store, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        ArgumentNullException.ThrowIfNull(store);
        var saved = await store.LoadAsync(DeviceEntry, cancellationToken).ConfigureAwait(false);
        var device = saved is null ? DeviceKeys.Create(userId, deviceId, client.Options.TimeProvider) : DeviceKeys.Import(saved);
        if (!string.Equals(device.Identity.UserId, userId, StringComparison.Ordinal) || !string.Equals(device.Identity.DeviceId, deviceId, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The state store holds device '{device.Identity.DeviceId}' of user '{device.Identity.UserId}', not device '{deviceId}' of '{userId}': give each device a store of its own.");
        }

        var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        var encryption = new EndToEndEncryption(client, http, store, device);
        try
        {
            await encryption.PublishAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            encryption.Dispose();
            throw;
        }

        return encryption;
    }

    /// <summary>
    /// Encrypts <paramref name="text"/> for every other device of every member of the encrypted room and sends it.
    /// In a group room, devices that lack this device's sender key first get it in messages of their own.
    /// </summary>
    /// <exception cref="InvalidOperationException">The room is not end-to-end encrypted.</exception>
    public async Task<SendReceipt> SendAsync(RoomInfo room, string text, string? clientMessageId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (room.Encrypted != true)
        {
            throw new InvalidOperationException($"Room {room.Id} is not end-to-end encrypted; send to it with ChatClient.SendAsync.");
        }

        var cmid = clientMessageId ?? Guid.NewGuid().ToString("N");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_time.GetUtcNow() - _device.SignedPreKeyCreatedAt > SignedPreKeyLifetime)
            {
                await PublishAsync(cancellationToken).ConfigureAwait(false);
            }

            var targets = await TargetsAsync(room.Id, cancellationToken).ConfigureAwait(false);
            string body;
            if (string.Equals(room.Kind, "direct", StringComparison.Ordinal))
            {
                if (!targets.Exists(t => !string.Equals(t.UserId, UserId, StringComparison.Ordinal)))
                {
                    throw new InvalidOperationException($"The other member of room {room.Id} has no device in the key directory yet: nobody but you could read the message.");
                }

                var entries = new List<EnvelopeEntry>(targets.Count);
                foreach (var target in targets)
                {
                    entries.Add(new EnvelopeEntry(target.UserId, target.DeviceId, await EncryptPairwiseAsync(target, Payload(TextPayload, Encoding.UTF8.GetBytes(text)), cancellationToken).ConfigureAwait(false)));
                }

                body = new EncryptedEnvelope(EnvelopeKind.Direct, DeviceId, entries, []).ToBody();
            }
            else
            {
                var chain = await SenderKeyForAsync(room.Id, targets, cancellationToken).ConfigureAwait(false);
                body = new EncryptedEnvelope(EnvelopeKind.Group, DeviceId, [], chain.Encrypt(Encoding.UTF8.GetBytes(text))).ToBody();
                await _store.SaveAsync(SenderKeyEntry(room.Id), chain.Export(), cancellationToken).ConfigureAwait(false);
            }

            Remember(cmid, text);
            return await _client.SendAsync(room.Id, body, cmid, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The text of an encrypted message, or null for a message that only carries keys (show nothing for it).
    /// Messages this device sent are read from memory (the device cannot decrypt what it encrypted for others).
    /// </summary>
    /// <exception cref="EncryptionException">The message cannot be read here: not for this device, altered, replayed, or from a sender key this device never got.</exception>
    public async Task<string?> DecryptAsync(MessageInfo message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = EncryptedEnvelope.Parse(message.Body);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (string.Equals(message.Sender, UserId, StringComparison.Ordinal) && string.Equals(envelope.SenderDevice, DeviceId, StringComparison.Ordinal))
            {
                return envelope.Kind == EnvelopeKind.Keys ? null
                    : _sent.TryGetValue(message.Cmid, out var mine) ? mine
                    : throw new EncryptionException(EncryptionErrorCodes.Replayed, "This device sent the message; its text is kept only in memory, for the last messages sent since start.");
            }

            switch (envelope.Kind)
            {
                case EnvelopeKind.Direct:
                    {
                        var entry = envelope.For(UserId, DeviceId) ?? throw NotForThisDevice();
                        var payload = await DecryptPairwiseAsync(message.Sender, envelope.SenderDevice, entry.Message, cancellationToken).ConfigureAwait(false);
                        return Encoding.UTF8.GetString(Expect(payload, TextPayload));
                    }

                case EnvelopeKind.Keys:
                    {
                        if (envelope.For(UserId, DeviceId) is not { } entry)
                        {
                            return null;
                        }

                        var payload = await DecryptPairwiseAsync(message.Sender, envelope.SenderDevice, entry.Message, cancellationToken).ConfigureAwait(false);
                        var receiver = SenderKeyReceiver.FromDistribution(Expect(payload, SenderKeyPayload));
                        if (!string.Equals(receiver.RoomId, message.Room, StringComparison.Ordinal))
                        {
                            throw new EncryptionException(EncryptionErrorCodes.Malformed, $"The sender key is for room {receiver.RoomId}, but came in room {message.Room}.");
                        }

                        await _store.SaveAsync(ReceiverEntry(message.Room, message.Sender, envelope.SenderDevice), receiver.Export(), cancellationToken).ConfigureAwait(false);
                        return null;
                    }

                default:
                    {
                        var saved = await _store.LoadAsync(ReceiverEntry(message.Room, message.Sender, envelope.SenderDevice), cancellationToken).ConfigureAwait(false)
                            ?? throw new EncryptionException(EncryptionErrorCodes.UnknownSenderKey, $"This device has no sender key of device '{envelope.SenderDevice}' of user '{message.Sender}' in room {message.Room}.");
                        var receiver = SenderKeyReceiver.Import(saved);
                        var text = Encoding.UTF8.GetString(receiver.Decrypt(envelope.GroupMessage));
                        await _store.SaveAsync(ReceiverEntry(message.Room, message.Sender, envelope.SenderDevice), receiver.Export(), cancellationToken).ConfigureAwait(false);
                        return text;
                    }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The client's event stream with encryption handled: a message of an encrypted room comes with its text as
    /// <see cref="MessageInfo.Body"/>, messages that only carry keys are left out, a message this device cannot read
    /// comes as <see cref="UndecryptableMessageEvent"/>, and <see cref="KeysLowEvent"/> for this device uploads more
    /// one-time prekeys before it is passed on. Read events either here or from <see cref="ChatClient.ReadEventsAsync"/>,
    /// not both.
    /// </summary>
    /// <param name="cancellationToken">Stops reading.</param>
    public async IAsyncEnumerable<ChatEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chatEvent in _client.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (chatEvent)
            {
                case MessageEvent { Message: var message } when message.Body.StartsWith(EncryptedBody.Prefix, StringComparison.Ordinal):
                    string? text;
                    EncryptionException? error = null;
                    try
                    {
                        text = await DecryptAsync(message, cancellationToken).ConfigureAwait(false);
                    }
                    catch (EncryptionException ex)
                    {
                        text = null;
                        error = ex;
                    }

                    if (error is not null)
                    {
                        yield return new UndecryptableMessageEvent(message, error);
                    }
                    else if (text is not null)
                    {
                        yield return new MessageEvent(new MessageInfo { Room = message.Room, Seq = message.Seq, Cmid = message.Cmid, Sender = message.Sender, Body = text, SentAt = message.SentAt });
                    }

                    break;
                case KeysLowEvent low when string.Equals(low.Device, DeviceId, StringComparison.Ordinal):
                    await ReplenishAsync(cancellationToken).ConfigureAwait(false);
                    yield return low;
                    break;
                default:
                    yield return chatEvent;
                    break;
            }
        }
    }

    /// <summary>
    /// Uploads a batch of <see cref="OneTimePreKeyBatch"/> one-time prekeys when the key directory holds fewer than
    /// half a batch for this device (or says they run low). Called after each handshake this device answers; call it
    /// on <see cref="KeysLowEvent"/> for this device too.
    /// </summary>
    /// <returns>How many one-time prekeys the directory holds for this device now.</returns>
    public async Task<int> ReplenishAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReplenishCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The safety number of the signed-in user and <paramref name="otherUser"/>, from the directory's current devices of both (signatures checked).</summary>
    public async Task<string> GetSafetyNumberAsync(string otherUser, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(otherUser);
        var mine = await DevicesAsync(UserId, cancellationToken).ConfigureAwait(false);
        var theirs = await DevicesAsync(otherUser, cancellationToken).ConfigureAwait(false);
        if (theirs.Count == 0)
        {
            throw new InvalidOperationException($"User '{otherUser}' has no device in the key directory.");
        }

        return SafetyNumber.Compute(UserId, mine.Select(d => d.SigningKey), otherUser, theirs.Select(d => d.SigningKey));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    private const string DeviceEntry = "device";

    private static string SessionEntry(string user, string device) => $"session/{user}/{device}";

    private static string SenderKeyEntry(string room) => $"sender/{room}";

    private static string SentToEntry(string room) => $"sent-to/{room}";

    private static string ReceiverEntry(string room, string user, string device) => $"receiver/{room}/{user}/{device}";

    private static EncryptionException NotForThisDevice() =>
        new(EncryptionErrorCodes.UnknownPreKey, "The message holds nothing for this device: it was sent before the device published its keys, or its sender did not know the device yet.");

    private static byte[] Payload(byte type, byte[] content) => [type, .. content];

    private static byte[] Expect(byte[] payload, byte type) =>
        payload.Length > 0 && payload[0] == type ? payload[1..] : throw new EncryptionException(EncryptionErrorCodes.Malformed, "The pairwise message does not carry what its envelope says.");

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        if (_time.GetUtcNow() - _device.SignedPreKeyCreatedAt > SignedPreKeyLifetime)
        {
            _device.RotateSignedPreKey(_time);
        }

        var fresh = _device.OneTimePreKeyCount == 0 ? _device.GenerateOneTimePreKeys(OneTimePreKeyBatch) : [];
        await SaveDeviceAsync(cancellationToken).ConfigureAwait(false);
        var upload = new DeviceKeysUpload
        {
            Identity = KeyWire.ToInfo(_device.Identity),
            SignedPreKey = KeyWire.ToInfo(_device.SignedPreKey),
            OneTimePreKeys = fresh.Select(KeyWire.ToInfo).ToList(),
        };
        await _directory.PublishAsync(DeviceId, upload, cancellationToken).ConfigureAwait(false);
        await ReplenishCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> ReplenishCoreAsync(CancellationToken cancellationToken)
    {
        var status = await _directory.GetStatusAsync(DeviceId, cancellationToken).ConfigureAwait(false);
        if (!status.Low && status.OneTimePreKeys >= OneTimePreKeyBatch / 2)
        {
            return status.OneTimePreKeys;
        }

        var fresh = _device.GenerateOneTimePreKeys(OneTimePreKeyBatch);
        await SaveDeviceAsync(cancellationToken).ConfigureAwait(false);
        var added = await _directory.AddPreKeysAsync(DeviceId, new DeviceKeysUpload { OneTimePreKeys = fresh.Select(KeyWire.ToInfo).ToList() }, cancellationToken).ConfigureAwait(false);
        return added.OneTimePreKeys;
    }

    private Task SaveDeviceAsync(CancellationToken cancellationToken) => _store.SaveAsync(DeviceEntry, _device.Export(), cancellationToken);

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

    /// <summary>Every device of every member of the room, except this one.</summary>
    private async Task<List<DeviceIdentityKey>> TargetsAsync(string room, CancellationToken cancellationToken)
    {
        var members = await _client.ListMembersAsync(room, cancellationToken).ConfigureAwait(false);
        var targets = new List<DeviceIdentityKey>();
        foreach (var member in members)
        {
            var devices = await DevicesAsync(member.User, cancellationToken).ConfigureAwait(false);
            targets.AddRange(devices.Where(d => !(string.Equals(d.UserId, UserId, StringComparison.Ordinal) && string.Equals(d.DeviceId, DeviceId, StringComparison.Ordinal))));
        }

        return targets;
    }

    /// <summary>This device's sender key for the room, sent first to every target that lacks it; a new one when a device that had it is gone.</summary>
    private async Task<SenderKeyChain> SenderKeyForAsync(string room, List<DeviceIdentityKey> targets, CancellationToken cancellationToken)
    {
        var savedChain = await _store.LoadAsync(SenderKeyEntry(room), cancellationToken).ConfigureAwait(false);
        var savedSentTo = await _store.LoadAsync(SentToEntry(room), cancellationToken).ConfigureAwait(false);
        var sentTo = savedSentTo is null ? new HashSet<string>(StringComparer.Ordinal) : Encoding.UTF8.GetString(savedSentTo).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var current = targets.Select(Name).ToHashSet(StringComparer.Ordinal);
        var chain = savedChain is null ? null : SenderKeyChain.Import(savedChain);
        if (chain is null || !sentTo.IsSubsetOf(current))
        {
            chain = SenderKeyChain.Create(room);
            sentTo.Clear();
            await _store.SaveAsync(SenderKeyEntry(room), chain.Export(), cancellationToken).ConfigureAwait(false);
            await _store.SaveAsync(SentToEntry(room), [], cancellationToken).ConfigureAwait(false);
        }

        var missing = targets.Where(t => !sentTo.Contains(Name(t))).ToList();
        var limit = _client.Welcome?.Limits?.MaxMessageBytes ?? 16 * 1024;
        var entries = new List<EnvelopeEntry>();
        foreach (var target in missing)
        {
            var message = await EncryptPairwiseAsync(target, Payload(SenderKeyPayload, chain.Distribution()), cancellationToken).ConfigureAwait(false);
            var entry = new EnvelopeEntry(target.UserId, target.DeviceId, message);
            if (entries.Count > 0 && new EncryptedEnvelope(EnvelopeKind.Keys, DeviceId, [.. entries, entry], []).ToBody().Length > limit)
            {
                await SendKeysAsync(room, entries, sentTo, cancellationToken).ConfigureAwait(false);
                entries.Clear();
            }

            entries.Add(entry);
        }

        if (entries.Count > 0)
        {
            await SendKeysAsync(room, entries, sentTo, cancellationToken).ConfigureAwait(false);
        }

        return chain;

        static string Name(DeviceIdentityKey device) => device.UserId + "/" + device.DeviceId;
    }

    private async Task SendKeysAsync(string room, List<EnvelopeEntry> entries, HashSet<string> sentTo, CancellationToken cancellationToken)
    {
        await _client.SendAsync(room, new EncryptedEnvelope(EnvelopeKind.Keys, DeviceId, entries, []).ToBody(), cancellationToken: cancellationToken).ConfigureAwait(false);
        sentTo.UnionWith(entries.Select(e => e.User + "/" + e.Device));
        await _store.SaveAsync(SentToEntry(room), Encoding.UTF8.GetBytes(string.Join('\n', sentTo)), cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]> EncryptPairwiseAsync(DeviceIdentityKey target, byte[] payload, CancellationToken cancellationToken)
    {
        var sessions = await LoadSessionsAsync(target.UserId, target.DeviceId, cancellationToken).ConfigureAwait(false);
        if (sessions.Count == 0 || !sessions[0].Peer.SameKeysAs(target))
        {
            var bundle = KeyWire.FromInfo(await _directory.ClaimBundleAsync(target.UserId, target.DeviceId, cancellationToken).ConfigureAwait(false));
            if (!bundle.Identity.SameKeysAs(target))
            {
                throw new EncryptionException(EncryptionErrorCodes.BadSignature, $"The directory's bundle for device '{target.DeviceId}' of '{target.UserId}' has other identity keys than its device list.");
            }

            sessions.Insert(0, RatchetSession.Initiate(_device, bundle));
        }

        var message = sessions[0].Encrypt(payload);
        await SaveSessionsAsync(target.UserId, target.DeviceId, sessions, cancellationToken).ConfigureAwait(false);
        return message;
    }

    private async Task<byte[]> DecryptPairwiseAsync(string sender, string senderDevice, byte[] message, CancellationToken cancellationToken)
    {
        var sessions = await LoadSessionsAsync(sender, senderDevice, cancellationToken).ConfigureAwait(false);
        var baseKey = RatchetSession.PreKeyMessageBaseKey(message);
        if (baseKey is not null && !sessions.Exists(s => s.BaseKey.AsSpan().SequenceEqual(baseKey)))
        {
            var (session, accepted) = RatchetSession.Accept(_device, message);
            if (!string.Equals(session.Peer.UserId, sender, StringComparison.Ordinal) || !string.Equals(session.Peer.DeviceId, senderDevice, StringComparison.Ordinal))
            {
                throw new EncryptionException(EncryptionErrorCodes.BadSignature, $"The handshake is signed by device '{session.Peer.DeviceId}' of '{session.Peer.UserId}', but the message came from device '{senderDevice}' of '{sender}'.");
            }

            sessions.Insert(0, session);
            await SaveDeviceAsync(cancellationToken).ConfigureAwait(false);
            await SaveSessionsAsync(sender, senderDevice, sessions, cancellationToken).ConfigureAwait(false);
            await ReplenishCoreAsync(cancellationToken).ConfigureAwait(false);
            return accepted;
        }

        EncryptionException? last = null;
        foreach (var session in sessions.OrderByDescending(s => baseKey is not null && s.BaseKey.AsSpan().SequenceEqual(baseKey)).ToList())
        {
            try
            {
                var plaintext = session.Decrypt(message);
                sessions.Remove(session);
                sessions.Insert(0, session);
                await SaveSessionsAsync(sender, senderDevice, sessions, cancellationToken).ConfigureAwait(false);
                return plaintext;
            }
            catch (EncryptionException ex)
            {
                last = ex;
            }
        }

        throw last ?? new EncryptionException(EncryptionErrorCodes.UnknownPreKey, $"There is no session with device '{senderDevice}' of '{sender}' and the message does not start one.");
    }

    private async Task<List<RatchetSession>> LoadSessionsAsync(string user, string device, CancellationToken cancellationToken)
    {
        var saved = await _store.LoadAsync(SessionEntry(user, device), cancellationToken).ConfigureAwait(false);
        var sessions = new List<RatchetSession>();
        if (saved is null)
        {
            return sessions;
        }

        var reader = new MemoryStream(saved);
        using var binary = new BinaryReader(reader);
        for (var count = binary.ReadInt32(); count > 0; count--)
        {
            sessions.Add(RatchetSession.Import(binary.ReadBytes(binary.ReadInt32())));
        }

        return sessions;
    }

    private async Task SaveSessionsAsync(string user, string device, List<RatchetSession> sessions, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using (var binary = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            var kept = sessions.Take(KeptSessionsPerDevice).ToList();
            binary.Write(kept.Count);
            foreach (var session in kept)
            {
                var state = session.Export();
                binary.Write(state.Length);
                binary.Write(state);
            }
        }

        await _store.SaveAsync(SessionEntry(user, device), buffer.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    private void Remember(string cmid, string text)
    {
        if (_sent.TryAdd(cmid, text))
        {
            _sentOrder.Enqueue(cmid);
            if (_sentOrder.Count > KeptSentMessages)
            {
                _sent.Remove(_sentOrder.Dequeue());
            }
        }
    }
}
