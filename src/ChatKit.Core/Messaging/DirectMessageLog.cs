using ChatKit.Model;
using ChatKit.Storage;

namespace ChatKit.Messaging;

/// <summary>
/// The default <see cref="IMessageLog"/>: no log in front of the store. The store's atomic per-room counter is the
/// single writer that assigns sequences, and the message is durable once the store has it.
/// </summary>
public sealed class DirectMessageLog(IChatStore store) : IMessageLog
{
    /// <inheritdoc />
    public ValueTask<AppendResult> AppendAsync(NewMessage message, CancellationToken cancellationToken) =>
        store.AppendMessageAsync(message, cancellationToken);
}
