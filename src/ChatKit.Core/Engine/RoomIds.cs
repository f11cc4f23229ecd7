using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ChatKit.Engine;

/// <summary>Makes room ids: random-ordered ids for group rooms, a fixed id per user pair for direct rooms.</summary>
internal static class RoomIds
{
    public static string NewGroupId(TimeProvider time) => "r_" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N");

    /// <summary>
    /// The same id for (a, b) and (b, a), so opening a direct conversation twice finds the first one; the encrypted
    /// conversation of a pair has an id of its own (prefix <c>e_</c>).
    /// </summary>
    public static string DirectId(string a, string b, bool encrypted)
    {
        var (first, second) = string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);
        var bytes = Encoding.UTF8.GetBytes($"{first.Length}:{first}|{second}");
        var hash = SHA256.HashData(bytes);
        return (encrypted ? "e_" : "d_") + Base64Url.EncodeToString(hash.AsSpan(0, 16));
    }
}
