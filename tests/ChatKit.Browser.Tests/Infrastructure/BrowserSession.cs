using System.Text;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace ChatKit.Browser.Tests.Infrastructure;

/// <summary>
/// The browser pages of one test, one context (a separate person) each. Disposing it, whether the test passed or
/// failed, saves a screenshot of every page to <see cref="ScreenshotFolder"/> as <c>{test}-{person}.png</c>, writes each
/// page's console and the server's output to the test output, and closes every context.
/// </summary>
internal sealed class BrowserSession : IAsyncDisposable
{
    private readonly IBrowser _browser;
    private readonly SampleServer _server;
    private readonly ITestOutputHelper _output;
    private readonly string _testName;
    private readonly List<ChatPage> _pages = [];

    public BrowserSession(IBrowser browser, SampleServer server, ITestOutputHelper output, string testName)
    {
        _browser = browser;
        _server = server;
        _output = output;
        _testName = testName;
    }

    /// <summary>Where the screenshots land: screenshots/ beside the test assembly (bin/{Configuration}/net10.0/).</summary>
    public static string ScreenshotFolder => Path.Combine(AppContext.BaseDirectory, "screenshots");

    /// <summary>Opens the sample page in a new browser context for <paramref name="person"/> (not signed in yet).</summary>
    public async Task<ChatPage> OpenAsync(string person)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            BaseURL = _server.Address.ToString(),
        });
        ChatPage page;
        try
        {
            page = new ChatPage(person, context, await context.NewPageAsync());
        }
        catch
        {
            await context.CloseAsync();
            throw;
        }

        _pages.Add(page);
        await page.Page.GotoAsync("/");
        return page;
    }

    /// <summary>Opens the sample page in another tab of <paramref name="page"/>'s browser context (same storage, same person).</summary>
    public async Task<ChatPage> OpenTabAsync(ChatPage page, string label)
    {
        var tab = new ChatPage(page.Person, page.Context, await page.Context.NewPageAsync(), label);
        _pages.Add(tab);
        await tab.Page.GotoAsync("/");
        return tab;
    }

    public async ValueTask DisposeAsync()
    {
        Directory.CreateDirectory(ScreenshotFolder);
        foreach (var page in _pages)
        {
            try
            {
                await page.Page.ScreenshotAsync(new PageScreenshotOptions
                {
                    Path = Path.Combine(ScreenshotFolder, $"{_testName}-{page.Label}.png"),
                    Timeout = Waits.Ui.Ms(),
                });
            }
            catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
            {
                Write($"No screenshot of {page.Label}'s page: {ex.Message}");
            }
            finally
            {
                Write($"---- {page.Label}'s page console ----\n{page.Console}");
                try
                {
                    await page.Context.CloseAsync();
                }
                catch (PlaywrightException ex)
                {
                    Write($"Closing {page.Person}'s browser context: {ex.Message}");
                }
            }
        }

        Write($"---- server output ----\n{_server.Output}");
    }

    /// <summary>To the test's output, which is gone once xunit gave up on the test (its timeout).</summary>
    private void Write(string text)
    {
        try
        {
            _output.WriteLine(text);
        }
        catch (InvalidOperationException)
        {
            // No test is running any more.
        }
    }
}

/// <summary>One person's page, through the test hooks (<c>data-testid</c>) the sample page provides.</summary>
internal sealed class ChatPage
{
    private readonly StringBuilder _console = new();

    public ChatPage(string person, IBrowserContext context, IPage page, string? label = null)
    {
        Person = person;
        Label = label ?? person;
        Context = context;
        Page = page;
        Page.SetDefaultTimeout(Waits.Ui.Ms());
        Page.Console += (_, message) => Log($"{message.Type}: {message.Text}");
        Page.PageError += (_, error) => Log($"page error: {error}");
        Page.RequestFailed += (_, request) => Log($"request failed: {request.Method} {request.Url} {request.Failure}");
        Page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                Log($"response {response.Status}: {response.Request.Method} {response.Url}");
            }
        };
    }

    /// <summary>The name this person signs in with: one lower-case word, which is also their user id.</summary>
    public string Person { get; }

    /// <summary>The page's name in screenshots and logs: the person, or a name of its own for a second tab.</summary>
    public string Label { get; }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>What the page wrote to its console, with its uncaught errors and failed requests.</summary>
    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    public ILocator Composer => Page.GetByTestId("composer");

    public ILocator MessageList => Page.GetByTestId("message-list");

    public ILocator Messages => MessageList.GetByTestId("message");

    public ILocator TypingIndicator => Page.GetByTestId("typing-indicator");

    public ILocator ReconnectingBanner => Page.GetByTestId("reconnecting-banner");

    /// <summary>Signs in by name and waits until the page shows the user id.</summary>
    public async Task SignInAsync()
    {
        await Page.GetByTestId("signin-name").FillAsync(Person);
        await Page.GetByTestId("signin-submit").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("current-user")).ToContainTextAsync(Person);
    }

    /// <summary>A person in the people list.</summary>
    public ILocator PersonItem(string userId) => Page.GetByTestId("person").And(Page.Locator($"[data-user-id={Css(userId)}]"));

    /// <summary>A room in the room list.</summary>
    public ILocator RoomItem(string roomId) => Page.GetByTestId("room-item").And(Page.Locator($"[data-room-id={Css(roomId)}]"));

    /// <summary>The message of the open conversation whose body is exactly <paramref name="body"/>.</summary>
    public ILocator Message(string body) =>
        Messages.Filter(new LocatorFilterOptions { Has = Page.GetByTestId("message-body").GetByText(body, new LocatorGetByTextOptions { Exact = true }) });

    /// <summary>The data-seq of every message shown, top to bottom.</summary>
    public Task<long[]> SequencesAsync() =>
        Messages.EvaluateAllAsync<long[]>("messages => messages.map(m => Number(m.getAttribute('data-seq')))");

    /// <summary>The body of every message shown, top to bottom.</summary>
    public Task<IReadOnlyList<string>> BodiesAsync() => Messages.GetByTestId("message-body").AllTextContentsAsync();

    /// <summary>A CSS string literal.</summary>
    private static string Css(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private void Log(string line)
    {
        lock (_console)
        {
            _console.AppendLine(line);
        }
    }
}
