using System.Buffers.Text;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Engine;
using ChatKit.Model;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Benchmarks;

/// <summary>
/// Cross-node delivery over Redis: two ChatKit nodes (Kestrel on loopback, one in-memory store shared so that only the
/// backplane is measured) and one redis-server. Senders are on node 1; every member's connection counts its
/// deliveries, and the members on node 2 time each message from its intended send time to its arrival.
/// First the capacity (senders keep a window of sends outstanding), then the latency at half of it (sends paced).
/// </summary>
internal static class CrossNodeBenchmark
{
    private const int Window = 16;

    public static async Task<IReadOnlyList<CrossNodeResult>> RunAsync(TimeSpan phase, IReadOnlyList<double> loads, Action<string> progress)
    {
        await using var redis = await RedisServer.StartAsync();
        var results = new List<CrossNodeResult>();

        progress("one room of 1,000 members (500 on each node), 4 senders on node 1");
        var users = Enumerable.Range(0, 1000).Select(i => $"u{i}").ToList();
        results.Add(await MeasureAsync(redis, "1 room of 1,000 members", users, [users], senders: 4, phase, loads, progress));

        progress("1,000 rooms of 10 members (5 on each node); 1,000 users in 10 rooms each, 50 senders on node 1");
        // Room r has the users r, r+101, r+202, ... (mod 1,000): every user is in 10 rooms, odd and even users alike.
        var rooms = Enumerable.Range(0, 1000).Select(r => Enumerable.Range(0, 10).Select(k => users[(r + (101 * k)) % 1000]).ToList()).ToList();
        results.Add(await MeasureAsync(redis, "1,000 rooms of 10 members", users, rooms, senders: 50, phase, loads, progress));

        progress("references without ChatKit: the same loads on bare Kestrel WebSockets");
        results.Add(await MeasureFloorAsync("floor: 1 room of 1,000 members on bare Kestrel WebSockets", users, [users], senders: 4, phase, loads, progress));
        results.Add(await MeasureFloorAsync("floor: 1,000 rooms of 10 members on bare Kestrel WebSockets", users, rooms, senders: 50, phase, loads, progress));
        return results;
    }

    private static async Task<CrossNodeResult> MeasureAsync(RedisServer redis, string name, List<string> users, List<List<string>> roomMembers, int senders, TimeSpan phase, IReadOnlyList<double> loads, Action<string> progress)
    {
        await using var cluster = await RedisCluster.StartAsync(redis.ConnectionString, nodes: 2);
        var engine = cluster[0].Services.GetRequiredService<ChatEngine>();
        var roomIds = new List<string>();
        foreach (var members in roomMembers)
        {
            // A room is created with at most 100 members; the owner invites the rest.
            var owner = new ChatUser(members[0], members[0]);
            var room = (await engine.CreateRoomAsync(owner, $"room {roomIds.Count}", "private", members.Skip(1).Take(99).ToList(), encrypted: false, CancellationToken.None)).Id;
            foreach (var member in members.Skip(100))
            {
                await engine.InviteAsync(owner, room, member, "member", CancellationToken.None);
            }

            roomIds.Add(room);
        }

        // Even users on node 1, odd users on node 2 (the other node from the senders').
        return await MeasureOnAsync(name, users, roomMembers, roomIds, senders, index => (cluster[index % 2].WebSocketUri, index % 2 == 1), phase, loads, progress);
    }

    /// <summary>A scenario's floor: the same clients, rooms and load on bare Kestrel WebSockets, one process, no ChatKit.</summary>
    private static async Task<CrossNodeResult> MeasureFloorAsync(string name, List<string> users, List<List<string>> roomMembers, int senders, TimeSpan phase, IReadOnlyList<double> loads, Action<string> progress)
    {
        var roomIds = roomMembers.Select((_, i) => $"r{i}").ToList();
        await using var server = await BareBroadcastServer.StartAsync(roomIds.Zip(roomMembers).ToDictionary(r => r.First, r => r.Second, StringComparer.Ordinal));
        return await MeasureOnAsync(name, users, roomMembers, roomIds, senders, _ => (server.WebSocketUri, false), phase, loads, progress);
    }

