namespace ChatKit.Encryption;

/// <summary>
/// A key, signature or encrypted message ChatKit refuses, with a stable <see cref="Code"/> from
/// <see cref="EncryptionErrorCodes"/>. When it is thrown by a decrypt, the session or sender key it was called on is
/// exactly as it was before the call.
/// </summary>
public sealed class EncryptionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EncryptionException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates the exception around the failure that caused it.</summary>
    public EncryptionException(string code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The stable error code.</summary>
    public string Code { get; }
}
