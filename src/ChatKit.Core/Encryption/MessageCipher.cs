using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>
/// The Signal specification's recommended message encryption: AES-256-CBC with PKCS#7 padding, then HMAC-SHA256 over
/// the associated data and the ciphertext, appended in full (32 bytes). The MAC is checked in constant time before
/// anything is decrypted.
/// </summary>
internal static class MessageCipher
{
    public const int MacLength = 32;

    public static byte[] Encrypt(byte[] messageKey, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var keys = Kdf.MessageKeys(messageKey);
        try
        {
            using var aes = Aes.Create();
            aes.Key = keys[..32];
            var ciphertext = aes.EncryptCbc(plaintext, keys.AsSpan(64, 16), PaddingMode.PKCS7);
            var output = new byte[ciphertext.Length + MacLength];
            ciphertext.CopyTo(output, 0);
            Mac(keys.AsSpan(32, 32), associatedData, ciphertext, output.AsSpan(ciphertext.Length));
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keys);
        }
    }

    public static byte[] Decrypt(byte[] messageKey, ReadOnlySpan<byte> ciphertextAndMac, ReadOnlySpan<byte> associatedData)
    {
        if (ciphertextAndMac.Length < 16 + MacLength || (ciphertextAndMac.Length - MacLength) % 16 != 0)
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, "The ciphertext is not a whole number of AES blocks followed by a 32-byte MAC.");
        }

        var keys = Kdf.MessageKeys(messageKey);
        try
        {
            var ciphertext = ciphertextAndMac[..^MacLength];
            Span<byte> expected = stackalloc byte[MacLength];
            Mac(keys.AsSpan(32, 32), associatedData, ciphertext, expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, ciphertextAndMac[^MacLength..]))
            {
                throw new EncryptionException(EncryptionErrorCodes.NotAuthentic, "The message's MAC does not verify: it was altered, or encrypted under other keys or associated data.");
            }

            using var aes = Aes.Create();
            aes.Key = keys[..32];
            try
            {
                return aes.DecryptCbc(ciphertext, keys.AsSpan(64, 16), PaddingMode.PKCS7);
            }
            catch (CryptographicException ex)
            {
                throw new EncryptionException(EncryptionErrorCodes.Malformed, "The message's padding is invalid.", ex);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keys);
        }
    }

    private static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(associatedData);
        hmac.AppendData(ciphertext);
        hmac.GetHashAndReset(destination);
    }
}
