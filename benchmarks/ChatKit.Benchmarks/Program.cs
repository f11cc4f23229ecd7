using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ChatKit.Benchmarks;
using ChatKit.LoadGen.Reporting;

// Usage: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- storage [--sends N] [--senders 32,256]
//        [--history-room N] [--stores memory,sqlite,postgres] [--out docs/benchmarks.md]
//    or: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- crossnode [--seconds N] [--loads 0.1,0.25,0.5] [--out docs/benchmarks.md]
//    or: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- kafka [--closed-seconds N] [--senders N] [--seconds N] [--loads 0.25,0.5] [--stores memory,postgres] [--out docs/benchmarks.md]
//    or: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- e2e [--seconds N] [--out docs/benchmarks.md]
//    or: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- browser [--runs N] [--out docs/benchmarks.md]
//    or: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- vectors [--out tests/vectors/chatkit-e2e-v1.json]
const string Usage = "usage: ChatKit.Benchmarks storage [--sends N] [--senders 32,256] [--history-room N] [--stores memory,sqlite,postgres] [--out FILE]\n" +
                     "       ChatKit.Benchmarks crossnode [--seconds N] [--loads 0.1,0.25,0.5] [--out FILE]\n" +
                     "       ChatKit.Benchmarks kafka [--closed-seconds N] [--senders N] [--seconds N] [--loads 0.25,0.5] [--stores memory,postgres] [--out FILE]\n" +
                     "       ChatKit.Benchmarks e2e [--seconds N] [--out FILE]\n" +
                     "       ChatKit.Benchmarks browser [--runs N] [--out FILE]\n" +
                     "       ChatKit.Benchmarks vectors [--out tests/vectors/chatkit-e2e-v1.json]";
var inv = CultureInfo.InvariantCulture;
var output = Option("--out") ?? "docs/benchmarks.md";
var machine = $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}. ";
switch (args.FirstOrDefault())
{
    case "storage":
        await StorageAsync();
        return 0;
    case "crossnode":
        await CrossNodeAsync();
        return 0;
    case "kafka":
        await KafkaAsync();
        return 0;
    case "e2e":
        EndToEnd();
        return 0;
    case "browser":
        await BrowserAsync();
        return 0;
    case "vectors":
        var vectors = Option("--out") ?? VectorWriter.DefaultPath;
        VectorWriter.Write(vectors);
        Console.WriteLine($"Wrote {Path.GetFullPath(vectors)}");
        return 0;
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}

async Task StorageAsync()
{
    var sends = int.Parse(Option("--sends") ?? "100000", inv);
    var senders = (Option("--senders") ?? "32,256").Split(',').Select(s => int.Parse(s, inv)).ToList();
    var historyRoom = int.Parse(Option("--history-room") ?? "1000000", inv);
    var stores = Option("--stores") ?? "memory,sqlite,postgres";
    var results = await StorageBenchmark.RunAsync(sends, senders, historyRoom, stores, Progress);

    var block = new StringBuilder();
    block.AppendLine(machine);
    block.AppendLine(inv, $"Command: `dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- storage --sends {sends} --senders {string.Join(',', senders)} --history-room {historyRoom} --stores {stores}`").AppendLine();
    block.AppendLine(inv, $"Sends: acknowledged sends per second through `ChatEngine.SendAsync` ({sends:N0} after 20,000 untimed), each stored before it is acknowledged; the senders send one after another each, over 32 rooms. History: 2,000 random pages of 50 messages (`before`) in one room of {historyRoom:N0} messages through `ChatEngine.GetHistoryAsync`: a cold pass right after the room was written (on PostgreSQL: copied in, vacuumed and checkpointed), then a warm pass at other positions.").AppendLine();
    block.Append("| store |");
    senders.ForEach(n => block.Append(inv, $" sends/s, {n} senders |"));
    block.AppendLine(" history room | cold p99 | warm p50 | warm p99 |");
    block.Append("|---|").Append(string.Concat(senders.Select(_ => "---:|"))).AppendLine("---:|---:|---:|---:|");
    foreach (var r in results)
    {
        block.Append(inv, $"| {r.Store} |");
        foreach (var rate in r.SendsPerSecond)
        {
            block.Append(inv, $" {rate:N0} |");
        }

        block.AppendLine(inv, $" {(r.HistoryRoomSize is { } n ? n.ToString("N0", inv) : "-")} | {Ms(r.ColdP99Ms)} | {Ms(r.WarmP50Ms)} | {Ms(r.WarmP99Ms)} |");
    }

    Replace("storage", "Storage through the engine", block.ToString());
}

