using System.Buffers;
using System.Text;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.AspNetCore.WebSockets;

namespace ChatKit.AspNetCore.Tests;

/// <summary>Which request heads the direct listener takes, and which it leaves to HTTP (no server needed).</summary>
public sealed class UpgradeRequestTests
{
    private static readonly string[] Paths = ["/chat", "/other/chat"];

    [Theory(Timeout = 10_000)]
    [InlineData("GET /chat HTTP/1.1", "", 0)]
    [InlineData("GET /CHAT/ HTTP/1.1", "", 0)]
    [InlineData("GET /other/chat?access_token=abc HTTP/1.1", "", 1)]
    [InlineData("GET /chat HTTP/1.1", "Sec-WebSocket-Protocol: other, chatkit.v1\r\n", 0)]
    public Task Plain_chatkit_handshakes_are_taken(string requestLine, string extraHeaders, int route)
    {
        var head = Head(requestLine, extraHeaders);

        Assert.Equal(HeadOutcome.Taken, ReadOnce(Bytes(head), 32 * 1024, out var request));
        Assert.Equal(route, request!.Route);
        Assert.Equal(Encoding.ASCII.GetByteCount(head), request.HeadLength);
        Assert.Equal(RawConnection.ExampleKey, request.Key);
        return Task.CompletedTask;
    }

    [Theory(Timeout = 10_000)]
    [InlineData("POST /chat HTTP/1.1", "", "")]
    [InlineData("GET /chats HTTP/1.1", "", "")]
    [InlineData("GET /ch%61t HTTP/1.1", "", "")]
    [InlineData("GET /x/../chat HTTP/1.1", "", "")]
    [InlineData("GET /chat HTTP/1.0", "", "")]
    [InlineData("GET /chat HTTP/1.1", "Content-Length: 0\r\n", "")]
    [InlineData("GET /chat HTTP/1.1", "X-Folded: a\r\n b\r\n", "")]
    [InlineData("GET /chat HTTP/1.1", "Bad Name: x\r\n", "")]
    [InlineData("GET /chat HTTP/1.1", "Host: second\r\n", "")]
    [InlineData("GET /chat HTTP/1.1", "", "Sec-WebSocket-Protocol: chatkit.v1")]
    [InlineData("GET /chat HTTP/1.1", "", "Sec-WebSocket-Version: 13")]
    [InlineData("GET /chat HTTP/1.1", "", "Upgrade: websocket")]
    [InlineData("GET /chat HTTP/1.1", "", "Connection: Upgrade")]
    [InlineData("GET /chat HTTP/1.1", "Sec-WebSocket-Key: second\r\n", "")]
    public Task Anything_else_goes_to_HTTP(string requestLine, string extraHeaders, string removedHeader)
    {
        var head = Head(requestLine, extraHeaders);
        head = removedHeader.Length == 0 ? head : head.Replace(removedHeader + "\r\n", string.Empty, StringComparison.Ordinal);

        Assert.Equal(HeadOutcome.NotTaken, ReadOnce(Bytes(head), 32 * 1024, out var request));
        Assert.Null(request);
        return Task.CompletedTask;
    }

    [Theory(Timeout = 10_000)]
    [InlineData("Sec-WebSocket-Key: not-base64!!\r\n")]
    [InlineData("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n")]
    public Task A_key_that_is_not_16_bytes_of_base64_goes_to_HTTP(string key)
    {
        var head = Head("GET /chat HTTP/1.1", string.Empty).Replace($"Sec-WebSocket-Key: {RawConnection.ExampleKey}\r\n", key, StringComparison.Ordinal);

        Assert.Equal(HeadOutcome.NotTaken, ReadOnce(Bytes(head), 32 * 1024, out _));
        return Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public Task A_handshake_arriving_a_byte_at_a_time_waits_for_more_until_it_is_whole()
    {
        var head = Head("GET /chat HTTP/1.1", string.Empty);
        var progress = default(HeadProgress);

        for (var length = 0; length < head.Length; length++)
        {
            Assert.Equal(HeadOutcome.Incomplete, UpgradeRequest.TryRead(Bytes(head[..length]), Paths, 32 * 1024, ref progress, out _));
        }

        Assert.Equal(HeadOutcome.Taken, UpgradeRequest.TryRead(Bytes(head), Paths, 32 * 1024, ref progress, out var request));
        Assert.Equal(head.Length, request!.HeadLength);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public Task A_request_line_longer_than_Kestrels_limit_goes_to_HTTP_before_it_ends()
    {
        var progress = default(HeadProgress);

        Assert.Equal(HeadOutcome.NotTaken, UpgradeRequest.TryRead(Bytes("GET /chat?" + new string('a', 9000)), Paths, 64 * 1024, ref progress, out _));
        return Task.CompletedTask;
    }

    [Theory(Timeout = 10_000)]
    [InlineData("PUT")]
    [InlineData("GET /elsewhere HTTP/1.1\r\n")]
    [InlineData("\u0016\u0003\u0001")]
    public Task A_request_that_can_no_longer_be_a_handshake_goes_to_HTTP_without_waiting_for_its_head(string start)
    {
        Assert.Equal(HeadOutcome.NotTaken, ReadOnce(Bytes(start), 32 * 1024, out _));
        return Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public Task A_head_longer_than_the_limit_goes_to_HTTP_whether_or_not_it_ended()
    {
        var head = Head("GET /chat HTTP/1.1", $"X-Padding: {new string('a', 2000)}\r\n");

        Assert.Equal(HeadOutcome.NotTaken, ReadOnce(Bytes(head), 1024, out _));
        Assert.Equal(HeadOutcome.NotTaken, ReadOnce(Bytes(head[..1500]), 1024, out _));
        return Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public Task A_head_split_over_buffer_segments_reads_the_same_and_leaves_the_frames_after_it()
    {
        var head = Head("GET /chat?x=1 HTTP/1.1", "Authorization: Bearer alice\r\n");
        var bytes = Encoding.ASCII.GetBytes(head + "frame bytes");

        Assert.Equal(HeadOutcome.Taken, ReadOnce(Segmented(bytes, 7), 32 * 1024, out var request));
        Assert.Equal("?x=1", request!.RawQuery);
        Assert.Equal("Bearer alice", request.Headers["Authorization"].ToString());
        Assert.Equal(head.Length, request.HeadLength);
        return Task.CompletedTask;
    }

    /// <summary>A connection's first look at its bytes.</summary>
    private static HeadOutcome ReadOnce(ReadOnlySequence<byte> bytes, int maxHeadBytes, out UpgradeRequest? request)
    {
        var progress = default(HeadProgress);
        return UpgradeRequest.TryRead(bytes, Paths, maxHeadBytes, ref progress, out request);
    }

    private static string Head(string requestLine, string extraHeaders) =>
        RawConnection.Handshake(user: null).Replace("GET /chat HTTP/1.1", requestLine, StringComparison.Ordinal)[..^2] + extraHeaders + "\r\n";

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.Latin1.GetBytes(text));

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        var chunks = bytes.Chunk(size).ToList();
        var first = new Segment(chunks[0], 0);
        var last = first;
        foreach (var chunk in chunks.Skip(1))
        {
            last = last.Append(chunk);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
