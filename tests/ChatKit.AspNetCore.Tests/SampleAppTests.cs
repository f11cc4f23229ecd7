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
        await using var app = await StartSampleAsync(NewDatabaseFile());
        var address = AddressOf(app);
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

    [Fact(Timeout = 120_000)]
    public async Task Restarting_the_sample_over_its_sqlite_file_keeps_rooms_members_history_and_receipts()
    {
        var database = NewDatabaseFile();
        string roomId;
        await using (var first = await StartSampleAsync(database))
        {
            using var http = new HttpClient { BaseAddress = AddressOf(first) };
            var alice = await SignInAsync(http, "Alice");
            var bob = await SignInAsync(http, "Bob");
            using var aliceSocket = await ConnectAsync(AddressOf(first), alice.Token);
            using var bobSocket = await ConnectAsync(AddressOf(first), bob.Token);
            await RequestAsync(aliceSocket, new ClientFrame { Type = FrameTypes.Hello, Id = "h" });
            await RequestAsync(bobSocket, new ClientFrame { Type = FrameTypes.Hello, Id = "h" });
            roomId = (await RequestAsync(aliceSocket, new ClientFrame { Type = FrameTypes.RoomsCreate, Id = "c", Name = "kept", Members = ["bob"] })).Info!.Id;
            for (var i = 1; i <= 3; i++)
            {
                await RequestAsync(aliceSocket, new ClientFrame { Type = FrameTypes.Send, Id = $"s{i}", Room = roomId, Cmid = $"m{i}", Body = $"message {i}" });
            }

            await RequestAsync(bobSocket, new ClientFrame { Type = FrameTypes.Receipt, Id = "r", Room = roomId, Seq = 2, Kind = "read" });
            await first.StopAsync();
        }

        await using var second = await StartSampleAsync(database);
        using var again = new HttpClient { BaseAddress = AddressOf(second) };
        var bobAgain = await SignInAsync(again, "Bob");
        using var socket = await ConnectAsync(AddressOf(second), bobAgain.Token);
        var welcome = await RequestAsync(socket, new ClientFrame { Type = FrameTypes.Hello, Id = "h" });
        var room = Assert.Single(welcome.Rooms!);
        Assert.Equal((roomId, "kept", 3L, 2L, 1L), (room.Id, room.Name, room.LatestSeq, room.ReadSeq, room.Unread));
        var history = await RequestAsync(socket, new ClientFrame { Type = FrameTypes.History, Id = "hist", Room = roomId });
        Assert.Equal(["message 1", "message 2", "message 3"], history.Messages!.Select(m => m.Body));
        var members = await RequestAsync(socket, new ClientFrame { Type = FrameTypes.MembersList, Id = "m", Room = roomId });
        Assert.Equal(["alice:owner", "bob:member"], members.Members!.Select(m => m.User + ":" + m.Role));
        var duplicate = await RequestAsync(socket, new ClientFrame { Type = FrameTypes.Send, Id = "dup", Room = roomId, Cmid = "m1", Body = "again" });
        Assert.Equal(ChatErrorCodes.InvalidField, duplicate.Code);
        await second.StopAsync();
    }

    private static string NewDatabaseFile() => Path.Combine(Path.GetTempPath(), $"chatkit-sample-{Guid.NewGuid():N}.db");

    private static async Task<WebApplication> StartSampleAsync(string databaseFile)
    {
        var app = SampleApp.Create(["--urls", "http://127.0.0.1:0", "--contentRoot", SampleDirectory(), "--ChatKit:Storage:ConnectionString", $"Data Source={databaseFile};Pooling=False"]);
        await app.StartAsync();
        return app;
    }

    private static Uri AddressOf(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

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
            var (length, _) = await Infrastructure.WebSocketMessages.ReceiveAsync(socket, buffer, timeout.Token);
            var frame = ProtocolJson.ParseServerFrame(buffer.AsSpan(0, length))!;
            if (frame.Re == request.Id)
            {
                return frame;
            }
        }
    }

    private sealed record SignIn(string Token, string User, string Name);
}
