namespace ChatKit.Protocol;

/// <summary>The stable error codes of the protocol; <c>docs/protocol.md</c> says when each is sent.</summary>
public static class ChatErrorCodes
{
#pragma warning disable CS1591 // Each constant is its wire name; docs/protocol.md describes them.
    public const string MalformedFrame = "malformed_frame";
    public const string UnknownType = "unknown_type";
    public const string MissingField = "missing_field";
    public const string InvalidField = "invalid_field";
    public const string FrameTooLarge = "frame_too_large";
    public const string MessageTooLarge = "message_too_large";
    public const string HelloRequired = "hello_required";
    public const string AlreadyConnected = "already_connected";
    public const string NotFound = "not_found";
    public const string Forbidden = "forbidden";
    public const string DirectRoom = "direct_room";
    public const string InvalidSequence = "invalid_sequence";
    public const string RateLimited = "rate_limited";
    public const string Unavailable = "unavailable";
    public const string InternalError = "internal_error";
    public const string Unauthenticated = "unauthenticated";
    public const string NotEncrypted = "not_encrypted";
    public const string InvalidKey = "invalid_key";
    public const string TooManyKeys = "too_many_keys";
#pragma warning restore CS1591
}
