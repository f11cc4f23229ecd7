using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ChatKit.Samples.Web.DevSignIn;

/// <summary>
/// DEVELOPMENT ONLY: accepts the tokens that <see cref="DevTokens"/> issues, from an <c>Authorization: Bearer</c>
/// header or, for browsers' WebSockets, an <c>access_token</c> query parameter. A real app uses its own
/// authentication (cookies, JWT bearer, OpenID Connect); ChatKit only reads <c>HttpContext.User</c>.
/// </summary>
internal sealed class DevTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DevTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "DevToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken();
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!tokens.TryRead(token, out var userId, out var name))
        {
            return Task.FromResult(AuthenticateResult.Fail("The token is invalid or expired; sign in again."));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, userId), new Claim(ClaimTypes.Name, name)],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    private string? ReadToken()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        var query = Request.Query["access_token"].ToString();
        return query.Length > 0 ? query : null;
    }
}
