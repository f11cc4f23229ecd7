using ChatKit.Hosting;
using ChatKit.Messaging;
using ChatKit.Transport.Kafka;
using ChatKit.Transport.Kafka.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ChatKit's Kafka message log.</summary>
public static class KafkaTransportChatKitBuilderExtensions
{
    /// <summary>
    /// Puts Kafka between the nodes and the store: a send is acknowledged once the log has it with its sequence, and
    /// the store catches up from the log when it was down. Options come from configuration section
    /// <c>ChatKit:Kafka</c>, then <paramref name="configure"/>, and are validated at start; the app does not start
    /// while Kafka cannot be reached or a topic does not fit.
    /// </summary>
    public static IChatKitBuilder AddKafkaTransport(this IChatKitBuilder builder, Action<KafkaTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<KafkaTransportOptions>().BindConfiguration(KafkaTransportOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaTransportOptions>, KafkaTransportOptionsValidator>());
        services.TryAddSingleton<KafkaClients>();
        services.TryAddSingleton<KafkaMessageLog>();
        services.TryAddSingleton<MessagesReader>();
        services.TryAddSingleton<PartitionWriter>();
        services.TryAddSingleton<StoreWorker>();
        services.Replace(ServiceDescriptor.Singleton<IMessageLog>(sp => sp.GetRequiredService<KafkaMessageLog>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, KafkaTransportService>());
        return builder;
    }

    /// <summary>Puts the Kafka cluster at <paramref name="bootstrapServers"/> (such as <c>localhost:9092</c>) between the nodes and the store.</summary>
    public static IChatKitBuilder AddKafkaTransport(this IChatKitBuilder builder, string bootstrapServers)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        return builder.AddKafkaTransport(options => options.BootstrapServers = bootstrapServers);
    }
}
