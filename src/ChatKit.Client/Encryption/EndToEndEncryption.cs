using System.Runtime.CompilerServices;
using System.Text;
using ChatKit.Encryption;
using ChatKit.Keys;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>
/// End-to-end encryption for one device of the signed-in user, on top of a <see cref="ChatClient"/>. It publishes the
/// device's keys to the server's key directory, encrypts what <see cref="SendAsync"/> sends to an encrypted room for
/// every device of every member (the sender's other devices included), and decrypts what arrives
/// (<see cref="ReadEventsAsync"/>, <see cref="DecryptAsync"/>). Direct conversations use pairwise Double Ratchet
/// sessions; group rooms use Sender Keys, distributed over those sessions and replaced when a device that had the key
/// is no longer a member. Everything it needs to go on after a restart is saved in the app's
/// <see cref="IEncryptionStateStore"/>. Thread safe: calls run one at a time.
/// </summary>
public sealed partial class EndToEndEncryption : IDisposable
{
    /// <summary>One-time prekeys uploaded at a time; the device uploads more when the directory holds fewer than half of it.</summary>
    public const int OneTimePreKeyBatch = 50;

    /// <summary>How long a signed prekey is used before the device makes a new one.</summary>
    public static readonly TimeSpan SignedPreKeyLifetime = TimeSpan.FromDays(7);

    private const int KeptSentMessages = 1000;

    private readonly ChatClient _client;
    private readonly HttpClient _http;
    private readonly KeyDirectoryClient _directory;
    private readonly IEncryptionStateStore _store;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(string Room, string Cmid), string> _sent = [];
    private readonly Queue<(string Room, string Cmid)> _sentOrder = new();
    private readonly DeviceKeys _device;
    private bool _published;
    private bool _replenishDue;

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
    /// <param name="deviceId">This device's id: stable across runs, unique among the user's devices, 1 to 64 characters from A-Z a-z 0-9 - _ . :</param>
    /// <param name="store">Where the keys and sessions are kept.</param>
    /// <param name="handler">The HTTP handler for the key directory calls (tests, proxies); a default one when null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public static async Task<EndToEndEncryption> StartAsync(ChatClient client, string userId, string deviceId, IEncryptionStateStore store, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(store);
        if (!IsDeviceId(deviceId))
        {
            throw new ArgumentException("A device id is 1 to 64 characters from A-Z a-z 0-9 - _ . :", nameof(deviceId));
        }

