namespace ChatKit.Model;

/// <summary>The authenticated user behind a request.</summary>
/// <param name="Id">The user id.</param>
/// <param name="DisplayName">The name shown to others.</param>
public sealed record ChatUser(string Id, string DisplayName);
