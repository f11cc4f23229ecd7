using System.Buffers.Text;

namespace ChatKit.Encryption;

/// <summary>
/// What an encrypted message body holds, behind <see cref="EncryptedBody.Prefix"/>: the sending device and either
/// one pairwise ratchet message per receiving device (<see cref="EnvelopeKind.Direct"/> content,
/// <see cref="EnvelopeKind.Keys"/> sender key distributions) or one sender key message for all
/// (<see cref="EnvelopeKind.Group"/>). Layout (big-endian): kind byte, sender device (uint16 length + UTF-8), entry
/// count (uint32), each entry as user, device (uint16 length + UTF-8) and message (uint32 length + bytes), then for
/// group envelopes the sender key message (uint32 length + bytes).
/// </summary>
/// <param name="Kind">What the envelope carries.</param>
/// <param name="SenderDevice">The device that sent it (the sending user is the message's sender, as the server vouches).</param>
/// <param name="Entries">The pairwise messages, one per receiving device.</param>
/// <param name="GroupMessage">The sender key message of a group envelope, otherwise empty.</param>
public sealed record EncryptedEnvelope(EnvelopeKind Kind, string SenderDevice, IReadOnlyList<EnvelopeEntry> Entries, byte[] GroupMessage)
{
    /// <summary>The message body: the prefix and the base64url of the envelope.</summary>
    public string ToBody()
    {
        var writer = new WireWriter().Byte((byte)Kind).Text(SenderDevice).UInt32((uint)Entries.Count);
        foreach (var entry in Entries)
        {
            writer.Text(entry.User).Text(entry.Device).Blob(entry.Message);
        }

        if (Kind == EnvelopeKind.Group)
        {
            writer.Blob(GroupMessage);
        }

        return EncryptedBody.Prefix + Base64Url.EncodeToString(writer.ToArray());
    }

    /// <summary>Reads a message body; throws <see cref="EncryptionException"/> (<c>malformed</c>) when it is not an envelope.</summary>
    public static EncryptedEnvelope Parse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!body.StartsWith(EncryptedBody.Prefix, StringComparison.Ordinal))
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, $"The body is not an encrypted envelope: it does not start with '{EncryptedBody.Prefix}'.");
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(body.AsSpan(EncryptedBody.Prefix.Length));
        }
        catch (FormatException ex)
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, "The envelope is not base64url.", ex);
        }

        var reader = new WireReader(bytes, "encrypted envelope");
        var kind = (EnvelopeKind)reader.Byte();
        if (kind is not (EnvelopeKind.Direct or EnvelopeKind.Group or EnvelopeKind.Keys))
        {
            throw reader.Malformed();
        }

        var device = reader.Text();
        var count = reader.UInt32();
        if (count > bytes.Length)
        {
            throw reader.Malformed();
        }

        var entries = new List<EnvelopeEntry>((int)count);
        for (var i = 0; i < count; i++)
        {
            entries.Add(new EnvelopeEntry(reader.Text(), reader.Text(), reader.Blob()));
        }

        var group = kind == EnvelopeKind.Group ? reader.Blob() : [];
        reader.End();
        return new EncryptedEnvelope(kind, device, entries, group);
    }

    /// <summary>The entry for one device, or null when the envelope has none for it.</summary>
    public EnvelopeEntry? For(string user, string device) =>
        Entries.FirstOrDefault(e => string.Equals(e.User, user, StringComparison.Ordinal) && string.Equals(e.Device, device, StringComparison.Ordinal));
}
