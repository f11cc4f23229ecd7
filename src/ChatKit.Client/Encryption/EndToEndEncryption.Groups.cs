using System.Security.Cryptography;
using System.Text;
using ChatKit.Encryption;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>Sender keys: one per group room for this device, and a receiver per other device and room.</summary>
public sealed partial class EndToEndEncryption
{
    // Receivers stay loaded: importing one imports its verifying key, which costs about as much as an ECDH, and a
    // group message needs its sender's receiver every time. The store still gets every change.
    private readonly Dictionary<string, SenderKeyReceiver> _receivers = new(StringComparer.Ordinal);

    private async Task<string?> ReadKeysAsync(MessageInfo message, EncryptedEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.For(UserId, DeviceId) is not { } entry)
        {
            return null;
        }

        var opened = await OpenPairwiseAsync(message.Sender, envelope.SenderDevice, entry.Message, cancellationToken).ConfigureAwait(false);
        var receiver = SenderKeyReceiver.FromDistribution(PairwisePayload.Open(opened.Payload, PairwisePayload.SenderKey, message.Room));
        if (!string.Equals(receiver.RoomId, message.Room, StringComparison.Ordinal))
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, $"The sender key is for room {receiver.RoomId}, but came in room {message.Room}.");
        }

        var name = StateEntries.Receiver(message.Room, message.Sender, envelope.SenderDevice);
        var existing = await LoadReceiverAsync(name, cancellationToken).ConfigureAwait(false);
        await opened.CommitAsync().ConfigureAwait(false);

        // The same key again (a replay) must not take a receiver back to an earlier iteration.
        if (existing is null || !existing.KeyId.AsSpan().SequenceEqual(receiver.KeyId))
        {
            await _store.SaveAsync(name, receiver.Export(), CancellationToken.None).ConfigureAwait(false);
            _receivers[name] = receiver;
        }

        if (_replenishDue)
        {
            await TryReplenishAsync(cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private async Task<string> ReadGroupAsync(MessageInfo message, EncryptedEnvelope envelope, CancellationToken cancellationToken)
    {
        var name = StateEntries.Receiver(message.Room, message.Sender, envelope.SenderDevice);
        var receiver = await LoadReceiverAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new EncryptionException(EncryptionErrorCodes.UnknownSenderKey, $"This device has no sender key of device '{envelope.SenderDevice}' of user '{message.Sender}' in room {message.Room}.");
        var text = Encoding.UTF8.GetString(receiver.Decrypt(envelope.GroupMessage));
        await _store.SaveAsync(name, receiver.Export(), CancellationToken.None).ConfigureAwait(false);
        return text;
    }

    private async Task<SenderKeyReceiver?> LoadReceiverAsync(string name, CancellationToken cancellationToken)
    {
        if (_receivers.TryGetValue(name, out var receiver))
        {
            return receiver;
        }

        var saved = await _store.LoadAsync(name, cancellationToken).ConfigureAwait(false);
        if (saved is null)
        {
            return null;
        }

        receiver = SenderKeyReceiver.Import(saved);
        _receivers[name] = receiver;
        return receiver;
    }

    /// <summary>
    /// This device's sender key for the room, sent first to every target that lacks it; a new one when a device that
    /// had it is no longer a target, or is there with other keys (reinstalled, or replaced).
    /// </summary>
    private async Task<SenderKeyChain> SenderKeyForAsync(string room, List<DeviceIdentityKey> targets, CancellationToken cancellationToken)
    {
        var savedChain = await _store.LoadAsync(StateEntries.SenderKey(room), cancellationToken).ConfigureAwait(false);
        var savedSentTo = await _store.LoadAsync(StateEntries.SentTo(room), cancellationToken).ConfigureAwait(false);
        var sentTo = savedSentTo is null ? new HashSet<string>(StringComparer.Ordinal) : Encoding.UTF8.GetString(savedSentTo).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var current = targets.Select(Holder).ToHashSet(StringComparer.Ordinal);
        var chain = savedChain is null ? null : SenderKeyChain.Import(savedChain);
        if (chain is null || !sentTo.IsSubsetOf(current))
        {
            chain = SenderKeyChain.Create(room);
            sentTo.Clear();
            await _store.SaveAsync(StateEntries.SenderKey(room), chain.Export(), CancellationToken.None).ConfigureAwait(false);
            await _store.SaveAsync(StateEntries.SentTo(room), [], CancellationToken.None).ConfigureAwait(false);
        }

        var limit = _client.Welcome?.Limits?.MaxMessageBytes ?? 16 * 1024;
        var entries = new List<(EnvelopeEntry Entry, string Holder)>();
        foreach (var target in targets.Where(t => !sentTo.Contains(Holder(t))))
        {
            var message = await EncryptPairwiseAsync(target, PairwisePayload.Make(PairwisePayload.SenderKey, room, chain.Distribution()), cancellationToken).ConfigureAwait(false);
            var entry = new EnvelopeEntry(target.UserId, target.DeviceId, message);
            if (entries.Count > 0 && KeysBody([.. entries.Select(e => e.Entry), entry]).Length > limit)
            {
                await SendKeysAsync(room, entries, sentTo, cancellationToken).ConfigureAwait(false);
                entries.Clear();
            }

            entries.Add((entry, Holder(target)));
        }

        if (entries.Count > 0)
        {
            await SendKeysAsync(room, entries, sentTo, cancellationToken).ConfigureAwait(false);
        }

        return chain;
    }

    /// <summary>A device that holds a sender key, named with a digest of its keys so a reinstalled device counts as another.</summary>
    private static string Holder(DeviceIdentityKey device) =>
        string.Join('\t', device.UserId, device.DeviceId, Convert.ToHexString(SHA256.HashData([.. device.SigningKey, .. device.IdentityKey]), 0, 16));

    private string KeysBody(IReadOnlyList<EnvelopeEntry> entries) => new EncryptedEnvelope(EnvelopeKind.Keys, DeviceId, entries, []).ToBody();

    private async Task SendKeysAsync(string room, List<(EnvelopeEntry Entry, string Holder)> entries, HashSet<string> sentTo, CancellationToken cancellationToken)
    {
        await _client.SendAsync(room, KeysBody([.. entries.Select(e => e.Entry)]), cancellationToken: cancellationToken).ConfigureAwait(false);
        sentTo.UnionWith(entries.Select(e => e.Holder));
        await _store.SaveAsync(StateEntries.SentTo(room), Encoding.UTF8.GetBytes(string.Join('\n', sentTo)), CancellationToken.None).ConfigureAwait(false);
    }
}
