using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using ChatKit.Protocol;
using ChatKit.Samples.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.AspNetCore.Tests;

public sealed class SampleAppTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_sample_signs_people_in_serves_its_page_and_lets_them_chat()
    {
        await using var app = SampleApp.Create(["--urls", "http://127.0.0.1:0", "--contentRoot", SampleDirectory()]);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var http = new HttpClient { BaseAddress = address };

        var page = await http.GetStringAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("Development sign-in", page, StringComparison.Ordinal);
        using var badName = await http.PostAsJsonAsync("/dev/signin", new { name = "  " });
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        var alice = await SignInAsync(http, "Alice Smith");
        var bob = await SignInAsync(http, "Bob");
        Assert.Equal("alice-smith", alice.User);

        using var aliceSocket = await ConnectAsync(address, alice.Token);
        using var bobSocket = await ConnectAsync(address, bob.Token);
        var welcome = await RequestAsync(aliceSocket, new ClientFrame { Type = FrameTypes.Hello, Id = "h" });
        Assert.Equal("Alice Smith", welcome.Name);
        await RequestAsync(bobSocket, new ClientFrame { Type = FrameTypes.Hello, Id = "h" });
        var direct = (await RequestAsync(aliceSocket, new ClientFrame { Type = FrameTypes.RoomsDirect, Id = "d", User = "bob" })).Info!;
        var sent = await RequestAsync(aliceSocket, new ClientFrame { Type = FrameTypes.Send, Id = "s", Room = direct.Id, Cmid = "c1", Body = "hello from the sample" });
        Assert.Equal(1, sent.Seq);

        var history = await RequestAsync(bobSocket, new ClientFrame { Type = FrameTypes.History, Id = "hist", Room = direct.Id });
        Assert.Equal("hello from the sample", Assert.Single(history.Messages!).Body);

        using var forged = new HttpRequestMessage(HttpMethod.Get, new Uri("/chat/rooms", UriKind.Relative));
        forged.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");
        using var refused = await http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await app.StopAsync();
    }

    /// <summary>The sample's project folder, whose wwwroot the app serves.</summary>
    private static string SampleDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ChatKit.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory?.FullName ?? throw new InvalidOperationException("ChatKit.sln not found above the test folder."), "samples", "ChatKit.Samples.Web");
    }

    private static async Task<SignIn> SignInAsync(HttpClient http, string name)
    {
        using var response = await http.PostAsJsonAsync("/dev/signin", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SignIn>())!;
    }

    private static async Task<ClientWebSocket> ConnectAsync(Uri address, string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ChatProtocol.Subprotocol);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(new Uri($"ws://{address.Authority}/chat?access_token={Uri.EscapeDataString(token)}"), timeout.Token);
        return socket;
    }

    /// <summary>Sends a request and reads frames until its reply, skipping events.</summary>
    private static async Task<ServerFrame> RequestAsync(ClientWebSocket socket, ClientFrame request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.SendAsync(ProtocolJson.Serialize(request), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            var frame = ProtocolJson.ParseServerFrame(buffer.AsSpan(0, length))!;
            if (frame.Re == request.Id)
            {
                Assert.Equal(FrameTypes.Reply, frame.Type);
                return frame;
            }
        }
    }

    private sealed record SignIn(string Token, string User, string Name);
}
