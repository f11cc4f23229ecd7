using Microsoft.Playwright;

namespace ChatKit.Browser.Tests.Infrastructure;

/// <summary>
/// One Playwright driver and one headless Chromium for the whole run; each test opens browser contexts of its own
/// (<see cref="BrowserSession"/>), which share nothing: cookies, storage and sockets are per context.
/// </summary>
/// <remarks>
/// The browser is Debian's (<c>apt-get install chromium</c>), never one that <c>playwright install</c> downloads.
/// </remarks>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not started yet.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium. The browser tests never download a browser.");
        }

        // Expectations wait up to this long by default; a test that needs longer says so.
        Assertions.SetDefaultExpectTimeout((float)Waits.Ui.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>Every browser test is in this one collection: they share the browser and run one at a time (2 cores).</summary>
[CollectionDefinition(Name)]
public sealed class BrowserTestGroup : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
