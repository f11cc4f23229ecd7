using System.Text;
using System.Text.RegularExpressions;
using ChatKit.Browser.Tests.Infrastructure;
using ChatKit.Client;
using ChatKit.Model;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ChatKit.Browser.Tests;

/// <summary>
/// The sample chat page as people use it, in headless Chromium against the sample app run as a process of its own
/// (one per test, with its own SQLite file and token keys). Everything waits through Playwright's auto-waiting
/// expectations; screenshots of every page land in bin/{Configuration}/net10.0/screenshots/.
/// </summary>
[Collection(BrowserTestGroup.Name)]
public sealed class ChatPageTests(BrowserFixture browser, ITestOutputHelper output)
{
    [Fact(Timeout = 90_000)]
    public async Task Two_people_in_two_browsers_chat_directly_and_see_typing_receipts_and_presence()
    {
        await using var server = await SampleServer.StartAsync();
        await using var session = new BrowserSession(browser.Browser, server, output, nameof(Two_people_in_two_browsers_chat_directly_and_see_typing_receipts_and_presence));
        var alice = await session.OpenAsync("alice");
        var bob = await session.OpenAsync("bob");
        await alice.SignInAsync();
        await bob.SignInAsync();

        // Each sees the other online among the people.
        await Expect(alice.PersonItem("bob").GetByTestId("presence-dot")).ToHaveAttributeAsync("data-online", "true");
        await Expect(bob.PersonItem("alice").GetByTestId("presence-dot")).ToHaveAttributeAsync("data-online", "true");

        // Alice opens the direct conversation with Bob and writes (with the send button).
        await alice.PersonItem("bob").ClickAsync();
        await Expect(alice.Page.GetByTestId("conversation-title")).ToContainTextAsync("bob", new LocatorAssertionsToContainTextOptions { IgnoreCase = true });
        const string Question = "Hi Bob, lunch at noon?";
        await alice.Composer.FillAsync(Question);
        await alice.Page.GetByTestId("send").ClickAsync();
        var question = alice.Message(Question);
        await Expect(question).ToHaveAttributeAsync("data-sender", "alice");
        var roomId = await alice.Page.GetByTestId("room-item").First.GetAttributeAsync("data-room-id");
        Assert.False(string.IsNullOrEmpty(roomId), "The direct conversation is in Alice's room list with its data-room-id.");

        // Bob's room list gets the conversation with one unread message; he opens it and reads it.
        var bobsRoom = bob.RoomItem(roomId!);
        await Expect(bobsRoom.GetByTestId("unread-badge")).ToHaveTextAsync("1");
        await bobsRoom.ClickAsync();
        await Expect(bob.Message(Question)).ToHaveAttributeAsync("data-sender", "alice");

        // Bob types: Alice sees him typing. He sends with Enter; Alice gets the reply.
        const string Answer = "Sure, see you there";
        await bob.Composer.PressSequentiallyAsync(Answer);
        await Expect(alice.TypingIndicator).ToContainTextAsync("bob", new LocatorAssertionsToContainTextOptions { IgnoreCase = true });
        await bob.Composer.PressAsync("Enter");
        await Expect(alice.Message(Answer)).ToHaveAttributeAsync("data-sender", "bob");

        // Bob read Alice's message, and her page says so.
        await Expect(question.GetByTestId("read-receipt")).ToContainTextAsync("Seen");
    }

    [Fact(Timeout = 90_000)]
    public async Task A_server_restart_shows_the_banner_and_the_page_catches_up_once_and_in_order()
    {
        await using var server = await SampleServer.StartAsync();
        await using var session = new BrowserSession(browser.Browser, server, output, nameof(A_server_restart_shows_the_banner_and_the_page_catches_up_once_and_in_order));

        // Bob (a .NET client) opens a conversation with Alice and writes once; Alice's page opens it.
        var bobSignIn = await server.SignInAsync("bob");
        string roomId;
        await using (var bobBefore = await server.ConnectAsync(bobSignIn.Token))
        {
            roomId = (await bobBefore.OpenDirectAsync("alice")).Id;
            await bobBefore.SendAsync(roomId, "before the restart");
        }

        var alice = await session.OpenAsync("alice");
        await alice.SignInAsync();
        await alice.RoomItem(roomId).ClickAsync();
        await Expect(alice.Message("before the restart")).ToHaveAttributeAsync("data-seq", "1");
        await Expect(alice.ReconnectingBanner).ToBeHiddenAsync();

        // The server crashes: the page says it is reconnecting while it is down.
        await server.KillAsync();
        await Expect(alice.ReconnectingBanner).ToBeVisibleAsync();

        // Same port, database and keys: Bob's token from before the crash still signs him in. He writes five times,
        // likely before Alice's page is back (it is waiting out its backoff).
        await server.StartAgainAsync();
        string[] after = ["after the restart 1", "after the restart 2", "after the restart 3", "after the restart 4", "after the restart 5"];
        await using (var bobAfter = await server.ConnectAsync(bobSignIn.Token))
        {
            foreach (var body in after)
            {
                await bobAfter.SendAsync(roomId, body);
            }
        }

        // The page comes back by itself and shows every message once, in order.
        await Expect(alice.ReconnectingBanner).ToBeHiddenAsync(new LocatorAssertionsToBeHiddenOptions { Timeout = Waits.Reconnect.Ms() });
        await Expect(alice.Message(after[^1])).ToBeVisibleAsync();
        await Expect(alice.Messages).ToHaveCountAsync(1 + after.Length);
        var sequences = await alice.SequencesAsync();
        Assert.True(sequences.Zip(sequences.Skip(1)).All(pair => pair.First < pair.Second), $"data-seq strictly increasing: {string.Join(", ", sequences)}");
        Assert.Equal([1L, 2, 3, 4, 5, 6], sequences);
        Assert.Equal(["before the restart", .. after], await alice.BodiesAsync());
    }

