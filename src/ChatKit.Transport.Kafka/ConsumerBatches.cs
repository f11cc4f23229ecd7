using Confluent.Kafka;

namespace ChatKit.Transport.Kafka;

internal static class ConsumerBatches
{
    /// <summary>
    /// Waits up to <paramref name="poll"/> for a record, then takes what else is already fetched, up to
    /// <paramref name="max"/>. A failed read ends the batch early; <paramref name="failed"/> hears of it.
    /// </summary>
    public static List<ConsumeResult<byte[], byte[]>> TakeBatch(this IConsumer<byte[], byte[]> consumer, int max, TimeSpan poll, Action<ConsumeException> failed)
    {
        var batch = new List<ConsumeResult<byte[], byte[]>>();
        try
        {
            // Never consume a record the batch has no room for: the consumer's position would pass it, and the next
            // batch's commit would skip it for good.
            var next = consumer.Consume(poll);
            while (next is not null)
            {
                if (next.Message is not null)
                {
                    batch.Add(next);
                }

                if (batch.Count >= max)
                {
                    break;
                }

                next = consumer.Consume(TimeSpan.Zero);
            }
        }
        catch (ConsumeException ex)
        {
            failed(ex);
        }

        return batch;
    }
}
