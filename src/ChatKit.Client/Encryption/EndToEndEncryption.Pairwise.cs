using System.Text;
using ChatKit.Encryption;
using ChatKit.Keys;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>Pairwise sessions: up to three per peer device, newest first (two devices that start sessions with each other at once converge on the one that answered).</summary>
public sealed partial class EndToEndEncryption
{
    private const int KeptSessionsPerDevice = 3;

    private async Task<string> ReadDirectAsync(MessageInfo message, EncryptedEnvelope envelope, CancellationToken cancellationToken)
    {
        var entry = envelope.For(UserId, DeviceId) ?? throw NotForThisDevice();
        var opened = await OpenPairwiseAsync(message.Sender, envelope.SenderDevice, entry.Message, cancellationToken).ConfigureAwait(false);
        var text = Encoding.UTF8.GetString(PairwisePayload.Open(opened.Payload, PairwisePayload.Text, message.Room));
        await opened.CommitAsync().ConfigureAwait(false);
        if (_replenishDue)
        {
            await TryReplenishAsync(cancellationToken).ConfigureAwait(false);
        }

        return text;
    }

    private static EncryptionException NotForThisDevice() =>
        new(EncryptionErrorCodes.UnknownPreKey, "The message holds nothing for this device: it was sent before the device published its keys, or its sender did not know the device yet.");

    /// <summary>
    /// Decrypts a pairwise message without keeping anything: the caller checks the payload, then commits (which saves
    /// the session, and for a new handshake the device's keys). A failed check leaves every saved state as it was.
    /// </summary>
    private async Task<Opened> OpenPairwiseAsync(string sender, string senderDevice, byte[] message, CancellationToken cancellationToken)
    {
        var sessions = await LoadSessionsAsync(sender, senderDevice, cancellationToken).ConfigureAwait(false);
        var baseKey = RatchetSession.PreKeyMessageBaseKey(message);
        if (baseKey is not null && !sessions.Exists(s => s.BaseKey.AsSpan().SequenceEqual(baseKey)))
        {
            var initiator = RatchetSession.PreKeyMessageInitiator(message)!;
            if (!string.Equals(initiator.UserId, sender, StringComparison.Ordinal) || !string.Equals(initiator.DeviceId, senderDevice, StringComparison.Ordinal))
            {
                throw new EncryptionException(EncryptionErrorCodes.BadSignature, $"The handshake is signed by device '{initiator.DeviceId}' of '{initiator.UserId}', but the message came from device '{senderDevice}' of '{sender}'.");
            }

            var listed = await DevicesAsync(sender, cancellationToken).ConfigureAwait(false);
            if (!listed.Exists(d => d.SameKeysAs(initiator)))
            {
                throw new EncryptionException(EncryptionErrorCodes.UnknownDevice, $"The key directory does not list device '{senderDevice}' of '{sender}' with the keys that signed this handshake.");
            }

            var accepted = RatchetSession.Open(_device, message);
            return new Opened(accepted.Plaintext, async () =>
            {
                accepted.Complete();
                sessions.Insert(0, accepted.Session);
                await SaveSessionsAsync(sender, senderDevice, sessions).ConfigureAwait(false);
                await SaveDeviceAsync().ConfigureAwait(false);
                await RememberSeenAsync(accepted.Session.Peer).ConfigureAwait(false);
                _replenishDue = true;
            });
        }

        // A prekey message of a known handshake goes to that session only; other messages may belong to any.
        var candidates = baseKey is null ? sessions : sessions.Where(s => s.BaseKey.AsSpan().SequenceEqual(baseKey)).ToList();
        EncryptionException? first = null;
        EncryptionException? replayed = null;
        foreach (var session in candidates)
        {
            try
            {
                var plaintext = session.Decrypt(message);
                return new Opened(plaintext, async () =>
                {
                    sessions.Remove(session);
                    sessions.Insert(0, session);
                    await SaveSessionsAsync(sender, senderDevice, sessions).ConfigureAwait(false);
                });
            }
            catch (EncryptionException ex)
            {
                first ??= ex;
                replayed ??= string.Equals(ex.Code, EncryptionErrorCodes.Replayed, StringComparison.Ordinal) ? ex : null;
            }
        }

        throw replayed ?? first ?? new EncryptionException(EncryptionErrorCodes.UnknownPreKey, $"There is no session with device '{senderDevice}' of '{sender}' and the message does not start one.");
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
            await RememberSeenAsync(target).ConfigureAwait(false);
        }

        var message = sessions[0].Encrypt(payload);
        await SaveSessionsAsync(target.UserId, target.DeviceId, sessions).ConfigureAwait(false);
        return message;
    }

    private async Task<List<RatchetSession>> LoadSessionsAsync(string user, string device, CancellationToken cancellationToken)
    {
        var saved = await _store.LoadAsync(StateEntries.Sessions(user, device), cancellationToken).ConfigureAwait(false);
        var sessions = new List<RatchetSession>();
        if (saved is null)
        {
            return sessions;
        }

        try
        {
            using var binary = new BinaryReader(new MemoryStream(saved));
            for (var count = binary.ReadInt32(); count > 0; count--)
            {
                sessions.Add(RatchetSession.Import(binary.ReadBytes(binary.ReadInt32())));
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or ArgumentException or IOException)
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, $"The saved sessions with device '{device}' of '{user}' are damaged.", ex);
        }

        return sessions;
    }

    private async Task SaveSessionsAsync(string user, string device, List<RatchetSession> sessions)
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

        // Once a message was decrypted its state is kept whatever the caller's token says: the message key is gone.
        await _store.SaveAsync(StateEntries.Sessions(user, device), buffer.ToArray(), CancellationToken.None).ConfigureAwait(false);
    }

    private sealed record Opened(byte[] Payload, Func<Task> CommitAsync);
}
