using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ChatKit.Encryption;

/// <summary>
/// The number two users compare (read aloud, or side by side) to know that no one sits between them: 60 digits made
/// from both users' ids and the signing keys of all their devices. Both sides compute the same number; it changes
/// when either user adds, removes or re-keys a device.
/// </summary>
public static class SafetyNumber
{
    /// <summary>How many times each user's fingerprint is hashed: makes a search for a colliding key costly.</summary>
    public const int Iterations = 5200;

    private const ushort FormatVersion = 0;

    /// <summary>The safety number of two users, as 60 digits (show it in 12 groups of 5).</summary>
    public static string Compute(string userA, IEnumerable<byte[]> signingKeysA, string userB, IEnumerable<byte[]> signingKeysB)
    {
        var a = Fingerprint(userA, signingKeysA);
        var b = Fingerprint(userB, signingKeysB);
        return string.CompareOrdinal(a, b) <= 0 ? a + b : b + a;
    }

    /// <summary>One user's half: 30 digits from the user id and the signing keys of all the user's devices.</summary>
    public static string Fingerprint(string userId, IEnumerable<byte[]> signingKeys)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(signingKeys);
        var keys = signingKeys.ToList();
        if (keys.Count == 0)
        {
            throw new ArgumentException("A user needs at least one device key for a safety number.", nameof(signingKeys));
        }

        foreach (var key in keys)
        {
            P256.Validate(key);
        }

        keys.Sort((x, y) => x.AsSpan().SequenceCompareTo(y));
        byte[] combined = [.. keys.SelectMany(k => k)];
        var hash = SHA512.HashData([(byte)(FormatVersion >> 8), (byte)FormatVersion, .. combined, .. Encoding.UTF8.GetBytes(userId)]);
        for (var i = 0; i < Iterations; i++)
        {
            hash = SHA512.HashData([.. hash, .. combined]);
        }

        var digits = new StringBuilder(30);
        for (var chunk = 0; chunk < 6; chunk++)
        {
            ulong value = 0;
            for (var i = 0; i < 5; i++)
            {
                value = (value << 8) | hash[(chunk * 5) + i];
            }

            digits.Append((value % 100000).ToString("D5", CultureInfo.InvariantCulture));
        }

        return digits.ToString();
    }
}
