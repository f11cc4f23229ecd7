using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ChatKit.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- storage [--sends N] [--senders 32,256]
//        [--history-room N] [--stores memory,sqlite,postgres] [--out docs/benchmarks.md]
const string Usage = "usage: ChatKit.Benchmarks storage [--sends N] [--senders 32,256] [--history-room N] [--stores memory,sqlite,postgres] [--out FILE]";
if (args.FirstOrDefault() != "storage")
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var inv = CultureInfo.InvariantCulture;
var sends = int.Parse(Option("--sends") ?? "100000", inv);
var senders = (Option("--senders") ?? "32,256").Split(',').Select(s => int.Parse(s, inv)).ToList();
var historyRoom = int.Parse(Option("--history-room") ?? "1000000", inv);
var stores = Option("--stores") ?? "memory,sqlite,postgres";
var output = Option("--out") ?? "docs/benchmarks.md";

var results = await StorageBenchmark.RunAsync(sends, senders, historyRoom, stores, step => Console.WriteLine($"[{TimeProvider.System.GetLocalNow():HH:mm:ss}] {step}..."));

var block = new StringBuilder();
block.AppendLine(inv, $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd}. ");
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

Console.WriteLine(block);

// The measured block replaces the one between the markers; the prose around it is kept.
const string Begin = "<!-- storage:begin -->";
const string End = "<!-- storage:end -->";
var document = File.Exists(output) ? File.ReadAllText(output) : string.Empty;
var start = document.IndexOf(Begin, StringComparison.Ordinal);
var end = document.IndexOf(End, StringComparison.Ordinal);
var measured = $"{Begin}\n{block}{End}";
document = start >= 0 && end > start
    ? string.Concat(document.AsSpan(0, start), measured, document.AsSpan(end + End.Length))
    : $"# ChatKit benchmarks\n\n## Storage through the engine\n\n{measured}\n";
File.WriteAllText(output, document);
return 0;

static string Ms(double? value) => value is { } ms ? string.Create(CultureInfo.InvariantCulture, $"{ms:F2} ms") : "-";

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
