namespace ChatKit.Client;

/// <summary>
/// One of the user's devices has few one-time prekeys left in the key directory. When it is this device, call
/// <see cref="EndToEndEncryption.ReplenishAsync"/>.
/// </summary>
/// <param name="Device">The device id.</param>
/// <param name="OneTimePreKeys">How many it has left.</param>
public sealed record KeysLowEvent(string Device, int OneTimePreKeys) : ChatEvent;
