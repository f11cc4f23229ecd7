using System.Security.Claims;

namespace ChatKit.AspNetCore.Hosting;

/// <summary>How the ASP.NET Core endpoint reads users and keeps sockets alive; bound from <c>ChatKit:Server</c>.</summary>
public sealed class ChatKitServerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "ChatKit:Server";

    /// <summary>
    /// The claim that holds the user id. Default <see cref="ClaimTypes.NameIdentifier"/>; when the user has no such
    /// claim, <c>sub</c> is used.
    /// </summary>
    public string UserIdClaimType { get; set; } = ClaimTypes.NameIdentifier;

    /// <summary>The claim that holds the display name. Default <see cref="ClaimTypes.Name"/>, then <c>name</c>, then the user id.</summary>
    public string DisplayNameClaimType { get; set; } = ClaimTypes.Name;

    /// <summary>
    /// Origins (scheme, host and port, such as <c>https://chat.example.com</c>) whose pages may open the WebSocket.
    /// Empty (the default) allows any origin, which is safe only when clients authenticate with a token the browser
    /// does not send by itself. With cookie authentication, list your origins: otherwise any site a signed-in user
    /// visits could open a chat connection as that user.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>How often the server pings an idle WebSocket. Default 30 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the socket is dropped. Default 30 seconds.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
