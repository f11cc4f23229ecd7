using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatKit.Transport.Kafka;

/// <summary>
/// Starts the transport with the app: checks that Kafka answers and that both topics exist with the configured
/// partitions (creating them when allowed), then starts this node's reader, partition writer and store worker. Any
/// problem stops the start with a message that says what to fix.
/// </summary>
internal sealed partial class KafkaTransportService(
    KafkaClients clients,
    MessagesReader reader,
    PartitionWriter writer,
    StoreWorker storeWorker,
    ILogger<KafkaTransportService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = clients.Options;
        using (var admin = new AdminClientBuilder(clients.Admin()).Build())
        {
            Metadata metadata;
            try
            {
                metadata = admin.GetMetadata(options.ConnectTimeout);
            }
            catch (KafkaException ex)
            {
                throw new InvalidOperationException($"Could not reach Kafka at {options.BootstrapServers} within {options.ConnectTimeout.TotalSeconds:0.#} s. Check that the brokers run there and that ChatKit:Kafka:BootstrapServers names them (and ChatKit:Kafka:Settings the security they need). ({ex.Error.Reason})", ex);
            }

            await EnsureTopicAsync(admin, metadata, options.IncomingTopic, "IncomingTopic").ConfigureAwait(false);
            await EnsureTopicAsync(admin, metadata, options.MessagesTopic, "MessagesTopic").ConfigureAwait(false);
        }

        reader.Start(options.Partitions);
        writer.Start();
        storeWorker.Start();
        LogStarted(logger, options.BootstrapServers!, options.IncomingTopic, options.MessagesTopic, options.Partitions, clients.NodeId);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await writer.StopAsync().ConfigureAwait(false);
        await storeWorker.StopAsync().ConfigureAwait(false);
        await reader.StopAsync().ConfigureAwait(false);
    }

    private async Task EnsureTopicAsync(IAdminClient admin, Metadata metadata, string topic, string key)
    {
        var options = clients.Options;
        var found = metadata.Topics.Find(t => string.Equals(t.Topic, topic, StringComparison.Ordinal) && t.Error.Code != ErrorCode.UnknownTopicOrPart);
        if (found is not null)
        {
            if (found.Partitions.Count != options.Partitions)
            {
                throw new InvalidOperationException($"Kafka topic {topic} (ChatKit:Kafka:{key}) has {found.Partitions.Count} partitions but ChatKit:Kafka:Partitions is {options.Partitions}. Both ChatKit topics must have exactly that many: set ChatKit:Kafka:Partitions to {found.Partitions.Count}, or point ChatKit:Kafka:{key} at another topic.");
            }

            return;
        }

        if (!options.CreateTopics)
        {
            throw new InvalidOperationException($"Kafka topic {topic} (ChatKit:Kafka:{key}) does not exist. Create it with {options.Partitions} partitions, or set ChatKit:Kafka:CreateTopics to true.");
        }

        try
        {
            // acks=all waits only for the replicas in sync: with at least two required, an acknowledged message is on two brokers.
            var spec = new TopicSpecification
            {
                Name = topic,
                NumPartitions = options.Partitions,
                ReplicationFactor = options.ReplicationFactor,
                Configs = new Dictionary<string, string>(StringComparer.Ordinal) { ["min.insync.replicas"] = Math.Min(2, (int)options.ReplicationFactor).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
            await admin.CreateTopicsAsync([spec], new CreateTopicsOptions { RequestTimeout = options.ConnectTimeout }).ConfigureAwait(false);
            LogCreated(logger, topic, options.Partitions, options.ReplicationFactor);
        }
        catch (CreateTopicsException ex) when (ex.Results.TrueForAll(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            // Another node made it first.
        }
        catch (CreateTopicsException ex)
        {
            throw CouldNotCreate(topic, key, string.Join("; ", ex.Results.Select(r => r.Error.Reason)), ex);
        }
        catch (KafkaException ex)
        {
            throw CouldNotCreate(topic, key, ex.Error.Reason, ex);
        }
    }

    private InvalidOperationException CouldNotCreate(string topic, string key, string reason, Exception exception) => new(
        $"Could not create Kafka topic {topic} (ChatKit:Kafka:{key}): {reason}. Create it with {clients.Options.Partitions} partitions yourself, or, with fewer brokers than ChatKit:Kafka:ReplicationFactor ({clients.Options.ReplicationFactor}), lower that.",
        exception);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Kafka message log at {Servers}: topics {Incoming} and {Messages}, {Partitions} partitions, node {NodeId}")]
    private static partial void LogStarted(ILogger logger, string servers, string incoming, string messages, int partitions, string nodeId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Created Kafka topic {Topic} with {Partitions} partitions and {Replicas} replicas")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions, short replicas);
}
