using System.Net.Http.Json;
using System.Text;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Client;

namespace ChatKit.Browser.Tests.Infrastructure;

/// <summary>
/// The sample app (samples/ChatKit.Samples.Web) as a process of its own on 127.0.0.1 and a free port, with its SQLite
/// file and token keys in a temporary folder of its own. It can be killed (SIGKILL) and started again on the same
/// port, database and keys, so pages and tokens from before the crash still work after it.
/// </summary>
internal sealed class SampleServer : IAsyncDisposable
{
    private readonly DirectoryInfo _folder;
    private readonly StringBuilder _earlierOutput = new();
    private readonly HttpClient _http;
    private NodeProcess? _node;

    private SampleServer(DirectoryInfo folder, int port)
    {
        _folder = folder;
        Port = port;
        _http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(15) };
    }

    public int Port { get; }

    /// <summary>The page.</summary>
    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>The chat endpoint for a .NET <see cref="ChatClient"/>.</summary>
    public Uri ChatUri => new($"ws://127.0.0.1:{Port}/chat");

    /// <summary>Everything every process of this server wrote so far, for failure messages.</summary>
    public string Output => _earlierOutput + (_node?.Output ?? string.Empty);

    public static async Task<SampleServer> StartAsync()
    {
        var server = new SampleServer(Directory.CreateTempSubdirectory("chatkit-browser-"), RedisServer.FreePort());
        try
        {
            await server.StartAgainAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Kills the process (SIGKILL): no goodbye to the pages, their sockets are reset.</summary>
    public async Task KillAsync()
    {
        if (_node is { } node)
        {
            _node = null;
            await node.KillAsync();
            _earlierOutput.Append(node.Output).AppendLine("---- killed ----");
            await node.DisposeAsync();
        }
    }

    /// <summary>Starts the process (again) on the same port, database and keys, and waits until it serves.</summary>
    public async Task StartAgainAsync()
    {
        if (_node is not null)
        {
            throw new InvalidOperationException("The server is running; kill it first.");
        }

        // NodeProcess picks a port of its own; the later --urls wins, so every start of this server has the same one.
        _node = await NodeProcess.StartSampleAsync(
        [
            $"urls=http://127.0.0.1:{Port}",
            // The sample's own folder, so the page is served from samples/ChatKit.Samples.Web/wwwroot as it is now.
            $"contentRoot={Path.Combine(RepositoryPaths.Root, "samples", "ChatKit.Samples.Web")}",
            $"ChatKit:Storage:ConnectionString=Data Source={Path.Combine(_folder.FullName, "chat.db")};Pooling=False",
            $"DevSignIn:KeysDirectory={Path.Combine(_folder.FullName, "keys")}",
        ]);
    }

    /// <summary>The bytes of the server's SQLite database file and its write-ahead log, as they are on disk now.</summary>
    public byte[] ReadDatabaseBytes() =>
        [.. new[] { "chat.db", "chat.db-wal" }.Select(name => Path.Combine(_folder.FullName, name)).Where(File.Exists).SelectMany(ReadShared)];

    private static byte[] ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        file.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The device ids the key directory lists for <paramref name="user"/> (GET /chat/keys/users/{user}).</summary>
    public async Task<IReadOnlyList<string>> ListDevicesAsync(string token, string user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/chat/keys/users/{Uri.EscapeDataString(user)}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var listed = await response.Content.ReadFromJsonAsync<DeviceList>();
        return [.. listed!.Devices.Select(d => d.Device)];
    }

    /// <summary>The sample's development sign-in: POST /dev/signin {"name"}.</summary>
    public async Task<SignIn> SignInAsync(string name)
    {
        using var response = await _http.PostAsJsonAsync("/dev/signin", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SignIn>())!;
    }

    /// <summary>A connected .NET client with <paramref name="token"/>; nobody reads its events (they are few).</summary>
    public async Task<ChatClient> ConnectAsync(string token)
    {
        var client = new ChatClient(new ChatClientOptions
        {
            ServerUri = ChatUri,
            AccessTokenProvider = _ => ValueTask.FromResult<string?>(token),
            RequestTimeout = TimeSpan.FromSeconds(15),
        });
        try
        {
            await client.ConnectAsync();
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_node is { } node)
        {
            _node = null;
            await node.DisposeAsync();
        }

        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: the temporary folder is cleaned by the system later.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    internal sealed record SignIn(string Token, string User, string Name);

    private sealed record DeviceList(string User, IReadOnlyList<ListedDevice> Devices);

    private sealed record ListedDevice(string Device);
}
