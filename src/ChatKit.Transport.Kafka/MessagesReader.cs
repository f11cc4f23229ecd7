using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace ChatKit.Transport.Kafka;

/// <summary>
/// Reads every partition of the messages topic on this node, from where the log ended when the node started, and
/// hands each numbered message to <see cref="KafkaMessageLog"/> so the send waiting for it completes.
/// </summary>
/// <remarks>
/// Partition order is the arbiter: for each room the first record of a sequence wins. A later record with a sequence
/// already seen (from a writer that lost its partition and had not noticed yet) is ignored, unless it is a repeat,
/// which answers a retried send with the original message.
/// </remarks>
internal sealed partial class MessagesReader(KafkaClients clients, KafkaMessageLog log, ILogger<MessagesReader> logger) : ConsumerLoop
{
    private readonly Dictionary<string, long> _latest = new(StringComparer.Ordinal);

    /// <summary>Takes the end of every partition as the starting point, then reads on a thread of its own.</summary>
    public void Start(int partitions)
    {
        var topic = clients.Options.MessagesTopic;
        var consumer = new ConsumerBuilder<byte[], byte[]>(clients.Consumer($"{clients.Options.GroupPrefix}.reader.{clients.NodeId}", KafkaClients.ResultHeaders)).Build();
        var starts = Enumerable.Range(0, partitions)
            .Select(p => new TopicPartition(topic, p))
            .Select(tp => new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, clients.Options.ConnectTimeout).High))
            .ToList();
        consumer.Assign(starts);
        Run(consumer);
    }

    protected override void Loop()
    {
        while (!Stopping.IsCancellationRequested)
        {
            try
            {
                var result = Consumer.Consume(Stopping);
                if (result?.Message is null || LogRecords.ReadNumbered(result.Message) is not { } record)
                {
                    continue;
                }

                var latest = _latest.GetValueOrDefault(record.Message.RoomId);
                if (record.Message.Sequence > latest)
                {
                    _latest[record.Message.RoomId] = record.Message.Sequence;
                }
                else if (!record.Repeat)
                {
                    LogLoser(logger, record.Message.RoomId, record.Message.Sequence, LogRecords.Writer(result.Message));
                    continue;
                }

                log.Numbered(record);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ConsumeException ex)
            {
                LogConsumeFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "Room {RoomId} sequence {Sequence} came again from writer {Writer}, which lost its partition; the first record of it stands")]
    private static partial void LogLoser(ILogger logger, string roomId, long sequence, string writer);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Reading the messages topic failed; reading goes on")]
    private static partial void LogConsumeFailed(ILogger logger, Exception exception);
}
