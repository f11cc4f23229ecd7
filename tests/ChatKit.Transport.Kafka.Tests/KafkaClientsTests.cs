using ChatKit.Transport.Kafka.Options;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>Which of ChatKit's client settings the user's pass-through settings can replace, and which they cannot.</summary>
public sealed class KafkaClientsTests
{
    [Fact(Timeout = 10_000)]
    public async Task Tuning_defaults_apply_when_the_user_sets_nothing()
    {
        await Task.Yield();
        var clients = Clients(new Dictionary<string, string>(StringComparer.Ordinal));

        Assert.Equal(1, clients.Producer().LingerMs);
        Assert.Equal(1, clients.TransactionalProducer().LingerMs);
        Assert.Equal(5, clients.Consumer("group").FetchWaitMaxMs);
    }

    [Fact(Timeout = 10_000)]
    public async Task The_users_tuning_settings_replace_chatkits_defaults()
    {
        await Task.Yield();
        var clients = Clients(new Dictionary<string, string>(StringComparer.Ordinal) { ["linger.ms"] = "20", ["fetch.wait.max.ms"] = "100" });

        Assert.Equal(20, clients.Producer().LingerMs);
        Assert.Equal(20, clients.TransactionalProducer().LingerMs);
        Assert.Equal(100, clients.Consumer("group").FetchWaitMaxMs);
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
        });

        var producer = clients.Producer();
        Assert.Equal(Acks.All, producer.Acks);
        Assert.True(producer.EnableIdempotence);
        var consumer = clients.Consumer("ours");
        Assert.Equal(IsolationLevel.ReadCommitted, consumer.IsolationLevel);
        Assert.False(consumer.EnableAutoCommit);
        Assert.Equal("ours", consumer.GroupId);
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
