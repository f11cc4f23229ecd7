namespace ChatKit.Transport.Kafka.Options;

/// <summary>How ChatKit uses Kafka as its message log; bound from configuration section <c>ChatKit:Kafka</c>, validated at start.</summary>
public sealed class KafkaTransportOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "ChatKit:Kafka";

    /// <summary>The brokers to start from, for example <c>localhost:9092</c> or <c>kafka-1:9092,kafka-2:9092</c>. Required.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Where nodes put the messages clients send, keyed by room. Default <c>chatkit.incoming</c>.</summary>
    public string IncomingTopic { get; set; } = "chatkit.incoming";

    /// <summary>
    /// Where the partition writers put every message with its sequence number, keyed by room: the log that other
    /// systems can read (see docs/kafka-records.md). Default <c>chatkit.messages</c>.
    /// </summary>
    public string MessagesTopic { get; set; } = "chatkit.messages";

    /// <summary>
    /// The number of partitions of both topics: the most nodes that can write at once. It must be the same for both
    /// topics and cannot change once messages exist (a room's partition would move). Default 12.
    /// </summary>
    public int Partitions { get; set; } = 12;

    /// <summary>Replicas of each partition when ChatKit creates the topics. Default 3 (use 1 for a single broker).</summary>
    public short ReplicationFactor { get; set; } = 3;

    /// <summary>Whether ChatKit creates missing topics at start. When off, missing topics stop the start. Default on.</summary>
    public bool CreateTopics { get; set; } = true;

    /// <summary>Starts the consumer group ids (<c>{prefix}.writers</c>, <c>{prefix}.store</c>) and transactional ids. Default <c>chatkit</c>.</summary>
    public string GroupPrefix { get; set; } = "chatkit";

    /// <summary>How long the brokers may take to answer when the app starts. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a send waits for its message to come back numbered from the log before the sender gets
    /// <c>unavailable</c> (the client retries with the same id; nothing is stored twice). Default 10 seconds.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the store worker waits before trying a database that failed again. Default 1 second.</summary>
    public TimeSpan StoreRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// librdkafka settings passed through to every client ChatKit makes, for security and tuning, for example
    /// <c>security.protocol</c>, <c>sasl.mechanism</c>, <c>sasl.username</c>, <c>ssl.ca.location</c>. ChatKit's own
    /// settings (idempotence, acks, isolation, group and transactional ids) win over these; its tuning defaults
    /// (<c>linger.ms</c> 1 for producers, <c>fetch.wait.max.ms</c> 5 for consumers) give way to them. A setting for
    /// one kind of client only goes in <see cref="ProducerSettings"/> or <see cref="ConsumerSettings"/> (librdkafka
    /// warns about a consumer's setting given to a producer, and the other way round).
    /// </summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// librdkafka settings for ChatKit's producers only (the node's producer of incoming messages and the writer's
    /// transactional one), applied after <see cref="Settings"/>: <c>linger.ms</c>, <c>batch.size</c>,
    /// <c>compression.type</c>, ... ChatKit's own settings still win.
    /// </summary>
    public IDictionary<string, string> ProducerSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// librdkafka settings for ChatKit's consumers only (the writers', the node's reader, the store worker), applied
    /// after <see cref="Settings"/>: <c>fetch.wait.max.ms</c>, <c>fetch.min.bytes</c>, <c>session.timeout.ms</c>, ...
    /// ChatKit's own settings still win, and the store worker always lets brokers hold an empty fetch for 500 ms.
    /// </summary>
    public IDictionary<string, string> ConsumerSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
