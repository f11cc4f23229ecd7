using ChatKit.Protocol;

namespace ChatKit.Engine;

/// <summary>
/// A request ChatKit refuses, with a stable <see cref="Code"/> from <see cref="ChatErrorCodes"/> that reaches the
/// client unchanged. Nothing was changed when it is thrown.
/// </summary>
public sealed class ChatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChatException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates the exception around the failure that caused it.</summary>
    public ChatException(string code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The stable error code.</summary>
    public string Code { get; }
}
