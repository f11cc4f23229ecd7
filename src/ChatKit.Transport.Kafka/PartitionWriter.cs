using System.Diagnostics;
using System.Text;
using ChatKit.Model;
using ChatKit.Storage;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace ChatKit.Transport.Kafka;

/// <summary>
/// The single writer of the incoming-topic partitions this node owns (consumer group <c>{prefix}.writers</c>): it
/// numbers each room's messages, answers retried client message ids with the original, stores the batch through the
/// store port when it can, and writes the numbered messages to the messages topic in one transaction with the
/// incoming offsets, so a batch is numbered exactly once even when the node dies half way.
/// </summary>
/// <remarks>
/// On taking a partition the writer reads the messages-topic partition from where the store worker has confirmed it
/// (everything before is in the store) to its end, and takes each room's latest sequence as the larger of that tail's
/// and the store's. A batch that fails for any reason is read again from its first offset with that knowledge rebuilt.
/// </remarks>
internal sealed partial class PartitionWriter(KafkaClients clients, IChatStore store, ILogger<PartitionWriter> logger) : ConsumerLoop
{
    // A transaction costs two round trips to the coordinator plus the flush of its records (2 to 5 ms on librdkafka's
    // mock cluster for 10 to 2,000 records), so a writer's throughput grows with its batches; under light load a batch
    // is whatever arrived during the previous one.
    private const int MaxBatch = 2000;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private readonly Dictionary<string, RoomLog> _rooms = new(StringComparer.Ordinal);
    private readonly HashSet<int> _unscanned = [];
    private readonly byte[] _writer = Encoding.UTF8.GetBytes(clients.NodeId);
    private IProducer<byte[], byte[]>? _producer;
    private bool _inTransaction;

    /// <summary>
    /// Called on the writer's thread once a batch's transaction has committed, with the batch's messages (repeats
    /// included). For measurements: librdkafka's mock cluster shows records to <c>read_committed</c> readers before
    /// their transaction commits, so there a send can be acknowledged before its batch is committed; a real broker
    /// never does that.
    /// </summary>
    internal Action<IReadOnlyList<ChatMessage>>? Committed { get; set; }

