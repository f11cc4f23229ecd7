namespace ChatKit.Backplane;

/// <summary>The node's side of the backplane: hands arriving traffic to the local connections.</summary>
public interface IBackplaneReceiver
{
    /// <summary>Delivers a message to the local connections it targets. Never blocks and never throws.</summary>
    void Receive(BackplaneMessage message);

    /// <summary>
    /// Whether this node has connections in the room now. A backplane that subscribes per room asks this after
    /// each subscription change, so changes that reach it out of order still end in the right state.
    /// </summary>
    bool HasRoom(string roomId);

    /// <summary>Whether this node has connections of the user now.</summary>
    bool HasUser(string userId);

    /// <summary>
    /// The backplane may have lost traffic (it was disconnected, or a publish failed): every local connection
    /// catches its rooms up from the store. Never blocks and never throws.
    /// </summary>
    void Resynchronize();
}
