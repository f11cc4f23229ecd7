using System.Collections.Concurrent;
using System.Threading.Channels;
using ChatKit.Backplane;

namespace ChatKit.Core.Tests.Infrastructure;

/// <summary>A node's receiver for backplane tests: the test says which rooms and users the node wants, and reads what arrives.</summary>
internal sealed class RecordingReceiver : IBackplaneReceiver
{
    private readonly Channel<BackplaneMessage> _received = Channel.CreateUnbounded<BackplaneMessage>();
    private int _resynchronizations;

    public ConcurrentDictionary<string, bool> Rooms { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, bool> Users { get; } = new(StringComparer.Ordinal);

    public int Resynchronizations => Volatile.Read(ref _resynchronizations);

    public void Receive(BackplaneMessage message) => _received.Writer.TryWrite(message);

    public bool HasRoom(string roomId) => Rooms.ContainsKey(roomId);

    public bool HasUser(string userId) => Users.ContainsKey(userId);

    public void Resynchronize() => Interlocked.Increment(ref _resynchronizations);

    /// <summary>Takes a message that has already arrived, without waiting.</summary>
    public bool TryTake(out BackplaneMessage message) => _received.Reader.TryRead(out message!);

    public async Task<BackplaneMessage> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Reads until <paramref name="match"/>; returns what arrived before it, and it.</summary>
    public async Task<List<BackplaneMessage>> UntilAsync(Func<BackplaneMessage, bool> match)
    {
        var seen = new List<BackplaneMessage>();
        while (true)
        {
            var message = await NextAsync();
            seen.Add(message);
            if (match(message))
            {
                return seen;
            }
        }
    }
}
