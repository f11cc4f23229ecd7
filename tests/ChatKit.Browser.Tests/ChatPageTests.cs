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

    [Fact(Timeout = 90_000)]
    public async Task An_encrypted_room_shows_a_lock_instead_of_ciphertext_and_the_page_sends_no_plaintext_to_it()
    {
        await using var server = await SampleServer.StartAsync();
        await using var session = new BrowserSession(browser.Browser, server, output, nameof(An_encrypted_room_shows_a_lock_instead_of_ciphertext_and_the_page_sends_no_plaintext_to_it));

        // Bob's .NET client opens the encrypted conversation with Alice; its body is an envelope (the server checks the prefix only).
        var bobSignIn = await server.SignInAsync("bob");
        await using var bob = await server.ConnectAsync(bobSignIn.Token);
        var room = await bob.OpenEncryptedDirectAsync("alice");
        await bob.SendAsync(room.Id, "e2e1:AAAA");

        var alice = await session.OpenAsync("alice");
        await alice.SignInAsync();
        await alice.RoomItem(room.Id).ClickAsync();
        var body = alice.Messages.GetByTestId("message-body");
        await Expect(body).ToContainTextAsync("Encrypted message");
        await Expect(body).Not.ToContainTextAsync("e2e1:");

        await alice.Composer.FillAsync("plaintext that must not be sent");
        await alice.Composer.PressAsync("Enter");
        // The page refuses before sending (the server would refuse too, with another message).
        var toast = alice.Page.GetByTestId("toast").First;
        await Expect(toast).ToHaveAttributeAsync("data-code", "not_encrypted");
        await Expect(toast).ToContainTextAsync("this page cannot encrypt yet");
        var history = await bob.GetHistoryAsync(room.Id, after: 0);
        Assert.Equal(["e2e1:AAAA"], history.Messages.Select(m => m.Body));
    }
}