async Task CrossNodeAsync()
{
    var seconds = int.Parse(Option("--seconds") ?? "10", inv);
    var loads = (Option("--loads") ?? "0.1,0.25,0.5").Split(',').Select(s => double.Parse(s, inv)).ToList();
    var results = await CrossNodeBenchmark.RunAsync(TimeSpan.FromSeconds(seconds), loads, Progress);

    var block = new StringBuilder();
    block.AppendLine(machine);
    block.AppendLine(inv, $"Command: `dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- crossnode --seconds {seconds} --loads {string.Join(',', loads.Select(l => l.ToString(inv)))}`").AppendLine();
    block.AppendLine("Two ChatKit nodes and one redis-server 7 on this machine; the nodes share an in-memory store, so the figures are delivery and the backplane, not storage. The clients run in the same process as the nodes and share the 2 cores with them and with Redis. Senders are on node 1. Capacity: each sender keeps 16 sends outstanding; deliveries are message events received by all members' connections. Latency: sends paced at a fraction of that capacity, each stamped with its due time when the sender is behind (a send held back counts) or with the moment the sender's timer woke it (the timer's own lateness is not counted), timed to its arrival at every member: on node 2 (across Redis) and on node 1 (the senders' own node, for comparison). The two floor scenarios are references without ChatKit: the same clients, rooms and loads on a bare Kestrel WebSocket server that sends each message to its room's connections through a queue and a writer per connection (one node, so one column).").AppendLine();
    block.AppendLine("| scenario | load | messages/s | deliveries/s | other node p50 | other node p99 | same node p50 | same node p99 |");
    block.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var r in results)
    {
        block.AppendLine(inv, $"| {r.Scenario} | capacity | {r.CapacityMessagesPerSecond:N0} | {r.CapacityDeliveriesPerSecond:N0} | | | | |");
        foreach (var p in r.Loads)
        {
            block.AppendLine(inv, $"| {r.Scenario} | {p.Load:P0} | {p.MessagesPerSecond:N0} | {p.DeliveriesPerSecond:N0} | {Ms(p.Remote.Samples > 0 ? p.Remote.P50Ms : null)} | {Ms(p.Remote.Samples > 0 ? p.Remote.P99Ms : null)} | {Ms(p.Local.P50Ms)} | {Ms(p.Local.P99Ms)} |");
        }
    }

    Replace("crossnode", "Across nodes (Redis)", block.ToString());
}

async Task KafkaAsync()
{
    var closed = int.Parse(Option("--closed-seconds") ?? "10", inv);
    var senders = int.Parse(Option("--senders") ?? "2048", inv);
    var seconds = int.Parse(Option("--seconds") ?? "10", inv);
    var loads = (Option("--loads") ?? "0.25,0.5").Split(',').Select(s => double.Parse(s, inv)).ToList();
    var stores = Option("--stores") ?? "memory,postgres";
    var results = await KafkaBenchmark.RunAsync(TimeSpan.FromSeconds(closed), senders, TimeSpan.FromSeconds(seconds), loads, stores, Progress);

    var block = new StringBuilder();
    block.AppendLine(machine);
    block.AppendLine(inv, $"Command: `dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- kafka --closed-seconds {closed} --senders {senders} --seconds {seconds} --loads {string.Join(',', loads.Select(l => l.ToString(inv)))} --stores {stores}`").AppendLine();
    block.AppendLine(inv, $"The Kafka message log on librdkafka's mock cluster (3 brokers in the benchmark's process, topics of 12 partitions with 3 replicas, `acks=all`, idempotent producer, transactional writer; every client with `max.in.flight.requests.per.connection=1`, because the mock's brokers leave Nagle's algorithm on, see below), one ChatKit node, sends through `ChatEngine.SendAsync` over 64 rooms. Each phase runs on a new mock cluster and node, because the mock's cost per fetch grows with its log (see below); an untimed round of {KafkaBenchmark.WarmUp.TotalSeconds:N0} s first lets tiered compilation finish. Capacity: each sender sends one after another for {closed} s; a send is acknowledged once it came back numbered from the messages topic, and the writer stored it first. Latency: open loop at fractions of the capacity, each send timed from when it was due: to its acknowledgement (when the engine hands it to the room's connections), and to when it is both acknowledged and its batch's transaction committed. The two differ only on the mock, which shows records to `read_committed` readers before their commit; a real broker acknowledges after the commit, so the committed columns are the ones to compare with a real cluster.").AppendLine();
    block.AppendLine("| store | senders | capacity (sends/s) | offered | achieved | p50 acknowledged | p99 acknowledged | p50 committed | p99 committed | samples |");
    block.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var r in results)
    {
        block.AppendLine(inv, $"| {r.Store} | {r.Senders} | {r.CapacityPerSecond:N0} | {r.OfferedPerSecond:N0} | {r.AchievedPerSecond:N0} | {Ms(r.P50Ms)} | {Ms(r.P99Ms)} | {Ms(r.CommittedP50Ms)} | {Ms(r.CommittedP99Ms)} | {r.Samples:N0} |");
    }

    Replace("kafka", "Through the Kafka message log", block.ToString());
}

