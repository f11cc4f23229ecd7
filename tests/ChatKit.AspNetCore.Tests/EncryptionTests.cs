using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Client;
using ChatKit.Encryption;
using ChatKit.Keys;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests;

public sealed class EncryptionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("chatkit-e2e-").FullName;

    [Fact(Timeout = 60_000)]
    public async Task An_encrypted_direct_conversation_reaches_every_device_of_both_users_and_the_server_holds_only_ciphertext()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alicePhone = await EncryptedDevice.StartAsync(server, "alice", "phone", _folder);
        await using var aliceLaptop = await EncryptedDevice.StartAsync(server, "alice", "laptop", _folder);
        await using var bob = await EncryptedDevice.StartAsync(server, "bob", "phone", _folder);
        var room = await alicePhone.Client.OpenEncryptedDirectAsync("bob");

        await alicePhone.E2e.SendAsync(room, "marker-7f3a hello bob");
        await bob.Events.WaitUntilAsync(_ => bob.Events.Messages(room.Id).Count == 1);
        await aliceLaptop.Events.WaitUntilAsync(_ => aliceLaptop.Events.Messages(room.Id).Count == 1);
        await bob.E2e.SendAsync(room, "hi alice");
        await aliceLaptop.Events.WaitUntilAsync(_ => aliceLaptop.Events.Messages(room.Id).Count == 2);
        await alicePhone.Events.WaitUntilAsync(_ => alicePhone.Events.Messages(room.Id).Count == 2);
        await bob.Events.WaitUntilAsync(_ => bob.Events.Messages(room.Id).Count == 2);

        Assert.True(room.Encrypted);
        Assert.Equal(["marker-7f3a hello bob", "hi alice"], await bob.ReadAsync(room.Id));
        Assert.Equal(["marker-7f3a hello bob", "hi alice"], await aliceLaptop.ReadAsync(room.Id));
        Assert.Equal(["marker-7f3a hello bob", "hi alice"], await alicePhone.ReadAsync(room.Id));
        var stored = await alicePhone.Client.GetHistoryAsync(room.Id, after: 0);
        Assert.All(stored.Messages, m => Assert.StartsWith(EncryptedBody.Prefix, m.Body, StringComparison.Ordinal));
        Assert.DoesNotContain(stored.Messages, m => m.Body.Contains("marker-7f3a", StringComparison.Ordinal));
        Assert.Equal(await alicePhone.E2e.GetSafetyNumberAsync("bob"), await bob.E2e.GetSafetyNumberAsync("alice"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_group_reads_each_others_messages_and_a_removed_member_cannot_read_what_is_sent_after()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await EncryptedDevice.StartAsync(server, "alice", "d1", _folder);
        await using var bob = await EncryptedDevice.StartAsync(server, "bob", "d1", _folder);
        await using var carol = await EncryptedDevice.StartAsync(server, "carol", "d1", _folder);
        var room = await alice.Client.CreateEncryptedRoomAsync("secret", ["bob", "carol"]);
        await carol.Events.WaitUntilAsync(all => all.OfType<RoomAddedEvent>().Any());

        await alice.E2e.SendAsync(room, "before removal");
        await bob.E2e.SendAsync(room, "bob here");
        await carol.Events.WaitUntilAsync(_ => carol.Events.Messages(room.Id).Count(m => m.Sender != "carol") >= 4);
        Assert.Equal(["before removal", "bob here"], await carol.ReadAsync(room.Id));

        await alice.Client.RemoveMemberAsync(room.Id, "carol");
        var after = await alice.E2e.SendAsync(room, "after removal");
        await bob.Events.WaitUntilAsync(_ => bob.Events.Messages(room.Id).Any(m => m.Seq == after.Seq));

        Assert.Equal(["before removal", "bob here", "after removal"], await bob.ReadAsync(room.Id));
        var leaked = bob.Events.Messages(room.Id).Single(m => m.Seq == after.Seq);
        var refused = await Assert.ThrowsAsync<EncryptionException>(() => carol.E2e.DecryptAsync(leaked));
        Assert.Equal(EncryptionErrorCodes.UnknownSenderKey, refused.Code);
        var rekey = bob.Events.Messages(room.Id).Where(m => m.Sender == "alice" && m.Seq < after.Seq).Last();
        Assert.Null(EncryptedEnvelope.Parse(rekey.Body).For("carol", "d1"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Plaintext_in_an_encrypted_room_is_refused_and_public_encrypted_rooms_cannot_be_made()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await EncryptedDevice.StartAsync(server, "alice", "d1", _folder);
        var room = await alice.Client.OpenEncryptedDirectAsync("bob");
        var plain = await alice.Client.OpenDirectAsync("bob");

        var refused = await Assert.ThrowsAsync<ChatClientException>(() => alice.Client.SendAsync(room.Id, "oops, plaintext"));
        Assert.Equal(ChatErrorCodes.NotEncrypted, refused.Code);
        Assert.NotEqual(plain.Id, room.Id);
        Assert.Null(plain.Encrypted);
        await Assert.ThrowsAsync<InvalidOperationException>(() => alice.E2e.SendAsync(plain, "not encrypted room"));

        using var http = Http(server, "alice");
        var publicRoom = await http.PostAsJsonAsync("chat/rooms", new { name = "open", visibility = "public", encrypted = true });
        Assert.Equal(HttpStatusCode.BadRequest, publicRoom.StatusCode);
        Assert.Equal(ChatErrorCodes.InvalidField, await CodeOf(publicRoom));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_hundred_concurrent_bundle_claims_over_http_never_share_a_one_time_prekey()
    {
        await using var server = await ChatTestServer.StartAsync();
        var bob = DeviceKeys.Create("bob", "d1", TimeProvider.System);
        using var bobHttp = Http(server, "bob");
        var published = await bobHttp.PutAsJsonAsync("chat/keys/devices/d1", Upload(bob, bob.GenerateOneTimePreKeys(60)));
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);

        using var aliceHttp = Http(server, "alice");
        var claims = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            using var response = await aliceHttp.PostAsync("chat/keys/users/bob/devices/d1/bundle", null);
            response.EnsureSuccessStatusCode();
            return KeyWire.FromInfo((await response.Content.ReadFromJsonAsync<PreKeyBundleInfo>(Json))!);
        }));

        var handedOut = claims.Where(c => c.OneTimePreKey is not null).Select(c => c.OneTimePreKey!.Id).ToList();
        Assert.Equal(60, handedOut.Count);
        Assert.Equal(60, handedOut.Distinct().Count());
        Assert.All(claims, c => c.Verify());
        var status = await bobHttp.GetFromJsonAsync<DeviceKeyStatus>("chat/keys/devices/d1", Json);
        Assert.Equal(0, status!.OneTimePreKeys);
        Assert.True(status.Low);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_key_directory_refuses_bad_keys_with_clear_codes()
    {
        await using var server = await ChatTestServer.StartAsync(options =>
        {
            options.MaxOneTimePreKeys = 10;
            options.LowOneTimePreKeys = 2;
        });
        var bob = DeviceKeys.Create("bob", "d1", TimeProvider.System);
        using var bobHttp = Http(server, "bob");
        using var aliceHttp = Http(server, "alice");

        var forged = Upload(bob, []);
        forged.SignedPreKey = KeyWire.ToInfo(DeviceKeys.Create("bob", "d1", TimeProvider.System).SignedPreKey);
        Assert.Equal(ChatErrorCodes.InvalidKey, await CodeOf(await bobHttp.PutAsJsonAsync("chat/keys/devices/d1", forged)));
        Assert.Equal(ChatErrorCodes.Forbidden, await CodeOf(await aliceHttp.PutAsJsonAsync("chat/keys/devices/d1", Upload(bob, []))));
        Assert.Equal(ChatErrorCodes.InvalidField, await CodeOf(await bobHttp.PutAsJsonAsync("chat/keys/devices/bad%20id", Upload(bob, []))));
        var shortKey = Upload(bob, []);
        shortKey.Identity!.SigningKey = "AAAA";
        Assert.Equal(ChatErrorCodes.InvalidKey, await CodeOf(await bobHttp.PutAsJsonAsync("chat/keys/devices/d1", shortKey)));
        Assert.Equal(ChatErrorCodes.TooManyKeys, await CodeOf(await bobHttp.PutAsJsonAsync("chat/keys/devices/d1", Upload(bob, bob.GenerateOneTimePreKeys(11)))));
        Assert.Equal(ChatErrorCodes.NotFound, await CodeOf(await aliceHttp.PostAsync("chat/keys/users/bob/devices/d1/bundle", null)));
        Assert.Equal(ChatErrorCodes.MalformedFrame, await CodeOf(await bobHttp.PutAsync("chat/keys/devices/d1", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"))));

        Assert.Equal(HttpStatusCode.OK, (await bobHttp.PutAsJsonAsync("chat/keys/devices/d1", Upload(bob, bob.GenerateOneTimePreKeys(10)))).StatusCode);
        Assert.Equal(ChatErrorCodes.TooManyKeys, await CodeOf(await bobHttp.PostAsJsonAsync("chat/keys/devices/d1/prekeys", new DeviceKeysUpload { OneTimePreKeys = [.. bob.GenerateOneTimePreKeys(1).Select(KeyWire.ToInfo)] }, Json)));
        Assert.Equal(HttpStatusCode.NoContent, (await bobHttp.DeleteAsync("chat/keys/devices/d1")).StatusCode);
        Assert.Equal(ChatErrorCodes.NotFound, await CodeOf(await bobHttp.GetAsync("chat/keys/devices/d1")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_device_whose_one_time_prekeys_run_low_is_told_so_on_its_connection()
    {
        await using var server = await ChatTestServer.StartAsync(options => options.LowOneTimePreKeys = 3);
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var keys = DeviceKeys.Create("bob", "d1", TimeProvider.System);
        using var bobHttp = Http(server, "bob");
        (await bobHttp.PutAsJsonAsync("chat/keys/devices/d1", Upload(keys, keys.GenerateOneTimePreKeys(4)))).EnsureSuccessStatusCode();
        using var aliceHttp = Http(server, "alice");

        (await aliceHttp.PostAsync("chat/keys/users/bob/devices/d1/bundle", null)).EnsureSuccessStatusCode();
        (await aliceHttp.PostAsync("chat/keys/users/bob/devices/d1/bundle", null)).EnsureSuccessStatusCode();

        var low = await bob.WaitForEventAsync(e => e.Type == FrameTypes.KeysLow);
        Assert.Equal("d1", low.Device);
        Assert.Equal(2, low.OneTimePreKeys);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_client_told_its_prekeys_run_low_uploads_more_and_an_encrypted_message_to_nobody_is_refused()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await EncryptedDevice.StartAsync(server, "alice", "d1", _folder);
        var lonely = await alice.Client.OpenEncryptedDirectAsync("nobody-yet");
        await Assert.ThrowsAsync<InvalidOperationException>(() => alice.E2e.SendAsync(lonely, "unreadable"));

        using var carolHttp = Http(server, "carol");
        for (var i = 0; i < EndToEndEncryption.OneTimePreKeyBatch - 10; i++)
        {
            (await carolHttp.PostAsync("chat/keys/users/alice/devices/d1/bundle", null)).EnsureSuccessStatusCode();
        }

        await alice.Events.WaitUntilAsync(all => all.OfType<KeysLowEvent>().Any(e => e.OneTimePreKeys == 10));
        Assert.Equal(10 + EndToEndEncryption.OneTimePreKeyBatch, await alice.E2e.ReplenishAsync());
        Assert.Equal(10 + EndToEndEncryption.OneTimePreKeyBatch, await alice.E2e.ReplenishAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task The_decrypting_event_stream_gives_text_leaves_out_key_messages_and_reports_what_it_cannot_read()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await EncryptedDevice.StartAsync(server, "alice", "d1", _folder);
        await using var bobClient = new ChatClient(new ChatClientOptions { ServerUri = server.WebSocketUri, AccessTokenProvider = _ => ValueTask.FromResult<string?>("bob") });
        await bobClient.ConnectAsync();
        using var bob = await EndToEndEncryption.StartAsync(bobClient, "bob", "d1", new FileEncryptionStateStore(Path.Combine(_folder, "bob")));
        using var stop = new CancellationTokenSource();
        var seen = System.Threading.Channels.Channel.CreateUnbounded<ChatEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var chatEvent in bob.ReadEventsAsync(stop.Token))
            {
                await seen.Writer.WriteAsync(chatEvent);
            }
        });
        var room = await alice.Client.CreateEncryptedRoomAsync("stream", ["bob"]);

        await alice.E2e.SendAsync(room, "in clear for bob");
        await alice.Client.SendAsync(room.Id, EncryptedBody.Prefix + "AAAA");

        var messages = new List<ChatEvent>();
        while (messages.Count < 2)
        {
            var next = await seen.Reader.ReadAsync(stop.Token);
            if (next is MessageEvent or UndecryptableMessageEvent)
            {
                messages.Add(next);
            }
        }

        var text = Assert.IsType<MessageEvent>(messages[0]);
        Assert.Equal(("in clear for bob", 2L), (text.Message.Body, text.Message.Seq));
        var unreadable = Assert.IsType<UndecryptableMessageEvent>(messages[1]);
        Assert.Equal(EncryptionErrorCodes.Malformed, Assert.IsType<EncryptionException>(unreadable.Error).Code);
        Assert.Equal(3, unreadable.Message.Seq);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_message_moved_to_another_room_or_relabelled_is_refused_and_still_reads_where_it_was_sent()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await EncryptedDevice.StartAsync(server, "alice", "d1", _folder);
        await using var bob = await EncryptedDevice.StartAsync(server, "bob", "d1", _folder);
        var direct = await alice.Client.OpenEncryptedDirectAsync("bob");
        var group = await alice.Client.CreateEncryptedRoomAsync("elsewhere", ["bob"]);
        await alice.E2e.SendAsync(direct, "yes");
        await bob.Events.WaitUntilAsync(_ => bob.Events.Messages(direct.Id).Count == 1);
        var original = bob.Events.Messages(direct.Id)[0];
        var envelope = EncryptedEnvelope.Parse(original.Body);

        var moved = new MessageInfo { Room = group.Id, Seq = 9, Cmid = original.Cmid, Sender = original.Sender, Body = original.Body, SentAt = original.SentAt };
        var relabelled = new MessageInfo { Room = direct.Id, Seq = original.Seq, Cmid = original.Cmid, Sender = original.Sender, Body = (envelope with { Kind = EnvelopeKind.Keys }).ToBody(), SentAt = original.SentAt };

        Assert.Equal(EncryptionErrorCodes.Malformed, (await Assert.ThrowsAsync<EncryptionException>(() => bob.E2e.DecryptAsync(moved))).Code);
        Assert.Equal(EncryptionErrorCodes.Malformed, (await Assert.ThrowsAsync<EncryptionException>(() => bob.E2e.DecryptAsync(relabelled))).Code);
        Assert.Equal("yes", await bob.E2e.DecryptAsync(original));
        Assert.Equal(EncryptionErrorCodes.Replayed, (await Assert.ThrowsAsync<EncryptionException>(() => bob.E2e.DecryptAsync(original))).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_handshake_from_a_device_the_directory_does_not_list_is_refused()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await EncryptedDevice.StartAsync(server, "alice", "d1", _folder);
        await using var bob = await EncryptedDevice.StartAsync(server, "bob", "d1", _folder);
        var direct = await alice.Client.OpenEncryptedDirectAsync("bob");
        await bob.Events.WaitUntilAsync(all => all.OfType<RoomAddedEvent>().Any(e => e.Info.Id == direct.Id));

        // What a server could make: a device of "alice" with keys of its own, and a handshake with Bob's public bundle.
        var forged = DeviceKeys.Create("alice", "evil", TimeProvider.System);
        using var carolHttp = Http(server, "carol");
        using var response = await carolHttp.PostAsync("chat/keys/users/bob/devices/d1/bundle", null);
        var bundle = KeyWire.FromInfo((await response.Content.ReadFromJsonAsync<PreKeyBundleInfo>(Json))!);
        var handshake = RatchetSession.Initiate(forged, bundle).Encrypt([1, 0, 0, .. "hi"u8]);
        var body = new EncryptedEnvelope(EnvelopeKind.Direct, "evil", [new EnvelopeEntry("bob", "d1", handshake)], []).ToBody();
        var sent = await alice.Client.SendAsync(direct.Id, body);
        await bob.Events.WaitUntilAsync(_ => bob.Events.Messages(direct.Id).Any(m => m.Seq == sent.Seq));

        var refused = await Assert.ThrowsAsync<EncryptionException>(() => bob.E2e.DecryptAsync(bob.Events.Messages(direct.Id).Single(m => m.Seq == sent.Seq)));
        Assert.Equal(EncryptionErrorCodes.UnknownDevice, refused.Code);
        Assert.Equal(await alice.E2e.GetSafetyNumberAsync("bob"), await bob.E2e.GetSafetyNumberAsync("alice"));
    }

    [Fact(Timeout = 10_000)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_file_state_store_keeps_entries_with_long_names_readable_by_their_owner_only()
    {
        var folder = Path.Combine(_folder, "store");
        var store = new FileEncryptionStateStore(folder);
        var longName = "session/128:" + new string('u', 128) + "/64:" + new string('d', 64);

        await store.SaveAsync(longName, [1, 2, 3], CancellationToken.None);
        await store.SaveAsync(longName, [4, 5], CancellationToken.None);
        await store.SaveAsync("device", [6], CancellationToken.None);

        Assert.Equal([4, 5], await store.LoadAsync(longName, CancellationToken.None));
        Assert.Equal([6], await store.LoadAsync("device", CancellationToken.None));
        Assert.Null(await store.LoadAsync("missing", CancellationToken.None));
        Assert.Equal(2, Directory.GetFiles(folder).Length);
        Assert.All(Directory.GetFiles(folder), file => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static DeviceKeysUpload Upload(DeviceKeys device, IReadOnlyList<OneTimePreKey> oneTime) => new()
    {
        Identity = KeyWire.ToInfo(device.Identity),
        SignedPreKey = KeyWire.ToInfo(device.SignedPreKey),
        OneTimePreKeys = oneTime.Select(KeyWire.ToInfo).ToList(),
    };

    private static HttpClient Http(ChatTestServer server, string user)
    {
        var http = new HttpClient { BaseAddress = server.HttpUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user);
        return http;
    }

    private static async Task<string?> CodeOf(HttpResponseMessage response)
    {
        using (response)
        {
            return (await response.Content.ReadFromJsonAsync<ErrorBody>(Json))?.Code;
        }
    }
}
