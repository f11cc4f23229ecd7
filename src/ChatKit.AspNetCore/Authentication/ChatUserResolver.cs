using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using ChatKit.AspNetCore.Hosting;
using ChatKit.Model;
using Microsoft.Extensions.Options;

namespace ChatKit.AspNetCore.Authentication;

/// <summary>Turns the host's authenticated <see cref="ClaimsPrincipal"/> into a ChatKit user.</summary>
internal sealed class ChatUserResolver(IOptions<ChatKitServerOptions> options)
{
    private const int MaxUserIdLength = 128;
    private const int MaxNameLength = 100;

    /// <summary>Returns the user, or an explanation of why the principal cannot chat.</summary>
    public bool TryResolve(ClaimsPrincipal principal, [NotNullWhen(true)] out ChatUser? user, [NotNullWhen(false)] out string? problem)
    {
        user = null;
        if (principal.Identity?.IsAuthenticated != true)
        {
            problem = "The request is not authenticated; sign in with the host app's authentication first.";
            return false;
        }

        var settings = options.Value;
        var id = principal.FindFirst(settings.UserIdClaimType)?.Value ?? principal.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(id) || id.Length > MaxUserIdLength || id.Any(char.IsControl))
        {
            problem = $"The authenticated user has no usable '{settings.UserIdClaimType}' claim (1 to {MaxUserIdLength} characters, no control characters); set ChatKit:Server:UserIdClaimType to the claim that holds the user id.";
            return false;
        }

        var name = principal.FindFirst(settings.DisplayNameClaimType)?.Value ?? principal.FindFirst("name")?.Value;
        name = string.IsNullOrWhiteSpace(name) || name.Any(char.IsControl) ? id : name.Trim();
        user = new ChatUser(id, name.Length > MaxNameLength ? name[..MaxNameLength] : name);
        problem = null;
        return true;
    }
}
