using ChatKit.Transport.Kafka.Options;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>Which of ChatKit's client settings the user's pass-through settings can replace, and which they cannot.</summary>
public sealed class KafkaClientsTests
{
    [Theory(Timeout = 10_000)]
    [InlineData(null, null, 1, 5)]
    [InlineData("20", "100", 20, 100)]
    [InlineData("0", null, 0, 5)]
    public async Task The_users_tuning_settings_replace_chatkits_defaults_and_only_those_it_sets(string? linger, string? fetchWait, int lingerMs, int fetchWaitMs)
    {
        await Task.Yield();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (linger is not null)
        {
            settings["linger.ms"] = linger;
        }

        if (fetchWait is not null)
        {
            settings["fetch.wait.max.ms"] = fetchWait;
        }

        var clients = Clients(settings);

        Assert.Equal(lingerMs, clients.Producer().LingerMs);
        Assert.Equal(lingerMs, clients.TransactionalProducer().LingerMs);
        Assert.Equal(fetchWaitMs, clients.Consumer("group", "none").FetchWaitMaxMs);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(null)]
    [InlineData("1")]
    public async Task The_store_workers_consumer_lets_brokers_hold_empty_fetches_whatever_the_others_use(string? fetchWait)
    {
        await Task.Yield();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["security.protocol"] = "plaintext" };
        if (fetchWait is not null)
        {
            settings["fetch.wait.max.ms"] = fetchWait;
        }

        var background = Clients(settings).BackgroundConsumer("store");

        Assert.Equal(KafkaClients.BackgroundFetchWaitMs, background.FetchWaitMaxMs);
        Assert.Equal(500, KafkaClients.BackgroundFetchWaitMs);
        Assert.Equal(SecurityProtocol.Plaintext, background.SecurityProtocol);
        Assert.Equal(IsolationLevel.ReadCommitted, background.IsolationLevel);
        Assert.Equal("store", background.GroupId);
    }

    [Fact(Timeout = 10_000)]
    public async Task Settings_for_one_kind_of_client_reach_only_that_kind_and_win_over_those_for_every_client()
    {
        await Task.Yield();
        var options = new KafkaTransportOptions { BootstrapServers = "127.0.0.1:9092" };
        options.Settings["socket.timeout.ms"] = "30000";
        options.Settings["linger.ms"] = "20";
        options.ProducerSettings["linger.ms"] = "7";
        options.ProducerSettings["compression.type"] = "lz4";
        options.ConsumerSettings["fetch.wait.max.ms"] = "2";
        options.ConsumerSettings["fetch.min.bytes"] = "64";
        var clients = new KafkaClients(Microsoft.Extensions.Options.Options.Create(options));

        foreach (var producer in new[] { clients.Producer(), clients.TransactionalProducer() })
        {
            Assert.Equal(7, producer.LingerMs);
            Assert.Equal(CompressionType.Lz4, producer.CompressionType);
            Assert.Equal(30000, producer.SocketTimeoutMs);
            Assert.Null(producer.Get("fetch.wait.max.ms"));
            Assert.Null(producer.Get("fetch.min.bytes"));
        }

        var consumer = clients.Consumer("group", "none");
        Assert.Equal(2, consumer.FetchWaitMaxMs);
        Assert.Equal(64, consumer.FetchMinBytes);
        Assert.Equal(30000, consumer.SocketTimeoutMs);
        Assert.Null(consumer.Get("compression.type"));
        Assert.Null(clients.Admin().Get("fetch.wait.max.ms"));
        Assert.Null(clients.Admin().Get("compression.type"));
    }

    [Fact(Timeout = 10_000)]
    public async Task The_guarantees_settings_stay_chatkits_whatever_the_user_sets()
    {
        await Task.Yield();
        var clients = Clients(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["acks"] = "1",
            ["enable.idempotence"] = "false",
            ["isolation.level"] = "read_uncommitted",
            ["enable.auto.commit"] = "true",
            ["group.id"] = "theirs",
            ["dotnet.consumer.consume.result.fields"] = "none",
        });

        var producer = clients.Producer();
        Assert.Equal(Acks.All, producer.Acks);
        Assert.True(producer.EnableIdempotence);
        var consumer = clients.Consumer("ours", KafkaClients.ResultHeaders);
        Assert.Equal(IsolationLevel.ReadCommitted, consumer.IsolationLevel);
        Assert.False(consumer.EnableAutoCommit);
        Assert.Equal("ours", consumer.GroupId);
        Assert.Equal("headers", consumer.Get("dotnet.consumer.consume.result.fields"));
        Assert.Equal("topic,headers", clients.BackgroundConsumer("store").Get("dotnet.consumer.consume.result.fields"));
    }

    private static KafkaClients Clients(Dictionary<string, string> settings)
    {
        var options = new KafkaTransportOptions { BootstrapServers = "127.0.0.1:9092" };
        foreach (var (key, value) in settings)
        {
            options.Settings[key] = value;
        }

        return new KafkaClients(Microsoft.Extensions.Options.Options.Create(options));
    }
}
