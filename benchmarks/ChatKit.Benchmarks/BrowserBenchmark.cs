using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatKit.Benchmarks;

/// <summary>
/// The browser client (clients/js): its bundle's size, and the time the sample page (samples/ChatKit.Samples.Web) takes
/// from navigation start to its first message in the DOM, in Debian's headless Chromium (/usr/bin/chromium, never a
/// browser that <c>playwright install</c> downloads) against the sample app run as a process of its own, as the browser
/// tests run both.
/// </summary>
internal static class BrowserBenchmark
{
    public const string ChromiumPath = "/usr/bin/chromium";

    // Runs before the page's own scripts in every document of the context: the session the page would have saved
    // after its sign-in form (sessionStorage, keys of app.js), the room it reopens after a reload, and an observer that
    // stamps performance.now() (milliseconds since navigation start) when the first message element is attached.
    private const string InitScript = """
        (([session, room]) => {
          sessionStorage.setItem('chatkit.session', JSON.stringify(session));
          sessionStorage.setItem('chatkit.open', JSON.stringify(room));
          window.__chatkitFirstMessage = null;
          const observer = new MutationObserver(() => {
            if (window.__chatkitFirstMessage === null && document.querySelector('[data-testid="message"]')) {
              window.__chatkitFirstMessage = performance.now();
              observer.disconnect();
            }
          });
          observer.observe(document, { childList: true, subtree: true });
        })
        """;

    private const string Timings = """
        () => {
          const nav = performance.getEntriesByType('navigation')[0];
          const js = performance.getEntriesByType('resource').filter((r) => new URL(r.name).pathname.endsWith('.js'));
          return [window.__chatkitFirstMessage, nav.domContentLoadedEventEnd,
                  js.reduce((sum, r) => sum + r.transferSize, 0), js.reduce((sum, r) => sum + r.decodedBodySize, 0)];
        }
        """;

    /// <summary>The size of a bundle in clients/js/dist (<c>chatkit.js</c>, or the encryption module <c>e2e.js</c>), built first when missing.</summary>
    public static async Task<BundleSize> MeasureBundleAsync(string file, Action<string> progress)
    {
        var folder = Path.Combine(RepositoryPaths.Root, "clients", "js");
        var bundle = Path.Combine(folder, "dist", file);
        if (!File.Exists(bundle))
        {
            progress($"clients/js/dist/{file} is missing: npm run build");
            var info = new ProcessStartInfo("npm") { WorkingDirectory = folder, UseShellExecute = false };
            info.ArgumentList.Add("run");
            info.ArgumentList.Add("build");
            using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm did not start.");
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0 || !File.Exists(bundle))
            {
                throw new InvalidOperationException($"npm run build in {folder} failed ({npm.ExitCode}).");
            }
        }

