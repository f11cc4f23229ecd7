using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests;

public sealed class HttpEndpointTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact(Timeout = 60_000)]
    public async Task Rooms_members_and_history_are_served_over_http_with_documented_errors()
    {
        await using var server = await ChatTestServer.StartAsync();
        using var alice = Http(server, "alice");
        using var mallory = Http(server, "mallory");

        using var created = await alice.PostAsJsonAsync("/chat/rooms", new { name = "over http", visibility = "private", members = new[] { "bob" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var room = (await created.Content.ReadFromJsonAsync<RoomInfo>(Json))!;
        Assert.Equal("owner", room.Role);

        await using (var ws = await RawChatClient.ConnectAsync(server, "alice"))
        {
            for (var i = 1; i <= 5; i++)
            {
                await ws.SendAsync(room.Id, $"m{i}");
            }
        }

        var rooms = await alice.GetFromJsonAsync<RoomInfo[]>("/chat/rooms", Json);
        Assert.Equal(5, Assert.Single(rooms!).LatestSeq);
        var members = await alice.GetFromJsonAsync<MemberInfo[]>($"/chat/rooms/{room.Id}/members", Json);
        Assert.Equal(["alice", "bob"], members!.Select(m => m.User));
        var page = await alice.GetFromJsonAsync<HistoryPage>($"/chat/rooms/{room.Id}/messages?before=5&limit=2", Json);
        Assert.Equal([3L, 4L], page!.Messages.Select(m => m.Seq));
        Assert.True(page.HasMore);

        await AssertError(await mallory.GetAsync(new Uri($"/chat/rooms/{room.Id}/messages", UriKind.Relative)), HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
        await AssertError(await alice.GetAsync(new Uri("/chat/rooms/r_nope/members", UriKind.Relative)), HttpStatusCode.NotFound, ChatErrorCodes.NotFound);
        await AssertError(await alice.GetAsync(new Uri($"/chat/rooms/{room.Id}/messages?limit=abc", UriKind.Relative)), HttpStatusCode.BadRequest, ChatErrorCodes.InvalidField);
        await AssertError(await alice.PostAsJsonAsync("/chat/rooms", new { visibility = "public" }), HttpStatusCode.BadRequest, ChatErrorCodes.MissingField);
        using var garbage = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        await AssertError(await alice.PostAsync(new Uri("/chat/rooms", UriKind.Relative), garbage), HttpStatusCode.BadRequest, ChatErrorCodes.MalformedFrame);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_health_check_reports_healthy_while_the_store_answers()
    {
        await using var server = await ChatTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpUri };

        using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    private static HttpClient Http(ChatTestServer server, string user)
    {
        var http = new HttpClient { BaseAddress = server.HttpUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user);
        return http;
    }

    private static async Task AssertError(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync<ErrorBody>(Json);
            Assert.Equal(code, error!.Code);
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
    }
}