        var saved = await store.LoadAsync(StateEntries.Device, cancellationToken).ConfigureAwait(false);
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
    /// <exception cref="InvalidOperationException">The room is not end-to-end encrypted, or (direct rooms) the other member has no device yet.</exception>
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
            if (!_published || _time.GetUtcNow() - _device.SignedPreKeyCreatedAt > SignedPreKeyLifetime)
            {
                await PublishAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (_replenishDue)
            {
                await TryReplenishAsync(cancellationToken).ConfigureAwait(false);
            }

            var direct = string.Equals(room.Kind, "direct", StringComparison.Ordinal);
            var targets = await TargetsAsync(room.Id, direct, cancellationToken).ConfigureAwait(false);
            var content = Encoding.UTF8.GetBytes(text);
            string body;
            if (direct)
            {
                if (!targets.Exists(t => !string.Equals(t.UserId, UserId, StringComparison.Ordinal)))
                {
                    throw new InvalidOperationException($"The other member of room {room.Id} has no device in the key directory yet: nobody but you could read the message.");
                }

                var entries = new List<EnvelopeEntry>(targets.Count);
                foreach (var target in targets)
                {
                    var message = await EncryptPairwiseAsync(target, PairwisePayload.Make(PairwisePayload.Text, room.Id, content), cancellationToken).ConfigureAwait(false);
                    entries.Add(new EnvelopeEntry(target.UserId, target.DeviceId, message));
                }

                body = new EncryptedEnvelope(EnvelopeKind.Direct, DeviceId, entries, []).ToBody();
            }
            else
            {
                var chain = await SenderKeyForAsync(room.Id, targets, cancellationToken).ConfigureAwait(false);
                body = new EncryptedEnvelope(EnvelopeKind.Group, DeviceId, [], chain.Encrypt(content)).ToBody();
                await _store.SaveAsync(StateEntries.SenderKey(room.Id), chain.Export(), CancellationToken.None).ConfigureAwait(false);
            }

            Remember(room.Id, cmid, text);
            return await _client.SendAsync(room.Id, body, cmid, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The text of an encrypted message, or null for a message that only carries keys (show nothing for it). Each
    /// message decrypts once: keep its text. Messages this device sent are read from memory (the device cannot
    /// decrypt what it encrypted for others). When it throws, nothing this device keeps has changed.
    /// </summary>
    /// <exception cref="EncryptionException">The message cannot be read here: not for this device, altered, replayed, from a device the key directory does not list, or from a sender key this device never got.</exception>
    public async Task<string?> DecryptAsync(MessageInfo message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = EncryptedEnvelope.Parse(message.Body);
        if (!IsDeviceId(envelope.SenderDevice))
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, "The envelope's sender device is not a valid device id.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (string.Equals(message.Sender, UserId, StringComparison.Ordinal) && string.Equals(envelope.SenderDevice, DeviceId, StringComparison.Ordinal))
            {
                return envelope.Kind == EnvelopeKind.Keys ? null
                    : _sent.TryGetValue((message.Room, message.Cmid), out var mine) ? mine
                    : throw new EncryptionException(EncryptionErrorCodes.Replayed, "This device sent the message; its text is kept only in memory, for the last messages sent since start.");
            }

            return envelope.Kind switch
            {
                EnvelopeKind.Direct => await ReadDirectAsync(message, envelope, cancellationToken).ConfigureAwait(false),
                EnvelopeKind.Keys => await ReadKeysAsync(message, envelope, cancellationToken).ConfigureAwait(false),
                _ => await ReadGroupAsync(message, envelope, cancellationToken).ConfigureAwait(false),
            };
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
    /// one-time prekeys (when the directory answers) before it is passed on. Read events either here or from
    /// <see cref="ChatClient.ReadEventsAsync"/>, not both.
    /// </summary>
    /// <param name="cancellationToken">Stops reading.</param>
    public async IAsyncEnumerable<ChatEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chatEvent in _client.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (chatEvent)
            {
                case MessageEvent { Message: var message } when message.Body.StartsWith(EncryptedBody.Prefix, StringComparison.Ordinal):
                    var (text, error) = await TryDecryptAsync(message, cancellationToken).ConfigureAwait(false);
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
                    await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        await TryReplenishAsync(cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        _gate.Release();
                    }

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
    /// half a batch for this device (or says they run low). Called after each handshake this device answers and on
    /// <see cref="KeysLowEvent"/> in <see cref="ReadEventsAsync"/>.
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

    /// <summary>
    /// The safety number of the signed-in user and <paramref name="otherUser"/>: from each user's devices that the key
    /// directory lists now, together with every device of theirs this device has had a session with (so a device the
    /// directory showed only for a while still counts). Signatures are checked.
    /// </summary>
    public async Task<string> GetSafetyNumberAsync(string otherUser, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(otherUser);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var mine = await VerifiedDevicesAsync(UserId, cancellationToken).ConfigureAwait(false);
            var theirs = await VerifiedDevicesAsync(otherUser, cancellationToken).ConfigureAwait(false);
            if (theirs.Count == 0)
            {
                throw new InvalidOperationException($"User '{otherUser}' has no device in the key directory.");
            }

            return SafetyNumber.Compute(UserId, mine, otherUser, theirs);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Forgets the devices of <paramref name="user"/> this device has had sessions with but the directory no longer
    /// lists, so they stop counting in the safety number. Do it only after confirming with the user (in person) that
    /// they removed those devices.
    /// </summary>
    public async Task ForgetRemovedDevicesAsync(string user, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var listed = await DevicesAsync(user, cancellationToken).ConfigureAwait(false);
            await _store.SaveAsync(StateEntries.Seen(user), SeenDevices.Write(listed), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    private static bool IsDeviceId(string? value) =>
        value is { Length: > 0 and <= 64 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private async Task<(string? Text, Exception? Error)> TryDecryptAsync(MessageInfo message, CancellationToken cancellationToken)
    {
        try
        {
            return (await DecryptAsync(message, cancellationToken).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is EncryptionException or ChatClientException or ChatKit.Engine.ChatException or IOException or HttpRequestException or OperationCanceledException)
        {
            return (null, ex);
        }
    }

    private void Remember(string room, string cmid, string text)
    {
        if (_sent.TryAdd((room, cmid), text))
        {
            _sentOrder.Enqueue((room, cmid));
            if (_sentOrder.Count > KeptSentMessages)
            {
                _sent.Remove(_sentOrder.Dequeue());
            }
        }
    }
}