        var code = await File.ReadAllBytesAsync(bundle);
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            await gzip.WriteAsync(code);
        }

        return new BundleSize(code.Length, compressed.Length);
    }

    public static async Task<FirstMessage> MeasureFirstMessageAsync(int runs, Action<string> progress)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium. This benchmark never downloads a browser.");
        }

        var folder = Directory.CreateTempSubdirectory("chatkit-bench-browser-");
        NodeProcess? node = null;
        IPlaywright? playwright = null;
        IBrowser? browser = null;
        try
        {
            progress("Starting the sample app");
            node = await NodeProcess.StartSampleAsync(
            [
                $"contentRoot={Path.Combine(RepositoryPaths.Root, "samples", "ChatKit.Samples.Web")}",
                $"ChatKit:Storage:ConnectionString=Data Source={Path.Combine(folder.FullName, "chat.db")};Pooling=False",
                $"DevSignIn:KeysDirectory={Path.Combine(folder.FullName, "keys")}",
            ]);

            progress("Signing in and sending one message");
            SignIn session;
            using (var http = new HttpClient { BaseAddress = node.Address, Timeout = TimeSpan.FromSeconds(15) })
            using (var response = await http.PostAsJsonAsync("/dev/signin", new { name = "bench" }))
            {
                response.EnsureSuccessStatusCode();
                session = (await response.Content.ReadFromJsonAsync<SignIn>())!;
            }

            var room = await SeedAsync(node.WebSocketUri, session.Token);

            playwright = await Playwright.CreateAsync();
            browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });

            progress($"Opening the page {runs + 1} times (the first cold)");
            var cold = await OpenOnceAsync(browser, node.Address, session, room);
            var warm = new List<PageLoad>(runs);
            for (var i = 0; i < runs; i++)
            {
                warm.Add(await OpenOnceAsync(browser, node.Address, session, room));
            }

            return new FirstMessage(cold, warm);
        }
        finally
        {
            if (browser is not null)
            {
                await browser.CloseAsync();
                await browser.DisposeAsync();
            }

            playwright?.Dispose();
            if (node is not null)
            {
                await node.DisposeAsync();
            }

            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A file still held open: the temporary folder is cleaned by the system later.
            }
        }
    }

    /// <summary>A fresh context (no cache, no storage) already signed in, navigated to the page.</summary>
    private static async Task<PageLoad> OpenOnceAsync(IBrowser browser, Uri address, SignIn session, string room)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        try
        {
            var sessionJson = JsonSerializer.Serialize(new { token = session.Token, user = session.User, name = session.Name });
            var roomJson = JsonSerializer.Serialize(room);
            await context.AddInitScriptAsync($"{InitScript}([{sessionJson}, {roomJson}]);");
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(15_000);
            await page.GotoAsync(address.ToString());
            await page.WaitForFunctionAsync("() => window.__chatkitFirstMessage !== null");
            var t = await page.EvaluateAsync<double[]>(Timings);
            return new PageLoad(t[0], t[1], (long)t[2], (long)t[3]);
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    /// <summary>Over the protocol (docs/protocol.md): hello, a private room, one message; returns the room's id.</summary>
    private static async Task<string> SeedAsync(Uri chat, string token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(Protocol.ChatProtocol.Subprotocol);
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(chat, timeout.Token);
        var buffer = new byte[1 << 20];

        async Task<JsonElement> RequestAsync(string id, object request)
        {
            await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(request), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            while (true)
            {
                var (length, type) = await WebSocketMessages.ReceiveAsync(socket, buffer, timeout.Token);
                if (type == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"The server closed the socket: {socket.CloseStatus} {socket.CloseStatusDescription}");
                }

                using var frame = JsonDocument.Parse(buffer.AsMemory(0, length));
                var root = frame.RootElement;
                if (root.TryGetProperty("re", out var re) && re.GetString() == id)
                {
                    return root.GetProperty("type").GetString() == "reply"
                        ? root.Clone()
                        : throw new InvalidOperationException("The server refused a request: " + Encoding.UTF8.GetString(buffer, 0, length));
                }
            }
        }

        await RequestAsync("h", new { type = "hello", id = "h" });
        var created = await RequestAsync("c", new { type = "rooms.create", id = "c", name = "bench", visibility = "private" });
        var room = created.GetProperty("info").GetProperty("id").GetString()!;
        await RequestAsync("s", new { type = "send", id = "s", room, cmid = "bench-1", body = "The first message." });
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        return room;
    }

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    public sealed record BundleSize(long Minified, long Gzipped);

    /// <summary>Milliseconds since navigation start; JS bytes of the page's .js resources (transferred, decoded).</summary>
    public sealed record PageLoad(double FirstMessageMs, double DomContentLoadedMs, long JsTransferred, long JsDecoded)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{FirstMessageMs:F1} ms");
    }

    public sealed record FirstMessage(PageLoad Cold, IReadOnlyList<PageLoad> Warm);

    private sealed record SignIn(string Token, string User, string Name);
}
