using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;

namespace ChatKit.Transport.Kafka.Tests.Infrastructure;

internal static class Sends
{
    /// <summary>
    /// Sends as a client library does: a send that fails with <c>unavailable</c> (it outlived an outage or a partition
    /// move) is sent again with the same client message id, up to ten times; returns the reply.
    /// </summary>
    public static async Task<ServerFrame> UntilAcknowledgedAsync(RawChatClient client, string room, string body, string cmid)
    {
        for (var attempt = 1; ; attempt++)
        {
            var reply = await client.RequestErrorOrReplyAsync(new ClientFrame { Type = FrameTypes.Send, Room = room, Body = body, Cmid = cmid });
            if (reply.Type == FrameTypes.Reply)
            {
                return reply;
            }

            Assert.Equal(ChatErrorCodes.Unavailable, reply.Code);
            Assert.True(attempt < 10, $"Send {cmid} was still unavailable after {attempt} tries: {reply.Message}");
        }
    }
}
