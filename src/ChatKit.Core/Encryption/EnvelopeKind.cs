namespace ChatKit.Encryption;

/// <summary>What an <see cref="EncryptedEnvelope"/> carries.</summary>
public enum EnvelopeKind : byte
{
    /// <summary>The text, encrypted pairwise for each receiving device (direct conversations).</summary>
    Direct = 1,

    /// <summary>The text, encrypted once under the sender's sender key (group rooms).</summary>
    Group = 2,

    /// <summary>No text: the sender's sender key distribution, encrypted pairwise for devices that lack it.</summary>
    Keys = 3,
}
