using ChatKit.Model;
using ChatKit.Storage;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace ChatKit.Transport.Kafka;

/// <summary>
/// Stores what the partition writers could not (consumer group <c>{prefix}.store</c>): it reads the messages topic in
/// order, stores every message marked unstored through the store port, and commits its offsets only after the store
/// took them. While the database is down it waits and tries the same messages again; stores ignore repeats, so the
/// stored effect is exactly once.
/// </summary>
internal sealed partial class StoreWorker(KafkaClients clients, IChatStore store, ILogger<StoreWorker> logger) : ConsumerLoop
{
    private const int MaxBatch = 500;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public void Start()
    {
        var consumer = new ConsumerBuilder<byte[], byte[]>(clients.BackgroundConsumer(clients.StoreGroup)).Build();
        consumer.Subscribe(clients.Options.MessagesTopic);
        Run(consumer);
    }

    protected override void Loop()
    {
        while (!Stopping.IsCancellationRequested)
        {
            var batch = Consumer.TakeBatch(MaxBatch, Poll, ex => LogConsumeFailed(logger, ex));
            if (batch.Count == 0)
            {
                continue;
            }

            // The writers store nearly everything themselves while the database is up: only records marked unstored are parsed.
            var unstored = batch.Where(r => LogRecords.NeedsStoring(r.Message)).Select(r => LogRecords.ReadNumbered(r.Message))
                .OfType<NumberedRecord>().Select(r => r.Message).ToList();
            while (unstored.Count > 0 && !Stopping.IsCancellationRequested && !TryStore(unstored))
            {
                Pause(clients.Options.StoreRetryDelay);
            }

            if (Stopping.IsCancellationRequested)
            {
                return;
            }

            try
            {
                Consumer.Commit(batch.GroupBy(r => r.TopicPartition).Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1)));
            }
            catch (KafkaException ex)
            {
                // The next commit covers these offsets; until then a restart stores them again, which changes nothing.
                LogCommitFailed(logger, ex);
            }
        }
    }

    private bool TryStore(List<ChatMessage> messages)
    {
        try
        {
            var results = OwnThread.Wait(store.StoreLoggedMessagesAsync(messages, CancellationToken.None));
            foreach (var result in results.Where(r => r.Outcome is not (LoggedMessageOutcome.Stored or LoggedMessageOutcome.AlreadyStored)))
            {
                LogNotStored(logger, result.Outcome, result.Message.RoomId, result.Message.Sequence);
            }

            return true;
        }
        catch (Exception ex) when (!Stopping.IsCancellationRequested)
        {
            LogStoreDown(logger, ex, messages.Count);
            return false;
        }
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "The store did not take {Count} messages from the log; trying again")]
    private static partial void LogStoreDown(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Warning, Message = "The log's message {RoomId} {Sequence} was not stored: {Outcome}")]
    private static partial void LogNotStored(ILogger logger, LoggedMessageOutcome outcome, string roomId, long sequence);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "Committing the store worker's offsets failed; the next commit covers them")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Warning, Message = "Reading the messages topic for the store failed; reading goes on")]
    private static partial void LogConsumeFailed(ILogger logger, Exception exception);
}
