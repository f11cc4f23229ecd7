using System.Globalization;
using System.Runtime.InteropServices;
using ChatKit.LoadGen;
using ChatKit.LoadGen.Load;
using ChatKit.LoadGen.Peers;

// The side-by-side load generator (issue 8). Commands:
//   run     one system, one scenario, one or more offered loads; prints each step (with the servers' CPU per
//           delivery, unless --ports points at a system started elsewhere)
//   smoke   every system alone with a few connections for a few seconds; exits 1 when one delivers other than expected
//   compare everything (scenarios A, B and C for every system, D for ChatKit), then the docs/benchmarks.md blocks and the SVG plot
//   report  rewrites the docs blocks and the plot from a results file of compare
//   hold    opens idle connections to one node and keeps them (a process of scenario D, started by compare)
var usage = """
    usage: ChatKit.LoadGen run --system KEY [--scenario A|B|small] [--rates 100,200] [--seconds 5] [--warmup 1] [--ports P1,P2]
           ChatKit.LoadGen smoke [--systems KEY,...] [--seconds 2]
           ChatKit.LoadGen compare [--systems KEY,...] [--scenarios A,B,C,D] [--seconds 4] [--warmup 1] [--idle 10000,20000,40000,100000] [--machine-idle 100000]
                                   [--out docs/benchmarks.md] [--svg docs/benchmarks-p99.svg] [--results FILE]
           ChatKit.LoadGen report --results FILE [--out docs/benchmarks.md] [--svg docs/benchmarks-p99.svg]
           ChatKit.LoadGen hold --system KEY --port P [--connections 1000] [--first-user 0]
    systems:
    """ + " " + string.Join(", ", SystemSpec.All.Select(s => s.Key));

var options = new CommandOptions(args);
var root = options.Get("--root") ?? RepositoryRoot.Find();
// Ctrl+C or SIGTERM: the peers, Redis and PostgreSQL this run started go with it.
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupted);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupted);

try
{
    switch (args.FirstOrDefault())
    {
        case "run":
            return await RunCommand.RunAsync(options, root);
        case "smoke":
            return await SmokeCommand.RunAsync(options, root);
        case "compare":
            return await CompareCommand.RunAsync(options, root, args);
        case "report":
            return CompareCommand.Report(options, root);
        case "hold":
            return await HoldCommand.RunAsync(options);
        default:
            Console.Error.WriteLine(usage);
            return 2;
    }
}
catch (Exception e) when (e is UsageException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(usage);
    return 2;
}
finally
{
    PeerProcess.KillAll();
}

static void Interrupted(PosixSignalContext context)
{
    context.Cancel = true;
    Console.WriteLine($"{context.Signal}: stopping the peers.");
    PeerProcess.KillAll();
    PostgresCluster.StopAllStarted();
    Environment.Exit(130);
}

namespace ChatKit.LoadGen
{
    /// <summary><c>--name value</c> options.</summary>
    internal sealed class CommandOptions(string[] args)
    {
        public string? Get(string name) => args.SkipWhile(a => !string.Equals(a, name, StringComparison.Ordinal)).Skip(1).FirstOrDefault();

        public double Number(string name, double fallback) => Get(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

        public List<string> List(string name, string fallback) => (Get(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    internal static class RepositoryRoot
    {
        /// <summary>The folder holding ChatKit.sln, above the working directory or the program.</summary>
        public static string Find()
        {
            foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            {
                for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
                {
                    if (File.Exists(Path.Combine(folder.FullName, "ChatKit.sln")))
                    {
                        return folder.FullName;
                    }
                }
            }

            throw new UsageException("Cannot find the repository (ChatKit.sln); pass --root.");
        }
    }

    internal static class Log
    {
        public static void Progress(string line) => Console.WriteLine($"[{TimeProvider.System.GetLocalNow():HH:mm:ss}] {line}");
    }
}

namespace ChatKit.LoadGen
{
    /// <summary>A command line the program cannot run: the message says what to change.</summary>
    internal sealed class UsageException(string message) : Exception(message);
}
