using ChatKit.Model;

namespace ChatKit.Messaging;

/// <summary>
/// The path a sent message takes to durability. The default appends straight to the <see cref="ChatKit.Storage.IChatStore"/>;
/// a durable log (Kafka) puts itself in front of the store and assigns sequences in its partition's single writer.
/// </summary>
/// <remarks>
/// <see cref="AppendAsync"/> completes only once the message is durable (stored, or in the log with every
/// replica's acknowledgement), which is when the sender is acknowledged (guarantee 3). It is idempotent by
/// (room, client message id).
/// </remarks>
public interface IMessageLog
{
    /// <summary>Makes the message durable and returns it with its sequence number.</summary>
    ValueTask<AppendResult> AppendAsync(NewMessage message, CancellationToken cancellationToken);
}