    /// <summary>
    /// Connects every user where <paramref name="placement"/> says (and whether that is the other node from the
    /// senders'), lets the first even users send to their rooms, and measures the capacity, then the latency at each load.
    /// </summary>
    private static async Task<CrossNodeResult> MeasureOnAsync(string name, List<string> users, List<List<string>> roomMembers, List<string> roomIds, int senders, Func<int, (Uri Server, bool Remote)> placement, TimeSpan phase, IReadOnlyList<double> loads, Action<string> progress)
    {
        var clients = new List<BenchClient>();
        try
        {
            for (var index = 0; index < users.Count; index++)
            {
                var (server, remote) = placement(index);
                clients.Add(await BenchClient.ConnectAsync(server, users[index], remote));
            }

            var roomsOf = users.ToDictionary(u => u, _ => new List<string>(), StringComparer.Ordinal);
            foreach (var (members, room) in roomMembers.Zip(roomIds))
            {
                members.ForEach(m => roomsOf[m].Add(room));
            }

            var sending = clients.Where((_, i) => i % 2 == 0).Take(senders).Select(c => (Client: c, Rooms: roomsOf[c.User])).ToList();
            var fanout = roomMembers.Sum(m => m.Count) / (double)roomMembers.Count;

            progress($"  capacity: {sending.Count} senders, {Window} sends outstanding each, {phase.TotalSeconds:N0} s");
            var capacity = await RunPhaseAsync(clients, sending, phase, ratePerSender: null);
            var messagesPerSecond = capacity.Deliveries / fanout;

            var points = new List<LoadPoint>();
            foreach (var load in loads)
            {
                var rate = messagesPerSecond * load / sending.Count;
                progress($"  latency at {load:P0} of {messagesPerSecond:N0} messages/s ({capacity.Deliveries:N0} deliveries/s): {rate * sending.Count:N0} messages/s");
                var paced = await RunPhaseAsync(clients, sending, phase, ratePerSender: rate);
                points.Add(new LoadPoint(load, rate * sending.Count, paced.Deliveries, paced.Remote, paced.Local));
            }

            return new CrossNodeResult(name, capacity.Deliveries, messagesPerSecond, points);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<(double Deliveries, Latency Remote, Latency Local)> RunPhaseAsync(List<BenchClient> clients, List<(BenchClient Client, List<string> Rooms)> senders, TimeSpan phase, double? ratePerSender)
    {
        using var stop = new CancellationTokenSource();
        clients.ForEach(c => c.ResetLatencies());
        var loops = senders.Select(s => ratePerSender is { } rate
            ? Task.Run(() => s.Client.SendPacedAsync(s.Rooms, rate, stop.Token))
            : Task.Run(() => s.Client.SendWindowedAsync(s.Rooms, stop.Token))).ToList();

        // A fifth of the phase to settle, then deliveries are counted over the rest.
        await Task.Delay(phase / 5);
        var before = clients.Sum(c => c.Deliveries);
        var started = Stopwatch.GetTimestamp();
        clients.ForEach(c => c.ResetLatencies());
        await Task.Delay(phase);
        var deliveries = (clients.Sum(c => c.Deliveries) - before) / Stopwatch.GetElapsedTime(started).TotalSeconds;
        var remote = Latency.Of(clients.Where(c => c.Remote).SelectMany(c => c.Latencies()));
        var local = Latency.Of(clients.Where(c => !c.Remote).SelectMany(c => c.Latencies()));
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        foreach (var (client, _) in senders)
        {
            await client.DrainAsync();
        }

        if (clients.FirstOrDefault(c => c.Failure is not null) is { } failed)
        {
            throw new InvalidOperationException($"{failed.User}'s connection failed during the run: {failed.Failure}");
        }

        return (deliveries, remote, local);
    }

    /// <summary>A connection of one user: counts and times message events, and sends timestamped messages.</summary>
    private sealed class BenchClient : IAsyncDisposable
    {
        private static readonly byte[] MessagePrefix = Encoding.UTF8.GetBytes("{\"type\":\"message\"");
        private static readonly byte[] BodyField = Encoding.UTF8.GetBytes("\"body\":\"");
        private static readonly byte[] ReplyPrefix = Encoding.UTF8.GetBytes("{\"type\":\"reply\"");
        private static readonly byte[] ErrorPrefix = Encoding.UTF8.GetBytes("{\"type\":\"error\"");
        private readonly ClientWebSocket _socket;
        private readonly Task _receiving;
        private readonly SemaphoreSlim _outstanding = new(Window, Window);
        private List<double> _latencies = [];
        private long _deliveries;
        private long _sent;
        private long _replies;

        private BenchClient(ClientWebSocket socket, string user, bool remote)
        {
            _socket = socket;
            User = user;
            Remote = remote;
            _receiving = ReceiveAsync();
        }

        public string User { get; }

        /// <summary>Whether this connection is on node 2, the other node from the senders'.</summary>
        public bool Remote { get; }

        public long Deliveries => Interlocked.Read(ref _deliveries);

        public string? Failure { get; private set; }

        public static async Task<BenchClient> ConnectAsync(Uri server, string user, bool remote)
        {
            var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol(Protocol.ChatProtocol.Subprotocol);
            socket.Options.SetRequestHeader("Authorization", "Bearer " + user);
            await socket.ConnectAsync(server, CancellationToken.None);
            var client = new BenchClient(socket, user, remote);
            await client.SendFrameAsync("{\"type\":\"hello\",\"id\":\"h\"}");
            await client.WaitForRepliesAsync(1);
            return client;
        }

        public void ResetLatencies()
        {
            lock (_outstanding)
            {
                _latencies = [];
            }
        }

        public List<double> Latencies()
        {
            lock (_outstanding)
            {
                return _latencies;
            }
        }

        /// <summary>As fast as replies allow, with <see cref="Window"/> sends outstanding.</summary>
        public async Task SendWindowedAsync(List<string> rooms, CancellationToken stop)
        {
            for (var n = 0; await TakeSlotAsync(stop); n++)
            {
                await SendMessageAsync(rooms[n % rooms.Count], Stopwatch.GetTimestamp());
            }
        }

        /// <summary>
        /// Open loop: message k is due at k / rate seconds. A sender that is behind (a full window, a slow socket)
        /// stamps the due time, so the delay counts; a sender that slept stamps the moment it woke, so the
        /// timer's own lateness (a millisecond or more) is not charged to ChatKit.
        /// </summary>
        public async Task SendPacedAsync(List<string> rooms, double rate, CancellationToken stop)
        {
            var start = Stopwatch.GetTimestamp() + (long)(Random.Shared.NextDouble() * Stopwatch.Frequency / rate);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var due = start + (long)(n * Stopwatch.Frequency / rate);
                var stamp = due;
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    stamp = Stopwatch.GetTimestamp();
                }

                if (!await TakeSlotAsync(stop))
                {
                    return;
                }

                await SendMessageAsync(rooms[n % rooms.Count], stamp);
            }
        }

        /// <summary>Waits until every send so far has its reply.</summary>
        public Task DrainAsync() => WaitForRepliesAsync(Interlocked.Read(ref _sent) + 1);

        public async ValueTask DisposeAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                _socket.Abort();
            }

