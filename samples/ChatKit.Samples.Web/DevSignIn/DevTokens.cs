using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace ChatKit.Samples.Web.DevSignIn;

/// <summary>DEVELOPMENT ONLY: issues signed, time-limited tokens for whatever name a person types.</summary>
internal sealed class DevTokens(IDataProtectionProvider provider, TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("ChatKit.Samples.Web.DevSignIn").ToTimeLimitedDataProtector();

    /// <summary>Makes a user id from a display name: lower case letters, digits and dashes.</summary>
    public static string? UserIdFor(string name)
    {
        var id = new StringBuilder();
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                id.Append(c);
            }
            else if (id.Length > 0 && id[^1] != '-')
            {
                id.Append('-');
            }
        }

        var result = id.ToString().Trim('-');
        return result.Length is > 0 and <= 32 ? result : null;
    }

    public string Issue(string userId, string name) =>
        _protector.Protect($"{userId}\n{name}", time.GetUtcNow() + Lifetime);

    public bool TryRead(string token, [NotNullWhen(true)] out string? userId, [NotNullWhen(true)] out string? name)
    {
        userId = name = null;
        try
        {
            var parts = _protector.Unprotect(token, out _).Split('\n', 2);
            if (parts.Length != 2)
            {
                return false;
            }

            (userId, name) = (parts[0], parts[1]);
            return true;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}
