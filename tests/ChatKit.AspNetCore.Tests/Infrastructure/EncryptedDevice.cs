using ChatKit.Client;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>One device of one user: a connected client, its events and its end-to-end encryption.</summary>
internal sealed class EncryptedDevice : IAsyncDisposable
{
    private EncryptedDevice(ChatClient client, ClientEvents events, EndToEndEncryption e2e)
    {
        Client = client;
        Events = events;
        E2e = e2e;
    }

    public ChatClient Client { get; }

    public ClientEvents Events { get; }

    public EndToEndEncryption E2e { get; }

    public static Task<EncryptedDevice> StartAsync(ChatTestServer server, string user, string device, string folder) =>
        StartAsync(server.WebSocketUri, user, device, folder);

    public static async Task<EncryptedDevice> StartAsync(Uri server, string user, string device, string folder)
    {
        var client = new ChatClient(new ChatClientOptions
        {
            ServerUri = server,
            AccessTokenProvider = _ => ValueTask.FromResult<string?>(user),
            RequestTimeout = TimeSpan.FromSeconds(10),
        });
        await client.ConnectAsync();
        var events = new ClientEvents(client);
        var e2e = await EndToEndEncryption.StartAsync(client, user, device, new FileEncryptionStateStore(Path.Combine(folder, user, device)));
        return new EncryptedDevice(client, events, e2e);
    }

    /// <summary>The texts of the room's messages so far, in order, without key-only messages.</summary>
    public async Task<List<string>> ReadAsync(string room)
    {
        var texts = new List<string>();
        foreach (var message in Events.Messages(room))
        {
            if (await E2e.DecryptAsync(message) is { } text)
            {
                texts.Add(text);
            }
        }

        return texts;
    }

    public async ValueTask DisposeAsync()
    {
        E2e.Dispose();
        await Events.DisposeAsync();
        await Client.DisposeAsync();
    }
}
