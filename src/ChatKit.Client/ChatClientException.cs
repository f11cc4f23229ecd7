using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>
/// A request or connection that failed. <see cref="Code"/> is stable: a server error code from
/// <see cref="ChatErrorCodes"/> (the server's English explanation is the <see cref="Exception.Message"/>), or one
/// of <see cref="ChatClientErrorCodes"/> for failures the client detects itself.
/// </summary>
public sealed class ChatClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The stable error code.</param>
    /// <param name="message">A message for developers.</param>
    public ChatClientException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates the exception around the failure that caused it.</summary>
    /// <param name="code">The stable error code.</param>
    /// <param name="message">A message for developers.</param>
    /// <param name="innerException">The underlying failure.</param>
    public ChatClientException(string code, string message, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The stable error code, for example <c>forbidden</c> or <c>connection_lost</c>.</summary>
    public string Code { get; }

    /// <summary>
    /// For <see cref="ChatErrorCodes.RateLimited"/>: how long to wait before sending again; otherwise
    /// <see langword="null"/>.
    /// </summary>
    public TimeSpan? RetryAfter { get; init; }
}