void EndToEnd()
{
    var seconds = double.Parse(Option("--seconds") ?? "1", inv);
    var block = new StringBuilder();
    block.AppendLine(machine);
    block.AppendLine(inv, $"Command: `dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- e2e --seconds {seconds}`").AppendLine();
    block.Append(EncryptionBenchmark.Run(TimeSpan.FromSeconds(seconds), Progress));
    Replace("e2e", "End-to-end encryption: protocol cost against its primitives", block.ToString());
}

async Task BrowserAsync()
{
    var runs = int.Parse(Option("--runs") ?? "20", inv);
    var bundle = await BrowserBenchmark.MeasureBundleAsync("chatkit.js", Progress);
    var encryption = await BrowserBenchmark.MeasureBundleAsync("e2e.js", Progress);
    var result = await BrowserBenchmark.MeasureFirstMessageAsync(runs, Progress);
    var times = result.Warm.Select(r => r.FirstMessageMs).ToList();
    var loaded = result.Warm.Select(r => r.DomContentLoadedMs).ToList();
    const int Goal = 15 * 1024;

    var block = new StringBuilder();
    block.AppendLine(machine);
    block.AppendLine(inv, $"Command: `dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- browser --runs {runs}`").AppendLine();
    block.AppendLine("| bundle | minified bytes | gzipped bytes (.NET `GZipStream`, `SmallestSize`) |");
    block.AppendLine("|---|---:|---:|");
    block.AppendLine(inv, $"| `clients/js/dist/chatkit.js` (`@chatkit/client`) | {bundle.Minified:N0} | {bundle.Gzipped:N0} |");
    block.AppendLine(inv, $"| `clients/js/dist/e2e.js` (`@chatkit/client/e2e`, loaded only for encryption) | {encryption.Minified:N0} | {encryption.Gzipped:N0} |").AppendLine();
    block.AppendLine(inv, $"`chatkit.js` has no encryption code (the client only passes the `encrypted` flag of `rooms.create` / `rooms.direct`), so it is the size without encryption: {bundle.Gzipped / 1024.0:F1} KiB gzipped, {(bundle.Gzipped <= Goal ? "under" : "over")} the goal of 15 KB (15,360 bytes). The client's own `npm run size` (clients/js) gzips with Node's zlib at level 9; its figures can differ from these by a few bytes.").AppendLine();
    block.AppendLine("| page load, ms since navigation start | runs | p50 | p90 | max |");
    block.AppendLine("|---|---:|---:|---:|---:|");
    block.AppendLine(inv, $"| first message attached, cold (first page of the browser and of the server) | 1 | {result.Cold.FirstMessageMs:F1} | | |");
    block.AppendLine(inv, $"| first message attached | {runs} | {BrowserBenchmark.Percentile(times, 0.5):F1} | {BrowserBenchmark.Percentile(times, 0.9):F1} | {times.Max():F1} |");
    block.AppendLine(inv, $"| DOMContentLoaded, for comparison | {runs} | {BrowserBenchmark.Percentile(loaded, 0.5):F1} | {BrowserBenchmark.Percentile(loaded, 0.9):F1} | {loaded.Max():F1} |").AppendLine();
    block.AppendLine(inv, $"The sample page (samples/ChatKit.Samples.Web) served by the sample app, run as a process of its own (SQLite store) on loopback, in Debian's headless Chromium (`/usr/bin/chromium`) driven by Playwright; the browser and the server share this machine's cores. Each run is a fresh browser context (empty HTTP cache and storage) whose session is already in `sessionStorage` the way the page keeps it after its sign-in form (`chatkit.session`, set by an init script before the page's scripts run, together with `chatkit.open`, the room the page reopens), so the sign-in request itself is not timed. The time is `performance.now()` (milliseconds since navigation start) taken in the page by a `MutationObserver` when the first `[data-testid=message]` element is attached: it includes the HTML, CSS and JS requests (`app.js` and the client bundles `lib/chatkit.js` and `lib/e2e.js`, {result.Cold.JsDecoded:N0} bytes of JS, {result.Cold.JsTransferred:N0} bytes transferred with headers, uncompressed), parsing, the start of the tab's end-to-end encryption device before the page connects (a fresh context is a new device: its keys and 50 one-time prekeys made with WebCrypto, an IndexedDB database, the publish to the key directory), the WebSocket connection with `hello` and its reply, the `history` request of the open room (one message) and the DOM update; not the paint after it. Loopback only: no network latency or bandwidth limit, so on a real network add the round trips (page, scripts, WebSocket upgrade, hello, history).");
    Replace("browser", "Browser client: bundle size and time to first message", block.ToString());
}

// The measured block replaces the one between its markers; the prose around it is kept. A new block goes at the end.
void Replace(string name, string heading, string block)
{
    Console.WriteLine(block);
    DocumentBlocks.Replace(output, name, heading, block);
}

void Progress(string step) => Console.WriteLine($"[{TimeProvider.System.GetLocalNow():HH:mm:ss}] {step}...");

static string Ms(double? value) => value is { } ms ? string.Create(CultureInfo.InvariantCulture, $"{ms:F2} ms") : "-";

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
