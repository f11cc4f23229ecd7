using System.Collections.Concurrent;
using ChatKit.Engine;
using ChatKit.Messaging;
using ChatKit.Model;
using ChatKit.Protocol;
using Confluent.Kafka;

namespace ChatKit.Transport.Kafka;

/// <summary>
/// <see cref="IMessageLog"/> on Kafka: a send goes to the incoming topic (idempotent, <c>acks=all</c>), and completes
/// when this node reads it back numbered from the messages topic, the moment it is durable with its sequence.
/// </summary>
public sealed class KafkaMessageLog : IMessageLog, IDisposable
{
    private readonly KafkaClients _clients;
    private readonly ConcurrentDictionary<(string Room, string Cmid), TaskCompletionSource<AppendResult>> _waiting = new();
    private readonly Lazy<IProducer<byte[], byte[]>> _producer;
    private int _disposed;

    /// <summary>Creates the log; its producer connects on the first send.</summary>
    public KafkaMessageLog(KafkaClients clients)
    {
        _clients = clients;
        _producer = new Lazy<IProducer<byte[], byte[]>>(() =>
        {
            // The producer stops retrying a record after SendTimeout too (it may have reached the log all the same: a retry
            // with the same cmid is then answered with it).
            var config = clients.Producer();
            config.MessageTimeoutMs = (int)clients.Options.SendTimeout.TotalMilliseconds;
            return new ProducerBuilder<byte[], byte[]>(config).Build();
        });
    }

    /// <inheritdoc />
    public async ValueTask<AppendResult> AppendAsync(NewMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var key = (message.RoomId, message.ClientMessageId);
        var waiter = _waiting.GetOrAdd(key, _ => new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            try
            {
                var record = new Message<byte[], byte[]> { Key = LogRecords.Key(message.RoomId), Value = LogRecords.Incoming(message) };
                await _producer.Value.ProduceAsync(_clients.Options.IncomingTopic, record, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException ex)
            {
                throw new ChatException(ChatErrorCodes.Unavailable, "The message log did not confirm the message in time. Retry the send with the same cmid: it is stored once.", ex);
            }

            try
            {
                return await waiter.Task.WaitAsync(_clients.Options.SendTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new ChatException(ChatErrorCodes.Unavailable, "The message is in the log but was not numbered in time. Retry the send with the same cmid: it is stored once.", ex);
            }
        }
        finally
        {
            _waiting.TryRemove(new KeyValuePair<(string, string), TaskCompletionSource<AppendResult>>(key, waiter));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_producer.IsValueCreated && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(5));
            _producer.Value.Dispose();
        }
    }

    /// <summary>A message came back numbered: the send waiting for it, if any is on this node, completes.</summary>
    internal void Numbered(NumberedRecord record)
    {
        if (_waiting.TryGetValue((record.Message.RoomId, record.Message.ClientMessageId), out var waiter))
        {
            waiter.TrySetResult(new AppendResult(record.Message, Duplicate: record.Repeat));
        }
    }
}