    [Fact(Timeout = 90_000)]
    public async Task Scrolling_back_loads_older_history_pages_in_order_without_duplicates()
    {
        const int Count = 120;
        await using var server = await SampleServer.StartAsync();
        await using var session = new BrowserSession(browser.Browser, server, output, nameof(Scrolling_back_loads_older_history_pages_in_order_without_duplicates));

        // Bob (a .NET client) fills a group room with Alice before she opens it.
        var bobSignIn = await server.SignInAsync("bob");
        string roomId;
        await using (var bob = await server.ConnectAsync(bobSignIn.Token))
        {
            roomId = (await bob.CreateRoomAsync("history", RoomVisibility.Private, ["alice"])).Id;
            for (var i = 1; i <= Count; i++)
            {
                var sent = await bob.SendAsync(roomId, Body(i));
                Assert.Equal(i, sent.Seq);
            }
        }

        // The page opens the room on its newest page.
        var alice = await session.OpenAsync("alice");
        await alice.SignInAsync();
        await alice.RoomItem(roomId).ClickAsync();
        await Expect(alice.Messages.Last).ToHaveAttributeAsync("data-seq", Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var shown = await alice.Messages.CountAsync();
        Assert.InRange(shown, 1, Count - 1);

        // Scrolling to the top loads the page before, each time, until the first message.
        var first = alice.Messages.And(alice.Page.Locator("[data-seq=\"1\"]"));
        for (var round = 0; round < Count && await first.CountAsync() == 0; round++)
        {
            await alice.MessageList.EvaluateAsync("list => { list.scrollTop = 0; }");
            await alice.Page.WaitForFunctionAsync(
                "shown => document.querySelectorAll('[data-testid=\"message-list\"] [data-testid=\"message\"]').length > shown",
                shown,
                new PageWaitForFunctionOptions { Timeout = Waits.Ui.Ms() });
            shown = await alice.Messages.CountAsync();
        }

        await Expect(first).ToBeVisibleAsync();
        Assert.Equal(Enumerable.Range(1, Count).Select(i => (long)i), await alice.SequencesAsync());
        Assert.Equal(Enumerable.Range(1, Count).Select(Body), await alice.BodiesAsync());
    }

    private static string Body(int i) => $"history message {i:D3}";

    [Fact(Timeout = 120_000)]
    public async Task A_browser_and_a_dotnet_client_chat_end_to_end_encrypted_the_server_holds_only_ciphertext_and_their_safety_numbers_match()
    {
        await using var server = await SampleServer.StartAsync();
        await using var session = new BrowserSession(browser.Browser, server, output, nameof(A_browser_and_a_dotnet_client_chat_end_to_end_encrypted_the_server_holds_only_ciphertext_and_their_safety_numbers_match));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        // Alice's page publishes its device (WebCrypto keys in IndexedDB) while it connects.
        var alice = await session.OpenAsync("alice");
        await alice.SignInAsync();
        var bobSignIn = await server.SignInAsync("bob");
        var firstDevices = await DevicesAsync(server, bobSignIn.Token, "alice", 1, timeout.Token);

        // Bob is the .NET client with EndToEndEncryption; he opens the encrypted conversation and writes.
        await using var bob = await server.ConnectAsync(bobSignIn.Token);
        var keys = Directory.CreateTempSubdirectory("chatkit-browser-e2e-");
        try
        {
            using var bobE2e = await EndToEndEncryption.StartAsync(bob, bobSignIn.User, "bob-laptop", new FileEncryptionStateStore(keys.FullName), cancellationToken: timeout.Token);
            var room = await bob.OpenEncryptedDirectAsync("alice", timeout.Token);
            const string FromBob = "Hello Alice, only your browser can read this";
            await bobE2e.SendAsync(room, FromBob, cancellationToken: timeout.Token);

            // Alice's page decrypts it; her answer, encrypted by the page, decrypts in Bob's client.
            await alice.RoomItem(room.Id).ClickAsync();
            await Expect(alice.Message(FromBob)).ToHaveAttributeAsync("data-sender", "bob");
            const string FromAlice = "Hi Bob, WebCrypto says hello back";
            var answer = Task.Run(() => NextTextAsync(bobE2e, room.Id, timeout.Token), timeout.Token);
            await alice.Composer.FillAsync(FromAlice);
            await alice.Composer.PressAsync("Enter");
            Assert.Equal(("alice", FromAlice), await answer);
            await Expect(alice.Message(FromAlice)).ToHaveAttributeAsync("data-sender", "alice");

            // The server holds envelopes only: in what it serves, and in its database file.
            var history = await bob.GetHistoryAsync(room.Id, after: 0, cancellationToken: timeout.Token);
            Assert.NotEmpty(history.Messages);
            Assert.All(history.Messages, m => Assert.StartsWith("e2e1:", m.Body, StringComparison.Ordinal));
            Assert.DoesNotContain(history.Messages, m => m.Body.Contains("Alice", StringComparison.Ordinal) || m.Body.Contains("WebCrypto", StringComparison.Ordinal));
            var stored = server.ReadDatabaseBytes();
            Assert.True(stored.Length > 0, "The sample's SQLite file was read.");
            Assert.Equal(-1, stored.AsSpan().IndexOf(Encoding.UTF8.GetBytes("only your browser can read")));
            Assert.Equal(-1, stored.AsSpan().IndexOf(Encoding.UTF8.GetBytes("WebCrypto says hello")));

            // Both compute the same safety number.
            await alice.Page.GetByTestId("safety-toggle").ClickAsync();
            var shown = alice.Page.GetByTestId("safety-number");
            await Expect(shown).ToHaveTextAsync(new Regex("^[0-9 ]{71}$", RegexOptions.None, TimeSpan.FromSeconds(1)));
            var bobs = await bobE2e.GetSafetyNumberAsync("alice", timeout.Token);
            Assert.Equal(string.Join(' ', bobs.Chunk(5).Select(c => new string(c))), await shown.TextContentAsync()); // 12 groups of 5 digits

            // A second tab of Alice's is a device of its own (the first tab holds its device's Web Lock): both read what
            // Bob sends next. Signing out there removes that device from the key directory.
            var secondTab = await session.OpenTabAsync(alice, "alice-tab2");
            await secondTab.SignInAsync();
            await secondTab.RoomItem(room.Id).ClickAsync();
            var devices = await DevicesAsync(server, bobSignIn.Token, "alice", 2, timeout.Token);
            Assert.Contains(firstDevices[0], devices);
            const string ToBoth = "Both of your tabs can read this";
            await bobE2e.SendAsync(room, ToBoth, cancellationToken: timeout.Token);
            await Expect(alice.Message(ToBoth)).ToHaveAttributeAsync("data-sender", "bob");
            await Expect(secondTab.Message(ToBoth)).ToHaveAttributeAsync("data-sender", "bob");
            await secondTab.Page.GetByTestId("signout").ClickAsync();
            await Expect(secondTab.Page.GetByTestId("signin-name")).ToBeVisibleAsync();
            Assert.Equal(firstDevices, await DevicesAsync(server, bobSignIn.Token, "alice", 1, timeout.Token)); // removed after the sign-in form shows

            // After a reload the page shows the conversation's texts again (it keeps what it decrypted).
            await alice.Page.ReloadAsync();
            await alice.RoomItem(room.Id).ClickAsync();
            await Expect(alice.Message(FromBob)).ToHaveAttributeAsync("data-sender", "bob");
            await Expect(alice.Message(FromAlice)).ToHaveAttributeAsync("data-sender", "alice");

            // An envelope the page cannot open shows a lock and why, never the ciphertext.
            await bob.SendAsync(room.Id, "e2e1:AAAA", cancellationToken: timeout.Token);
            var locked = alice.Messages.Last.GetByTestId("message-body");
            await Expect(locked).ToContainTextAsync("Encrypted message (not readable on this device: malformed)");
            await Expect(locked).Not.ToContainTextAsync("e2e1:");
        }
        finally
        {
            keys.Delete(recursive: true);
        }
    }

    /// <summary>The user's devices in the key directory, once there are <paramref name="count"/> (pages publish theirs while they connect).</summary>
    private static async Task<IReadOnlyList<string>> DevicesAsync(SampleServer server, string token, string user, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            var devices = await server.ListDevicesAsync(token, user);
            if (devices.Count == count)
            {
                return devices;
            }

            await Task.Delay(50, cancellationToken); // polls the directory until then (the timeout ends it)
        }
    }

    /// <summary>The sender and text of the next message of <paramref name="room"/> from someone else that <paramref name="e2e"/> decrypts.</summary>
    private static async Task<(string Sender, string Text)> NextTextAsync(EndToEndEncryption e2e, string room, CancellationToken cancellationToken)
    {
        await foreach (var chatEvent in e2e.ReadEventsAsync(cancellationToken))
        {
            switch (chatEvent)
            {
                case MessageEvent { Message: var m } when m.Room == room && m.Sender != e2e.UserId:
                    return (m.Sender, m.Body);
                case UndecryptableMessageEvent { Message: var m, Error: var error } when m.Room == room:
                    throw new InvalidOperationException($"Bob could not decrypt message {m.Seq}: {error.Message}", error);
            }
        }

        throw new OperationCanceledException(cancellationToken);
    }
}
