using Microsoft.Extensions.Options;

namespace ChatKit.Transport.Kafka.Options;

internal sealed class KafkaTransportOptionsValidator : IValidateOptions<KafkaTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaTransportOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            errors.Add("ChatKit:Kafka:BootstrapServers is required, for example \"localhost:9092\" or \"kafka-1:9092,kafka-2:9092\".");
        }

        CheckTopic(errors, "IncomingTopic", options.IncomingTopic);
        CheckTopic(errors, "MessagesTopic", options.MessagesTopic);
        if (string.Equals(options.IncomingTopic, options.MessagesTopic, StringComparison.Ordinal))
        {
            errors.Add($"ChatKit:Kafka:IncomingTopic and ChatKit:Kafka:MessagesTopic must be different topics (both are \"{options.IncomingTopic}\").");
        }

        if (options.Partitions is < 1 or > 10_000)
        {
            errors.Add($"ChatKit:Kafka:Partitions must be 1 to 10000 (it is {options.Partitions}).");
        }

        if (options.ReplicationFactor < 1)
        {
            errors.Add($"ChatKit:Kafka:ReplicationFactor must be at least 1 (it is {options.ReplicationFactor}).");
        }

        if (string.IsNullOrEmpty(options.GroupPrefix) || options.GroupPrefix.Length > 100 || !options.GroupPrefix.All(IsNameCharacter))
        {
            errors.Add($"ChatKit:Kafka:GroupPrefix must be 1 to 100 letters, digits, '-', '_' or '.' (it is \"{options.GroupPrefix}\").");
        }

        foreach (var (key, value) in new[] { ("ConnectTimeout", options.ConnectTimeout), ("SendTimeout", options.SendTimeout), ("StoreRetryDelay", options.StoreRetryDelay) })
        {
            if (value < TimeSpan.FromMilliseconds(100))
            {
                errors.Add($"ChatKit:Kafka:{key} must be at least 100 ms, such as \"00:00:10\" (it is {value}).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckTopic(List<string> errors, string key, string topic)
    {
        if (string.IsNullOrEmpty(topic) || topic.Length > 249 || topic is "." or ".." || !topic.All(IsNameCharacter))
        {
            errors.Add($"ChatKit:Kafka:{key} must be a Kafka topic name: 1 to 249 letters, digits, '-', '_' or '.' (it is \"{topic}\").");
        }
    }

    private static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
