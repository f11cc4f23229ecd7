namespace ChatKit.Model;

/// <summary>What a receipt says about a message.</summary>
public enum ReceiptKind
{
    /// <summary>The message reached one of the user's devices.</summary>
    Delivered = 0,

    /// <summary>The user has read the message (implies delivered).</summary>
    Read = 1,
}
