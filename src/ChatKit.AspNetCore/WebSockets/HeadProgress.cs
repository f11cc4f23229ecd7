namespace ChatKit.AspNetCore.WebSockets;

/// <summary>How far <see cref="UpgradeRequest.TryRead"/> got with a connection's head in earlier calls.</summary>
internal struct HeadProgress
{
    /// <summary>Bytes searched for the end of the request line without finding it.</summary>
    public long LineSearched;

    /// <summary>Bytes searched for the end of the head without finding it.</summary>
    public long HeadSearched;

    /// <summary>Whether the request line has ended and names one of the paths.</summary>
    public bool RequestLineAccepted;
}