            await _receiving;
            _socket.Dispose();
            _outstanding.Dispose();
        }

        private async Task<bool> TakeSlotAsync(CancellationToken stop)
        {
            try
            {
                await _outstanding.WaitAsync(stop);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        private Task SendMessageAsync(string room, long stamp)
        {
            var id = Interlocked.Increment(ref _sent);
            return SendFrameAsync($"{{\"type\":\"send\",\"id\":\"{id}\",\"room\":\"{room}\",\"cmid\":\"{User}-{id}\",\"body\":\"{stamp}\"}}");
        }

        private async Task SendFrameAsync(string frame) =>
            await _socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        private async Task WaitForRepliesAsync(long count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (Interlocked.Read(ref _replies) < count)
            {
                if (Failure is not null)
                {
                    throw new InvalidOperationException($"{User}: {Failure}");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(5), timeout.Token);
            }
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var (length, type) = await WebSocketMessages.ReceiveAsync(_socket, buffer, CancellationToken.None);
                    if (type == WebSocketMessageType.Close)
                    {
                        if (_socket.CloseStatus != WebSocketCloseStatus.NormalClosure)
                        {
                            Failure = $"closed by the server: {_socket.CloseStatus} {_socket.CloseStatusDescription}";
                        }

                        return;
                    }

                    Handle(buffer.AsSpan(0, length));
                }
            }
            catch (WebSocketException ex)
            {
                Failure ??= ex.Message;
            }
        }

        private void Handle(ReadOnlySpan<byte> frame)
        {
            if (frame.StartsWith(ErrorPrefix))
            {
                Failure ??= Encoding.UTF8.GetString(frame);
            }

            if (frame.StartsWith(ReplyPrefix) || frame.StartsWith(ErrorPrefix))
            {
                // The first reply answers the hello, which took no slot.
                if (Interlocked.Increment(ref _replies) > 1)
                {
                    _outstanding.Release();
                }

                return;
            }

            if (!frame.StartsWith(MessagePrefix))
            {
                return;
            }

            Interlocked.Increment(ref _deliveries);
            var body = frame.IndexOf(BodyField);
            if (body >= 0 && Utf8Parser.TryParse(frame[(body + BodyField.Length)..], out long stamp, out _))
            {
                var latency = Stopwatch.GetElapsedTime(stamp).TotalMilliseconds;
                lock (_outstanding)
                {
                    _latencies.Add(latency);
                }
            }
        }
    }
}
