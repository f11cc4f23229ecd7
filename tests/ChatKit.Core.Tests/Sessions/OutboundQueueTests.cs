using ChatKit.Sessions;

namespace ChatKit.Core.Tests.Sessions;

/// <summary>The session's outbound queue: order, completion, and one reader woken by many writers.</summary>
public sealed class OutboundQueueTests
{
    [Fact(Timeout = 10_000)]
    public async Task Items_come_out_in_order_and_those_queued_before_completion_are_still_read()
    {
        var queue = new OutboundQueue();
        Assert.True(queue.TryWrite(Item(1)));
        Assert.True(queue.TryWrite(Item(2)));

        queue.Complete();
        queue.Complete();

        Assert.False(queue.TryWrite(Item(3)));
        Assert.True(await queue.WaitToReadAsync());
        Assert.True(queue.TryRead(out var first));
        Assert.True(queue.TryRead(out var second));
        Assert.False(queue.TryRead(out _));
        Assert.False(await queue.WaitToReadAsync());
        Assert.Equal([1L, 2L], [first.Sequence, second.Sequence]);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_waiting_reader_is_woken_by_a_write_and_then_by_completion()
    {
        var queue = new OutboundQueue();

        var wait = queue.WaitToReadAsync();
        Assert.False(wait.IsCompleted);
        queue.TryWrite(Item(7));
        Assert.True(await wait);
        Assert.True(queue.TryRead(out var item));
        Assert.Equal(7, item.Sequence);

        var last = queue.WaitToReadAsync();
        Assert.False(last.IsCompleted);
        queue.Complete();
        Assert.False(await last);
    }

    [Fact(Timeout = 30_000)]
    public async Task Items_from_many_writers_reach_the_one_reader_once_each_in_each_writers_order()
    {
        const int Writers = 4;
        const int PerWriter = 20_000;
        var queue = new OutboundQueue();
        var seen = new List<long>[Writers];
        for (var w = 0; w < Writers; w++)
        {
            seen[w] = [];
        }

        var reader = Task.Run(async () =>
        {
            while (await queue.WaitToReadAsync())
            {
                while (queue.TryRead(out var item))
                {
                    seen[(int)(item.Sequence / PerWriter)].Add(item.Sequence % PerWriter);
                }
            }
        });
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                Assert.True(queue.TryWrite(Item(((long)w * PerWriter) + i)));
            }
        })));
        queue.Complete();
        await reader;

        Assert.All(seen, s => Assert.Equal(Enumerable.Range(0, PerWriter).Select(i => (long)i), s));
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_write_wakes_a_reader_that_awaits_between_items_without_waiting_for_the_next_write()
    {
        var queue = new OutboundQueue();
        var received = System.Threading.Channels.Channel.CreateUnbounded<long>();
        var reader = Task.Run(async () =>
        {
            while (await queue.WaitToReadAsync())
            {
                while (queue.TryRead(out var item))
                {
                    await Task.Yield();
                    received.Writer.TryWrite(item.Sequence);
                }
            }
        });

        for (var i = 0; i < 2_000; i++)
        {
            queue.TryWrite(Item(i));
            Assert.Equal(i, await received.Reader.ReadAsync());
        }

        queue.Complete();
        await reader;
    }

    private static OutboundItem Item(long sequence) => new(OutboundKind.RoomMessage, "r", sequence, ReadOnlyMemory<byte>.Empty, null);
}
