using System.Net.Http.Json;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Client;
using ChatKit.Storage.EfCore.Tests;

namespace ChatKit.Backplane.Redis.Tests;

/// <summary>
/// Three nodes of the sample app as separate processes, on one PostgreSQL and one redis-server, behind nginx running
/// the sample configuration; clients are ChatKit.Client instances connected through nginx.
/// </summary>
public sealed class NodeCrashTests
{
    private static readonly TimeSpan PresenceExpiry = TimeSpan.FromSeconds(3);
    private static readonly string[] Senders = ["alice", "bob", "carol", "dave", "erin", "frank"];
    private const int SendsEach = 40;

    [Fact(Timeout = 240_000)]
    public async Task A_node_killed_during_steady_sends_loses_nothing_its_clients_resume_elsewhere_and_its_users_go_offline()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        var keys = Directory.CreateTempSubdirectory("chatkit-keys-");
        string[] settings =
        [
            "ChatKit:Storage:Provider=PostgreSql",
            $"ChatKit:Storage:ConnectionString={await postgres.CreateDatabaseAsync()}",
            $"ChatKit:Redis:ConnectionString={redis.ConnectionString}",
            "ChatKit:Redis:PresenceHeartbeat=00:00:00.500",
            $"ChatKit:Redis:PresenceExpiry={PresenceExpiry}",
            $"DevSignIn:KeysDirectory={keys.FullName}",
        ];

        // The first node creates the schema and the signing key; the others start on both.
        await using var node1 = await NodeProcess.StartSampleAsync(settings);
        await using var node2 = await NodeProcess.StartSampleAsync(settings);
        await using var node3 = await NodeProcess.StartSampleAsync(settings);
        await using var nginx = await NginxServer.StartAsync([node1.Port, node2.Port, node3.Port]);
        using var http = new HttpClient { BaseAddress = nginx.Address };

        // Six senders through nginx: least_conn gives each node two of them. Grace is on node 2 only, and stays there.
        var clients = new List<(ChatClient Client, ClientEvents Events)>();
        try
        {
            foreach (var user in Senders)
            {
                clients.Add(await ConnectAsync(new Uri(nginx.Address, "/chat"), await SignInAsync(http, user)));
            }

            var (grace, graceEvents) = await ConnectAsync(new Uri(node2.Address, "/chat"), await SignInAsync(http, "grace"));
            clients.Add((grace, graceEvents));
            var (alice, aliceEvents) = clients[0];
            var room = await alice.CreateRoomAsync("steady", members: [.. Senders[1..], "grace"]);
            foreach (var (_, events) in clients.Skip(1))
            {
                await events.WaitUntilAsync(all => all.OfType<RoomAddedEvent>().Any(e => e.Info.Id == room.Id));
            }

            Assert.True((await alice.GetPresenceAsync(["grace"])).Single().Online);

            // Every sender sends its messages one after another; node 2 is killed once a third of them are stored.
            var acknowledged = new System.Collections.Concurrent.ConcurrentBag<SendReceipt>();
            var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sending = clients.Take(Senders.Length).Select((sender, index) => Task.Run(async () =>
            {
                for (var i = 0; i < SendsEach; i++)
                {
                    acknowledged.Add(await sender.Client.SendAsync(room.Id, $"{Senders[index]} {i}", $"{Senders[index]}-{i}"));
                    if (acknowledged.Count >= Senders.Length * SendsEach / 3)
                    {
                        third.TrySetResult();
                    }
                }
            })).ToList();
            await third.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await node2.KillAsync();
            var killedAt = TimeProvider.System.GetTimestamp();
            var graceOffline = Task.Run(async () =>
            {
                await aliceEvents.WaitUntilAsync(all => all.OfType<PresenceEvent>().Any(e => e.Presence.User == "grace" && !e.Presence.Online));
                return TimeProvider.System.GetElapsedTime(killedAt);
            });
            await Task.WhenAll(sending).WaitAsync(TimeSpan.FromSeconds(90));

            // Stored once each: as many sequence numbers as messages, none missing, the retried ones with their first.
            const int Total = 6 * SendsEach;
            Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), acknowledged.Select(r => r.Seq).Order());
            Assert.Equal(Total, acknowledged.Select(r => r.Cmid).Distinct(StringComparer.Ordinal).Count());

            // Every client has every message exactly once, in order, whichever node it ended on.
            foreach (var (client, events) in clients.Take(Senders.Length))
            {
                await events.WaitUntilAsync(_ => events.Messages(room.Id).Count >= Total);
                Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), events.Messages(room.Id).Select(m => m.Seq));
                Assert.Equal(ConnectionState.Connected, client.State);
            }

            // Node 2's two senders moved to another node through nginx; the others never noticed.
            var moved = clients.Take(Senders.Length).Count(c => c.Events.All.OfType<ConnectionStateChangedEvent>().Any(e => e.State == ConnectionState.Reconnecting));
            Assert.Equal(2, moved);

            // Grace had only node 2: she goes offline for everyone within the expiry (plus a heartbeat for the sweep).
            var convergedAfter = await graceOffline;
            Assert.True(convergedAfter <= PresenceExpiry * 2, $"Grace went offline {convergedAfter} after the kill; the expiry is {PresenceExpiry}.");
            var presence = await alice.GetPresenceAsync([.. Senders, "grace"]);
            Assert.Equal(Senders.Select(s => (s, true)).Append(("grace", false)), presence.Select(p => (p.User, p.Online)));
        }
        finally
        {
            foreach (var (client, events) in clients)
            {
                await events.DisposeAsync();
                await client.DisposeAsync();
            }

            keys.Delete(recursive: true);
        }
    }

    private static async Task<(ChatClient Client, ClientEvents Events)> ConnectAsync(Uri server, string token)
    {
        var client = new ChatClient(new ChatClientOptions
        {
            ServerUri = new UriBuilder(server) { Scheme = "ws" }.Uri,
            AccessTokenProvider = _ => ValueTask.FromResult<string?>(token),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            RequestTimeout = TimeSpan.FromSeconds(10),
            MaxSendAttempts = 10,
        });
        var events = new ClientEvents(client);
        await client.ConnectAsync();
        return (client, events);
    }

    private static async Task<string> SignInAsync(HttpClient http, string name)
    {
        using var response = await http.PostAsJsonAsync("/dev/signin", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SignedIn>())!.Token;
    }

    private sealed record SignedIn(string Token, string User, string Name);
}
