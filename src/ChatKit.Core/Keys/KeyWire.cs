using System.Buffers.Text;
using ChatKit.Encryption;
using ChatKit.Engine;
using ChatKit.Protocol;

namespace ChatKit.Keys;

/// <summary>Converts keys between their JSON form (base64url) and <see cref="ChatKit.Encryption"/> types; the server and the .NET client share it.</summary>
public static class KeyWire
{
    /// <summary>The JSON form of an identity.</summary>
    public static IdentityKeyInfo ToInfo(DeviceIdentityKey identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return new()
        {
            User = identity.UserId,
            Device = identity.DeviceId,
            SigningKey = Base64Url.EncodeToString(identity.SigningKey),
            IdentityKey = Base64Url.EncodeToString(identity.IdentityKey),
            Signature = Base64Url.EncodeToString(identity.Signature),
        };
    }

    /// <summary>The JSON form of a signed prekey.</summary>
    public static SignedPreKeyInfo ToInfo(SignedPreKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new() { Id = key.Id, PublicKey = Base64Url.EncodeToString(key.PublicKey), Signature = Base64Url.EncodeToString(key.Signature) };
    }

    /// <summary>The JSON form of a one-time prekey.</summary>
    public static OneTimePreKeyInfo ToInfo(OneTimePreKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new() { Id = key.Id, PublicKey = Base64Url.EncodeToString(key.PublicKey) };
    }

    /// <summary>The JSON form of a bundle.</summary>
    public static PreKeyBundleInfo ToInfo(PreKeyBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return new()
        {
            Identity = ToInfo(bundle.Identity),
            SignedPreKey = ToInfo(bundle.SignedPreKey),
            OneTimePreKey = bundle.OneTimePreKey is null ? null : ToInfo(bundle.OneTimePreKey),
        };
    }

    /// <summary>Reads an identity; throws <see cref="ChatException"/> (<c>invalid_key</c> or <c>missing_field</c>) when a field is missing or not base64url of the right length.</summary>
    public static DeviceIdentityKey FromInfo(IdentityKeyInfo? info)
    {
        var value = info ?? throw new ChatException(ChatErrorCodes.MissingField, "Field 'identity' is required.");
        return new DeviceIdentityKey(
            Required(value.User, "identity.user"),
            Required(value.Device, "identity.device"),
            Bytes(value.SigningKey, "identity.signingKey", P256.PublicKeyLength),
            Bytes(value.IdentityKey, "identity.identityKey", P256.PublicKeyLength),
            Bytes(value.Signature, "identity.signature", P256.SignatureLength));
    }

    /// <summary>Reads a signed prekey.</summary>
    public static SignedPreKey FromInfo(SignedPreKeyInfo? info)
    {
        var value = info ?? throw new ChatException(ChatErrorCodes.MissingField, "Field 'signedPreKey' is required.");
        return new SignedPreKey(
            value.Id ?? throw new ChatException(ChatErrorCodes.MissingField, "Field 'signedPreKey.id' is required."),
            Bytes(value.PublicKey, "signedPreKey.publicKey", P256.PublicKeyLength),
            Bytes(value.Signature, "signedPreKey.signature", P256.SignatureLength));
    }

    /// <summary>Reads a one-time prekey.</summary>
    public static OneTimePreKey FromInfo(OneTimePreKeyInfo? info)
    {
        var value = info ?? throw new ChatException(ChatErrorCodes.MissingField, "Field 'oneTimePreKeys' must not hold null.");
        return value.Id is null or 0
            ? throw new ChatException(ChatErrorCodes.InvalidField, "Field 'oneTimePreKeys[].id' is required and must not be 0.")
            : new OneTimePreKey(value.Id.Value, Bytes(value.PublicKey, "oneTimePreKeys[].publicKey", P256.PublicKeyLength));
    }

    /// <summary>Reads a bundle.</summary>
    public static PreKeyBundle FromInfo(PreKeyBundleInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new PreKeyBundle(FromInfo(info.Identity), FromInfo(info.SignedPreKey), info.OneTimePreKey is null ? null : FromInfo(info.OneTimePreKey));
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new ChatException(ChatErrorCodes.MissingField, $"Field '{field}' is required.") : value;

    private static byte[] Bytes(string? value, string field, int length)
    {
        var text = Required(value, field);
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(text);
        }
        catch (FormatException ex)
        {
            throw new ChatException(ChatErrorCodes.InvalidKey, $"Field '{field}' must be unpadded base64url.", ex);
        }

        return bytes.Length == length ? bytes : throw new ChatException(ChatErrorCodes.InvalidKey, $"Field '{field}' must hold {length} bytes; it holds {bytes.Length}.");
    }
}
