using System.Text;
using ChatKit.Model;
using Confluent.Kafka;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>The messages-topic records as ChatKit writes them, read back the way the reader and the store worker read them.</summary>
public sealed class LogRecordsTests
{
    private static readonly ChatMessage Message = new("r_1", 7, "c-7", "alice", "hello", new DateTimeOffset(2026, 12, 7, 14, 0, 0, TimeSpan.Zero));
    private static readonly byte[] Node = Encoding.UTF8.GetBytes("node-a");

    [Theory(Timeout = 10_000)]
    [InlineData(false, false, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, true, false)]
    public async Task Only_a_record_marked_unstored_and_not_a_repeat_needs_storing(bool stored, bool repeat, bool needsStoring)
    {
        await Task.Yield();
        var record = LogRecords.Numbered(Message, Node, stored, repeat);

        Assert.Equal(needsStoring, LogRecords.NeedsStoring(record));
        var read = LogRecords.ReadNumbered(record);
        Assert.NotNull(read);
        Assert.Equal(Message, read.Message);
        Assert.Equal(repeat, read.Repeat);
        Assert.Equal("node-a", LogRecords.Writer(record));
    }

    [Fact(Timeout = 10_000)]
    public async Task Records_share_header_values_without_one_record_changing_another()
    {
        await Task.Yield();
        var stored = LogRecords.Numbered(Message, Node, stored: true, repeat: false);
        var unstored = LogRecords.Numbered(Message with { Sequence = 8 }, Node, stored: false, repeat: false);

        Assert.False(LogRecords.NeedsStoring(stored));
        Assert.True(LogRecords.NeedsStoring(unstored));
        Assert.Equal("1"u8.ToArray(), stored.Headers.GetLastBytes(LogRecords.StoredHeader));
        Assert.Equal("0"u8.ToArray(), unstored.Headers.GetLastBytes(LogRecords.StoredHeader));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_record_of_another_producer_without_headers_is_not_one_of_chatkits()
    {
        await Task.Yield();
        var foreign = new Message<byte[], byte[]> { Key = "r_1"u8.ToArray(), Value = "not json"u8.ToArray() };

        Assert.Null(LogRecords.ReadNumbered(foreign));
        Assert.Equal("", LogRecords.Writer(foreign));
    }
}
