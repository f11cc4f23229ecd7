namespace ChatKit.Protocol;

/// <summary>The JSON body of an HTTP endpoint's error response.</summary>
public sealed class ErrorBody
{
    /// <summary>The stable error code (see <see cref="ChatErrorCodes"/>).</summary>
    public required string Code { get; init; }

    /// <summary>A message for developers.</summary>
    public required string Message { get; init; }
}
