using Microsoft.AspNetCore.DataProtection;
using ChatKit.Protocol;
using ChatKit.Samples.Web.DevSignIn;

namespace ChatKit.Samples.Web;

/// <summary>The sample chat app: ChatKit with its in-memory defaults, a development sign-in and a chat page.</summary>
public static class SampleApp
{
    /// <summary>Builds the app; <c>Program</c> runs it, tests start it on a free port.</summary>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        // Chat connections on every listener go straight to ChatKit, without an HTTP request that lives as long as
        // each of them (about half of the server's memory per connected user); all other requests are served as usual.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.UseChatKit()));
        builder.Services.AddSingleton(TimeProvider.System);
        // Tokens signed on one node must read on every other: nodes on several machines share a keys folder.
        var protection = builder.Services.AddDataProtection().SetApplicationName("ChatKit.Samples.Web");
        if (builder.Configuration["DevSignIn:KeysDirectory"] is { Length: > 0 } keys)
        {
            protection.PersistKeysToFileSystem(new DirectoryInfo(keys));
        }

        builder.Services.AddSingleton<DevTokens>();
        builder.Services.AddAuthentication(DevTokenHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, DevTokenHandler>(DevTokenHandler.SchemeName, null);
        builder.Services.AddAuthorization();

        // The whole of ChatKit on this one node, with rooms and history in a SQLite file (appsettings.json).
        // Switch to PostgreSQL with --ChatKit:Storage:Provider=PostgreSql --ChatKit:Storage:ConnectionString="Host=...".
        var chatKit = builder.Services.AddChatKit().AddEfCoreStorage();

        // Several nodes: give each the same PostgreSQL and --ChatKit:Redis:ConnectionString=localhost:6379.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["ChatKit:Redis:ConnectionString"]))
        {
            chatKit.AddRedisBackplane();
        }

#if CHATKIT_KAFKA
        // Built with -p:ChatKitKafka=true: Kafka between the nodes and the database with --ChatKit:Kafka:BootstrapServers=kafka:9092.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["ChatKit:Kafka:BootstrapServers"]))
        {
            chatKit.AddKafkaTransport();
        }
#endif

        var app = builder.Build();

        // The page keeps end-to-end encryption keys in IndexedDB: only its own scripts may run (no inline script, no
        // other origin), so injected markup cannot read them. Connections only to this server (its WebSocket included).
        app.Use((context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy =
                "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
            return next(context);
        });
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseWebSockets();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapPost("/dev/signin", (SignInRequest request, DevTokens tokens) =>
        {
            var name = request.Name?.Trim() ?? string.Empty;
            var userId = DevTokens.UserIdFor(name);
            if (userId is null || name.Length > 40)
            {
                return Results.BadRequest(new ErrorBody { Code = ChatErrorCodes.InvalidField, Message = "Type a name of 1 to 40 characters with at least one letter or digit." });
            }

            return Results.Ok(new SignInResponse(tokens.Issue(userId, name), userId, name));
        });

        app.MapChatKit("/chat");
        app.MapHealthChecks("/healthz");
        return app;
    }
}
