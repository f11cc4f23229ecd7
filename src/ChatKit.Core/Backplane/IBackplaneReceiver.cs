namespace ChatKit.Backplane;

/// <summary>The node's side of the backplane: hands arriving traffic to the local connections.</summary>
public interface IBackplaneReceiver
{
    /// <summary>Delivers a message to the local connections it targets. Never blocks and never throws.</summary>
    void Receive(BackplaneMessage message);
}
