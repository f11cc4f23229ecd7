namespace ChatKit.Protocol;

/// <summary>How many one-time prekeys the directory holds for one of the caller's devices.</summary>
public sealed class DeviceKeyStatus
{
    /// <summary>The device id.</summary>
    public required string Device { get; init; }

    /// <summary>The one-time prekeys left.</summary>
    public int OneTimePreKeys { get; init; }

    /// <summary>Whether that is below the server's threshold: upload more.</summary>
    public bool Low { get; init; }
}