    public void Start()
    {
        var consumer = new ConsumerBuilder<byte[], byte[]>(clients.Consumer(clients.WritersGroup, KafkaClients.ResultTopic))
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                LogAssigned(logger, partitions);
                Forget(partitions.Select(p => p.Partition.Value));
            })
            .SetPartitionsRevokedHandler((_, partitions) => Forget(partitions.Select(p => p.Partition.Value)))
            .SetPartitionsLostHandler((_, partitions) => Forget(partitions.Select(p => p.Partition.Value)))
            .Build();
        consumer.Subscribe(clients.Options.IncomingTopic);
        Run(consumer);
    }

    public override void Dispose()
    {
        base.Dispose();
        _producer?.Dispose();
    }

    private IProducer<byte[], byte[]> NewProducer()
    {
        var producer = new ProducerBuilder<byte[], byte[]>(clients.TransactionalProducer()).Build();
        producer.InitTransactions(clients.Options.ConnectTimeout);
        return producer;
    }

    private void Forget(IEnumerable<int> partitions)
    {
        foreach (var partition in partitions)
        {
            _unscanned.Add(partition);
            foreach (var (room, _) in _rooms.Where(r => r.Value.Partition == partition).ToList())
            {
                _rooms.Remove(room);
            }
        }
    }

    protected override void Loop()
    {
        while (!Stopping.IsCancellationRequested)
        {
            // A rebalance can run inside the consumer while a batch is taken: keep only records of partitions this writer
            // still owns (the new owner reads the others from their committed offsets).
            var taken = Consumer.TakeBatch(MaxBatch, Poll, ex => LogConsumeFailed(logger, ex));
            var owned = taken.Count == 0 ? [] : Consumer.Assignment.ToHashSet();
            var batch = taken.Where(r => owned.Contains(r.TopicPartition)).ToList();
            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                _producer ??= NewProducer();
                Process(batch);
            }
            catch (Exception ex) when (!Stopping.IsCancellationRequested)
            {
                LogBatchFailed(logger, ex, batch.Count);
                Abort();
                if (ex is KafkaException { Error.IsFatal: true })
                {
                    // The producer cannot go on (fenced, or its transactional state is lost): the next batch starts a
                    // new one (making it may fail too while brokers are away; then the batch after tries again).
                    _producer?.Dispose();
                    _producer = null;
                }

                Forget(batch.Select(r => r.Partition.Value).Distinct());
                foreach (var first in batch.GroupBy(r => r.TopicPartition).Select(g => g.First()))
                {
                    Consumer.Seek(first.TopicPartitionOffset);
                }

                Pause(clients.Options.StoreRetryDelay);
            }
        }
    }

    private void Process(List<ConsumeResult<byte[], byte[]>> batch)
    {
        // Every partition this writer owns and has not read the tail of yet, in one pass.
        if (_unscanned.Count > 0)
        {
            ScanTails([.. _unscanned]);
            _unscanned.Clear();
        }

        var outputs = new List<Output>(batch.Count);
        var fresh = new List<Output>();
        var storeAway = false;
        foreach (var result in batch)
        {
            if (LogRecords.ReadIncoming(result.Message.Value) is not { } message)
            {
                LogUnreadable(logger, result.TopicPartitionOffset.ToString());
                continue;
            }

            if (Room(message.RoomId, result.Partition.Value, ref storeAway) is not { } room)
            {
                // Left out, and its offset goes with the batch: it was never acknowledged, its sender gets unavailable
                // and sends it again, and the rest of the partition goes on.
                LogUnnumbered(logger, message.RoomId);
                continue;
            }

            if (room.TryGetRecent(message.ClientMessageId, out var original))
            {
                outputs.Add(new Output(original, repeat: true));
                continue;
            }

            var numbered = new ChatMessage(message.RoomId, room.Latest + 1, message.ClientMessageId, message.SenderId, message.Body, message.SentAt);
            room.Remember(numbered);
            var output = new Output(numbered, repeat: false);
            outputs.Add(output);
            fresh.Add(output);
        }

        Store(fresh);

        // A repeat answers with the room's memory after the store had its say: a duplicate the store caught may have
        // renumbered the messages a repeat was taken from.
        foreach (var output in outputs.Where(o => o.Repeat))
        {
            if (_rooms.TryGetValue(output.Message.RoomId, out var room) && room.TryGetRecent(output.Message.ClientMessageId, out var current))
            {
                output.BecomeRepeatOf(current);
            }
        }

        Commit(outputs, batch);
        Committed?.Invoke(outputs.ConvertAll(o => o.Message));
    }

    /// <summary>Stores what it can; a message the store already has under another sequence becomes a repeat of that one.</summary>
    private void Store(List<Output> fresh)
    {
        var pending = fresh;
        while (pending.Count > 0)
        {
            IReadOnlyList<LoggedMessageResult> results;
            try
            {
                results = OwnThread.Wait(store.StoreLoggedMessagesAsync(pending.Select(o => o.Message).ToList(), CancellationToken.None));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogStoreDown(logger, ex, pending.Count);
                return;
            }

            var next = new List<Output>();
            for (var i = 0; i < pending.Count; i++)
            {
                var output = pending[i];
                switch (results[i].Outcome)
                {
                    case LoggedMessageOutcome.Stored or LoggedMessageOutcome.AlreadyStored:
                        output.Stored = true;
                        break;
                    case LoggedMessageOutcome.SequenceTaken:
                        throw new InvalidOperationException($"Room {output.Message.RoomId} sequence {output.Message.Sequence} is taken in the store by another message; this writer's knowledge was behind.");
                    case LoggedMessageOutcome.Duplicate:
                        // Sent before this writer's memory of the room: answer with the stored one, and number the room's
                        // later messages in this batch one lower.
                        var room = _rooms[output.Message.RoomId];
                        output.BecomeRepeatOf(results[i].Message);
                        room.Remember(results[i].Message);
                        room.Latest--;
                        foreach (var later in pending.Skip(i + 1).Where(o => string.Equals(o.Message.RoomId, output.Message.RoomId, StringComparison.Ordinal)))
                        {
                            later.Renumber(later.Message.Sequence - 1);
                            room.Remember(later.Message);
                        }

                        next = pending.Skip(i + 1).ToList();
                        i = pending.Count;
                        break;
                }
            }

            pending = next;
        }
    }

    private void Commit(List<Output> outputs, List<ConsumeResult<byte[], byte[]>> batch)
    {
        var producer = _producer!;
        producer.BeginTransaction();
        _inTransaction = true;
        foreach (var output in outputs)
        {
            producer.Produce(clients.Options.MessagesTopic, LogRecords.Numbered(output.Message, _writer, output.Stored, output.Repeat));
        }

        var offsets = batch.GroupBy(r => r.TopicPartition).Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1)).ToList();
        Retrying(() => producer.SendOffsetsToTransaction(offsets, Consumer.ConsumerGroupMetadata, clients.Options.ConnectTimeout));
        Retrying(() => producer.CommitTransaction(clients.Options.ConnectTimeout));
        _inTransaction = false;
    }

    /// <summary>
    /// Runs a transaction step until it is done: librdkafka says a step that timed out (a broker away) is to be called
    /// again to resume. Any other failure goes to the caller, which aborts the transaction.
    /// </summary>
    private void Retrying(Action step)
    {
        while (true)
        {
            try
            {
                step();
                return;
            }
            catch (KafkaRetriableException ex) when (!Stopping.IsCancellationRequested)
            {
                LogStepRetried(logger, ex);
            }
        }
    }

    private void Abort()
    {
        if (!_inTransaction)
        {
            return;
        }

        _inTransaction = false;
        try
        {
            Retrying(() => _producer!.AbortTransaction(clients.Options.ConnectTimeout));
        }
        catch (KafkaException ex)
        {
            LogAbortFailed(logger, ex);
        }
    }

    /// <summary>
    /// What the writer knows of a room, or <see langword="null"/> when nobody can say what its latest sequence is: the
    /// store is away (it failed once in this batch) and the log's tail does not mention the room.
    /// </summary>
    private RoomLog? Room(string roomId, int partition, ref bool storeAway)
    {
        if (!_rooms.TryGetValue(roomId, out var room))
        {
            room = new RoomLog(partition);
            _rooms[roomId] = room;
        }

        if (!room.Checked && !storeAway)
        {
            try
            {
                room.Latest = Math.Max(room.Latest, OwnThread.Wait(store.GetLatestSequenceAsync(roomId, CancellationToken.None)));
                room.Checked = true;
            }
            catch (Exception ex) when (!Stopping.IsCancellationRequested)
            {
                LogStoreAway(logger, ex, roomId);
                storeAway = true;
            }
        }

        // With the store away, the log's tail knows a room's latest sequence, which is enough until it is back.
        return room.Checked || room.Scanned ? room : null;
    }

    /// <summary>Learns each room's latest sequence and recent ids from what the store worker has not confirmed yet.</summary>
    private void ScanTails(List<int> partitions)
    {
        var started = Stopwatch.GetTimestamp();
        var config = clients.Consumer(clients.StoreGroup, KafkaClients.ResultHeaders);
        config.EnablePartitionEof = true;
        using var scanner = new ConsumerBuilder<byte[], byte[]>(config).Build();
        var topicPartitions = partitions.Select(p => new TopicPartition(clients.Options.MessagesTopic, p)).ToList();
        var committed = scanner.Committed(topicPartitions, clients.Options.ConnectTimeout).ToDictionary(c => c.Partition.Value, c => c.Offset);
        var starts = new List<TopicPartitionOffset>();
        foreach (var topicPartition in topicPartitions)
        {
            var watermarks = scanner.QueryWatermarkOffsets(topicPartition, clients.Options.ConnectTimeout);
            var from = committed.GetValueOrDefault(topicPartition.Partition.Value, Offset.Unset);
            var start = from == Offset.Unset ? watermarks.Low : new Offset(Math.Max(from.Value, watermarks.Low.Value));
            if (start < watermarks.High)
            {
                starts.Add(new TopicPartitionOffset(topicPartition, start));
            }
        }

        var read = 0;
        if (starts.Count > 0)
        {
            scanner.Assign(starts);
            for (var ended = 0; ended < starts.Count;)
            {
                var result = scanner.Consume(clients.Options.ConnectTimeout) ?? throw new TimeoutException($"Reading the tail of {clients.Options.MessagesTopic} stopped before its end.");
                if (result.IsPartitionEOF)
                {
                    ended++;
                    continue;
                }

                // Repeats count too: a message stored before its batch's transaction failed is in the log only as a repeat.
                if (LogRecords.ReadNumbered(result.Message) is not { } record)
                {
                    continue;
                }

                if (!_rooms.TryGetValue(record.Message.RoomId, out var room))
                {
                    room = new RoomLog(result.Partition.Value);
                    _rooms[record.Message.RoomId] = room;
                }

                room.Remember(record.Message);
                room.Scanned = true;
                read++;
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogScanned(logger, partitions.Count, read, elapsed);
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "This node now writes incoming partitions {Partitions}")]
    private static partial void LogAssigned(ILogger logger, List<TopicPartition> partitions);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Read {Count} records of the tails of {Partitions} partitions that the store worker has not confirmed, in {Milliseconds:F0} ms")]
    private static partial void LogScanned(ILogger logger, int partitions, int count, double milliseconds);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Numbering a batch of {Count} incoming messages failed; it is read again from its first offset")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "The store did not take {Count} numbered messages; they go to the log marked unstored and the store worker stores them later")]
    private static partial void LogStoreDown(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "Reading the incoming topic failed; reading goes on")]
    private static partial void LogConsumeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Warning, Message = "Skipped an incoming record that is not ChatKit's ({Position})")]
    private static partial void LogUnreadable(ILogger logger, string position);

    [LoggerMessage(EventId = 4108, Level = LogLevel.Warning, Message = "A transaction step timed out (a broker is away); trying it again")]
    private static partial void LogStepRetried(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4109, Level = LogLevel.Warning, Message = "The store could not say room {RoomId}'s latest sequence; while it is away, rooms this writer has not seen are not numbered")]
    private static partial void LogStoreAway(ILogger logger, Exception exception, string roomId);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Warning, Message = "A message to room {RoomId} was left out: its latest sequence is unknown while the store is away; its sender is told unavailable and sends it again")]
    private static partial void LogUnnumbered(ILogger logger, string roomId);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "Aborting a failed transaction failed too")]
    private static partial void LogAbortFailed(ILogger logger, Exception exception);

    /// <summary>One record the batch writes to the messages topic.</summary>
    private sealed class Output(ChatMessage message, bool repeat)
    {
        public ChatMessage Message { get; private set; } = message;

        public bool Repeat { get; private set; } = repeat;

        public bool Stored { get; set; }

        public void BecomeRepeatOf(ChatMessage original)
        {
            Message = original;
            Repeat = true;
            Stored = true;
        }

        public void Renumber(long sequence) => Message = Message with { Sequence = sequence };
    }
}
