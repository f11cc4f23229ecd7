using System.Diagnostics;
using System.Globalization;
using ChatKit.LoadGen.Measurement;
using ChatKit.LoadGen.Protocols;

namespace ChatKit.LoadGen.Load;

/// <summary>
/// The client side of one run against one system: its connections (spread over the system's nodes and over loopback
/// source addresses), its rooms, and open-loop load steps.
/// </summary>
internal sealed class LoadRun : IAsyncDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);
    private readonly Lock _lock = new();
    private Connection?[] _connections = [];
    private int _open;
    private readonly IReadOnlyList<int> _ports;
    private readonly Func<int, int> _nodeOf;
    private readonly LoopbackConnector _connector;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pinging;
    private readonly Action<string> _progress;
    private readonly Func<TimeSpan>? _serverCpu;
    private readonly int _firstUser;
    private string[] _roomIds = [];
    private int _steps;

    /// <summary>
    /// A run against the nodes listening on <paramref name="ports"/>; user i connects to the node <paramref name="layout"/>
    /// places it on (user i % nodes without a layout). <paramref name="serverCpu"/> reads the CPU time the system's
    /// processes have used, to give each step its CPU per delivery. Connection i is user u(<paramref name="firstUser"/> + i),
    /// so runs in several processes can hold distinct users.
    /// </summary>
    public LoadRun(string system, WireProtocol protocol, IReadOnlyList<int> ports, int maxConnections, Action<string> progress, RoomLayout? layout = null, Func<TimeSpan>? serverCpu = null, int firstUser = 0)
    {
        _serverCpu = serverCpu;
        _firstUser = firstUser;
        System = system;
        Protocol = protocol;
        _ports = ports;
        _nodeOf = layout is null ? user => user % ports.Count : user => layout.NodeOf(user, ports.Count);
        _progress = progress;
        _connector = new LoopbackConnector(LoopbackConnector.SourcesFor(maxConnections / Math.Max(1, ports.Count)));
        _pinging = protocol.PingFrame is null ? Task.CompletedTask : PingAsync(protocol.PingFrame, protocol.PingInterval);
    }

    public string System { get; }

    public WireProtocol Protocol { get; }

    public LoadSession Session { get; } = new();

    public int Connections => Volatile.Read(ref _open);

    /// <summary>
    /// Opens connections up to <paramref name="total"/> (user ids u0, u1, ... after the first user), <paramref name="concurrency"/> at a time,
    /// each through the protocol's handshake. Returns how many failed; the others are kept.
    /// </summary>
    public async Task<int> ConnectAsync(int total, int concurrency = 64)
    {
        var first = _connections.Length;
        lock (_lock)
        {
            Array.Resize(ref _connections, total);
        }

        var count = total - first;
        var failures = 0;
        string? firstFailure = null;
        using var gate = new SemaphoreSlim(concurrency);
        var done = 0;
        var started = Stopwatch.GetTimestamp();
        var reporting = Task.Run(async () =>
        {
            var next = Stopwatch.GetTimestamp() + (2 * Stopwatch.Frequency);
            while (Volatile.Read(ref done) < count)
            {
                await Task.Delay(100);
                if (Stopwatch.GetTimestamp() < next)
                {
                    continue;
                }

                next += 2 * Stopwatch.Frequency;
                _progress(string.Create(CultureInfo.InvariantCulture, $"    {System}: {first + Volatile.Read(ref done):N0} of {total:N0} connections ({Volatile.Read(ref failures)} failed)"));
            }
        });
        await Task.WhenAll(Enumerable.Range(first, total - first).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var connection = await OpenAsync(i);
                lock (_lock)
                {
                    _connections[i] = connection;
                }

                Interlocked.Increment(ref _open);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.Increment(ref failures);
                Interlocked.CompareExchange(ref firstFailure, e.Message, null);
            }
            finally
            {
                Interlocked.Increment(ref done);
                gate.Release();
            }
        }));
        await reporting;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        _progress(string.Create(CultureInfo.InvariantCulture, $"    {System}: {Connections:N0} connections open ({failures} failed{(firstFailure is null ? "" : ": " + firstFailure)}) in {seconds:N1} s"));
        return failures;
    }

    /// <summary>Makes the layout's rooms: each room's first member creates it, the others join, <paramref name="concurrency"/> rooms at a time.</summary>
    public async Task SetupRoomsAsync(RoomLayout layout, int concurrency = 32)
    {
        var started = Stopwatch.GetTimestamp();
        _roomIds = new string[layout.Rooms.Length];
        using var gate = new SemaphoreSlim(concurrency);
        await Task.WhenAll(layout.Rooms.Select(async (members, r) =>
        {
            await gate.WaitAsync();
            try
            {
                _roomIds[r] = await Protocol.CreateRoomAsync(Get(members[0]), r, RequestTimeout);
            }
            finally
            {
                gate.Release();
            }
        }));

        // Joins one member at a time per room (a big room's joins would all wait on the same room otherwise).
        var joins = layout.Rooms.SelectMany((members, r) => members.Skip(1).Select(m => (Member: m, Room: r))).ToList();
        await Task.WhenAll(joins.Select(async join =>
        {
            await gate.WaitAsync();
            try
            {
                await Protocol.JoinAsync(Get(join.Member), _roomIds[join.Room], RequestTimeout);
            }
            finally
            {
                gate.Release();
            }
        }));
        _progress(string.Create(CultureInfo.InvariantCulture, $"    {System}: {layout.Rooms.Length:N0} rooms, {joins.Count + layout.Rooms.Length:N0} memberships in {Stopwatch.GetElapsedTime(started).TotalSeconds:N1} s"));
    }

    /// <summary>Waits until no frame arrived for <paramref name="quiet"/> (the echoes of setup, or a step's tail), at most <paramref name="limit"/>.</summary>
    public async Task WaitQuietAsync(TimeSpan quiet, TimeSpan limit)
    {
        var until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var last = Session.Frames;
        var still = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < until)
        {
            await Task.Delay(100);
            var now = Session.Frames;
            if (now != last)
            {
                last = now;
                still = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(still) >= quiet)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One open-loop step: message k is due at start + k / rate whatever the replies, carries its due time, and is timed
    /// from it at every member. A dedicated thread sends each message when due (it sleeps 1 ms between checks, and
    /// that lateness counts in the latency). Latency counts the messages due after <paramref name="warmup"/>; deliveries
    /// count all, waited for up to 15 s after the last send.
    /// </summary>
    public async Task<StepResult> RunStepAsync(string scenario, RoomLayout layout, double rate, TimeSpan warmup, TimeSpan measured)
    {
        var step = Interlocked.Increment(ref _steps);
        var total = (int)Math.Ceiling(rate * (warmup + measured).TotalSeconds);
        var measuredFrom = (long)(rate * warmup.TotalSeconds);
        var recorder = new StepRecorder(step, total, measuredFrom);
        var errors = Session.Errors;
        var closed = Session.Closed;
        var acks = Session.Acks;
        Session.Recorder = recorder;
        var ticksPerMessage = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 20);
        long sent = 0;
        var sender = new Thread(() =>
        {
            for (var k = 0; k < total; k++)
            {
                var due = start + (long)(k * ticksPerMessage);
                while (Stopwatch.GetTimestamp() < due)
                {
                    Thread.Sleep(1);
                }

                var (from, room) = layout.Pick(k);
                recorder.Expect(k, layout.Rooms[room].Length, _nodeOf(from));
                _connections[from]?.Post(Protocol.SendFrame(_roomIds[room], step, k, new MessageBody(step, k, due)));
                Volatile.Write(ref sent, k + 1);
            }
        })
        { IsBackground = true, Name = "open-loop schedule" };
        var cpuBefore = _serverCpu?.Invoke();
        sender.Start();
        while (sender.IsAlive)
        {
            await Task.Delay(1000);
            _progress(string.Create(CultureInfo.InvariantCulture, $"      sent {Volatile.Read(ref sent):N0}/{total:N0}, received {recorder.Deliveries:N0}"));
        }

        var expected = recorder.Count(total).Expected;
        var lastSeen = -1L;
        var stalled = Stopwatch.GetTimestamp();
        var drainUntil = Stopwatch.GetTimestamp() + (15 * Stopwatch.Frequency);
        while (recorder.Deliveries < expected && Stopwatch.GetTimestamp() < drainUntil && Stopwatch.GetElapsedTime(stalled) < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(50);
            if (recorder.Deliveries != lastSeen)
            {
                lastSeen = recorder.Deliveries;
                stalled = Stopwatch.GetTimestamp();
            }
        }

        var counts = recorder.Count(total);
        var cpu = _serverCpu?.Invoke() - cpuBefore;
        Session.Recorder = null;
        var latency = recorder.Latency;
        var other = recorder.OtherNode;
        return new StepResult(
            System, scenario, rate, layout.Fanout, rate * layout.Fanout,
            Ms(latency.ValueAt(0.5)), Ms(latency.ValueAt(0.9)), Ms(latency.ValueAt(0.99)), Ms(latency.ValueAt(0.999)), latency.MaxMicroseconds / 1000.0,
            counts.Expected, counts.Delivered, counts.Duplicates, counts.Missing,
            Session.Errors - errors, Session.Closed - closed, Session.Acks - acks, Session.FirstError,
            _ports.Count > 1 && other.Count > 0 ? Ms(other.ValueAt(0.5)) : null,
            _ports.Count > 1 && other.Count > 0 ? Ms(other.ValueAt(0.99)) : null,
            cpu > TimeSpan.Zero && counts.Delivered > 0 ? cpu.Value.TotalMicroseconds / counts.Delivered : null);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _pinging;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        foreach (var connection in Snapshot())
        {
            connection.Dispose();
        }

        _connections = [];
        _connector.Dispose();
        _stop.Dispose();
    }

    private static double Ms(double microseconds) => microseconds / 1000.0;

    private Connection Get(int user) => _connections[user] ?? throw new InvalidOperationException($"{System}: user u{user} has no connection.");

    private Connection[] Snapshot()
    {
        lock (_lock)
        {
            return _connections.Where(c => c is not null).ToArray()!;
        }
    }

    private async Task<Connection> OpenAsync(int index)
    {
        var user = "u" + (_firstUser + index).ToString(CultureInfo.InvariantCulture);
        var node = _nodeOf(index);
        var port = _ports[node];
        using var timeout = new CancellationTokenSource(RequestTimeout);
        var socket = await _connector.ConnectAsync(Protocol.Address(port, user), Protocol.SubProtocol, index / _ports.Count, timeout.Token);
        var connection = new Connection(index, node, user, socket, Protocol, Session);
        try
        {
            connection.StartReceiving();
            await Protocol.OpenAsync(connection, RequestTimeout);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private async Task PingAsync(byte[] frame, TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            // The list grows while connections are added; a snapshot is enough for a ping.
            foreach (var connection in Snapshot())
            {
                connection.Post(frame);
            }
        }
    }
}
