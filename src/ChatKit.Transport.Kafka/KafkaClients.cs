using ChatKit.Transport.Kafka.Options;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace ChatKit.Transport.Kafka;

/// <summary>The settings of every Kafka client this node makes: the user's pass-through settings, then ChatKit's own.</summary>
public sealed class KafkaClients
{
    /// <summary>Creates the settings from the validated options.</summary>
    public KafkaClients(IOptions<KafkaTransportOptions> options)
    {
        Options = options.Value;
        NodeId = $"{Environment.MachineName}-{Guid.NewGuid():N}";
    }

    /// <summary>This node's id: unique per process; it names the node's writer on the messages topic.</summary>
    public string NodeId { get; }

    internal KafkaTransportOptions Options { get; }

    internal string WritersGroup => $"{Options.GroupPrefix}.writers";

    internal string StoreGroup => $"{Options.GroupPrefix}.store";

    internal AdminClientConfig Admin() => Apply(new AdminClientConfig(), []);

    /// <summary>The producer of incoming messages: idempotent, every in-sync replica acknowledges.</summary>
    internal ProducerConfig Producer()
    {
        var config = Apply(new ProducerConfig(), Options.ProducerSettings);
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        Default(config, Options.ProducerSettings, "linger.ms", "1");

        // The Java client's partitioner: a room's partition is the same for ChatKit and for any other producer.
        config.Partitioner = Partitioner.Murmur2Random;
        return config;
    }

    /// <summary>The writer's transactional producer.</summary>
    internal ProducerConfig TransactionalProducer()
    {
        var config = Producer();
        config.TransactionalId = $"{Options.GroupPrefix}.writer.{NodeId}";

        // A writer that dies with a transaction open holds up read_committed readers of its partitions until the
        // broker aborts it; a batch's transaction takes milliseconds, so keep that wait short (librdkafka's default is 60 s).
        config.TransactionTimeoutMs = 10_000;

        // The writer produces without delivery handlers and ends every batch with CommitTransaction, which serves the
        // producer's events itself. With Confluent's background poll thread on, that thread takes the last delivery
        // report and the commit's flush sleeps out its 10 ms poll interval; off, the commit sees it at once.
        config.EnableBackgroundPoll = false;
        return config;
    }

    /// <summary>
    /// A consumer that sees committed records only and commits its offsets itself (or never). <paramref name="resultFields"/>
    /// names what the caller reads of a record besides its key and value (<see cref="ResultTopic"/>, <see cref="ResultHeaders"/>,
    /// comma-separated, or <c>none</c>): the client copies nothing else out of librdkafka for each record.
    /// </summary>
    internal ConsumerConfig Consumer(string groupId, string resultFields)
    {
        var config = Apply(new ConsumerConfig(), Options.ConsumerSettings);
        config.GroupId = groupId;
        config.Set(ConfigPropertyNames.Consumer.ConsumeResultFields, resultFields);
        config.EnableAutoCommit = false;
        config.IsolationLevel = IsolationLevel.ReadCommitted;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        Default(config, Options.ConsumerSettings, "fetch.wait.max.ms", "5");
        return config;
    }

    /// <summary>
    /// The store worker's consumer. It is on no one's path to a reply (the writers store nearly everything before the
    /// sends are acknowledged), so it lets each broker hold an empty fetch for <see cref="BackgroundFetchWaitMs"/>
    /// instead of asking every few milliseconds, whatever <c>fetch.wait.max.ms</c> the other consumers use.
    /// </summary>
    internal ConsumerConfig BackgroundConsumer(string groupId)
    {
        var config = Consumer(groupId, $"{ResultTopic},{ResultHeaders}");
        config.FetchWaitMaxMs = BackgroundFetchWaitMs;
        return config;
    }

    /// <summary>A record's topic, for the consume result (its partition and offset come with every record).</summary>
    internal const string ResultTopic = "topic";

    /// <summary>A record's headers, for the consume result.</summary>
    internal const string ResultHeaders = "headers";

    /// <summary>librdkafka's own default for <c>fetch.wait.max.ms</c>.</summary>
    internal const int BackgroundFetchWaitMs = 500;

    /// <summary>A tuning setting of ChatKit's that the user's settings (for every client, or for this kind) may replace.</summary>
    private void Default(ClientConfig config, IDictionary<string, string> kindSettings, string key, string value)
    {
        if (!Options.Settings.ContainsKey(key) && !kindSettings.ContainsKey(key))
        {
            config.Set(key, value);
        }
    }

    /// <summary>The user's settings for every client, then those for this kind of client, then the brokers and client id.</summary>
    private T Apply<T>(T config, IEnumerable<KeyValuePair<string, string>> kindSettings)
        where T : ClientConfig
    {
        foreach (var (key, value) in Options.Settings.Concat(kindSettings))
        {
            config.Set(key, value);
        }

        config.BootstrapServers = Options.BootstrapServers;
        config.ClientId = $"chatkit-{NodeId}";
        return config;
    }
}
