using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ChatKit.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- storage [--sends N] [--history-room N] [--out docs/benchmarks.md]
var sends = Option("--sends", 20_000);
var senders = Option("--senders", 32);
var stores = args.SkipWhile(a => a != "--stores").Skip(1).FirstOrDefault() ?? "memory,sqlite,postgres";
var historyRoom = Option("--history-room", 1_000_000);
var output = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? "docs/benchmarks.md";
if (args.FirstOrDefault() != "storage")
{
    Console.Error.WriteLine("usage: ChatKit.Benchmarks storage [--sends N] [--history-room N] [--out FILE]");
    return 2;
}

var results = await StorageBenchmark.RunAsync(sends, senders, historyRoom, stores, step => Console.WriteLine($"[{TimeProvider.System.GetLocalNow():HH:mm:ss}] {step}..."));
var text = new StringBuilder();
var inv = CultureInfo.InvariantCulture;
text.AppendLine("# ChatKit benchmarks").AppendLine();
text.AppendLine(inv, $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}. ");
text.AppendLine(inv, $"Command: `dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- storage --sends {sends} --history-room {historyRoom}`").AppendLine();
text.AppendLine("## Storage through the engine").AppendLine();
text.AppendLine("Acknowledged sends per second: 32 concurrent senders over 32 rooms, each send stored before its ack (one transaction per message; SQLite runs a quarter of the sends). History: 2,000 random pages of 50 messages (`before`) in one room of the given size, through the engine.").AppendLine();
text.AppendLine("| store | sends | sends/s | history room | page p50 | page p99 |");
text.AppendLine("|---|---:|---:|---:|---:|---:|");
foreach (var r in results)
{
    text.AppendLine(inv, $"| {r.Store} | {r.Sends:N0} | {r.SendsPerSecond:N0} | {(r.HistoryRoomSize is { } n ? n.ToString("N0", inv) : "-")} | {(r.HistoryP50Ms is { } p50 ? $"{p50:F2} ms" : "-")} | {(r.HistoryP99Ms is { } p99 ? $"{p99:F2} ms" : "-")} |");
}

Console.WriteLine(text);
File.WriteAllText(output, text.ToString());
return 0;

int Option(string name, int fallback)
{
    var value = args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
    return value is null ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
}
