using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ChatKit.Model;
using ChatKit.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatKit.AspNetCore.WebSockets;

/// <summary>
/// Kestrel connection middleware of <c>listenOptions.UseChatKit()</c>. It reads the first request of each new
/// connection; a well-formed ChatKit WebSocket handshake for the path of a <c>MapChatKit</c> endpoint, whose user the
/// app's authentication and the endpoint's authorization admit, is accepted here, and the chat session runs on the
/// connection's pipes without Kestrel's HTTP request (about 8 KB less heap per connection). Every other connection goes
/// to HTTP untouched, so refusals get the same answers as on the HTTP path and other endpoints work as before.
/// </summary>
internal sealed partial class DirectConnectionMiddleware
{
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private readonly ConnectionDelegate _next;
    private readonly IServiceProvider _services;
    private readonly ChatWebSocketHandler _handler;
    private readonly ILogger _logger;
    private readonly TimeSpan _headTimeout;
    private readonly int _maxHeadBytes;
    private DirectRoutes? _routes;

    public DirectConnectionMiddleware(ConnectionDelegate next, IServiceProvider services)
    {
        _next = next;
        _services = services;
        _handler = services.GetService<ChatWebSocketHandler>()
            ?? throw new InvalidOperationException("ChatKit's services are missing: call services.AddChatKit() before listenOptions.UseChatKit().");
        _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<DirectConnectionMiddleware>();
        var limits = services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        _headTimeout = limits.RequestHeadersTimeout;
        _maxHeadBytes = limits.MaxRequestLineSize + limits.MaxRequestHeadersTotalSize;
    }

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        // The admission runs in a method of its own so that nothing of the handshake (headers, HttpContext,
        // authentication results) stays referenced while the session runs.
        var (toHttp, user) = await AdmitAsync(connection).ConfigureAwait(false);
        if (toHttp)
        {
            await _next(connection).ConfigureAwait(false);
            return;
        }

        if (user is null)
        {
            return;
        }

        using var socket = _handler.CreateAcceptedSocket(new DuplexPipeStream(connection.Transport));
        await _handler.RunSessionAsync(socket, user).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the handshake and decides: (true, null) hands the connection to HTTP with its bytes unread; (false, user)
    /// has answered 101 and consumed the handshake; (false, null) means the connection ended or timed out first.
    /// </summary>
    private async Task<(bool ToHttp, ChatUser? User)> AdmitAsync(ConnectionContext connection)
    {
        var routes = Routes();
        if (routes.Paths.Count == 0)
        {
            return (true, null);
        }

        var input = connection.Transport.Input;
        var (ended, request) = await ReadHeadAsync(connection, routes.Paths).ConfigureAwait(false);
        if (request is null)
        {
            return (!ended, null);
        }

        var scope = _services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var context = Context(connection, request, scope.ServiceProvider);
            if (!await AuthorizeAsync(context, routes.Endpoints[request.Route]).ConfigureAwait(false))
            {
                LogToHttp(_logger, connection.ConnectionId, "the endpoint's authorization did not admit the user");
                return (true, null);
            }

            if (!_handler.TryAdmit(context, out var user, out var refusal))
            {
                LogToHttp(_logger, connection.ConnectionId, refusal.Message);
                return (true, null);
            }

            var head = await input.ReadAsync().ConfigureAwait(false);
            input.AdvanceTo(head.Buffer.GetPosition(request.HeadLength));
            await connection.Transport.Output.WriteAsync(SwitchingProtocols(request.Key)).ConfigureAwait(false);
            return (false, user);
        }
    }

    /// <summary>
    /// Waits for the first request head and leaves every byte unread: the request when it is a ChatKit handshake,
    /// otherwise null, with Ended set when there is nothing left to hand to HTTP: the connection closed, or sent no
    /// complete head within Kestrel's request headers timeout (it is then aborted, as HTTP would drop it).
    /// </summary>
    private async Task<(bool Ended, UpgradeRequest? Request)> ReadHeadAsync(ConnectionContext connection, IReadOnlyList<string> paths)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(_headTimeout);
        var progress = default(HeadProgress);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (!connection.ConnectionClosed.IsCancellationRequested)
                {
                    LogHeadTimeout(_logger, connection.ConnectionId, _headTimeout);
                    connection.Abort(new ConnectionAbortedException($"No request head within {_headTimeout}."));
                }

                return (true, null);
            }

            var outcome = UpgradeRequest.TryRead(result.Buffer, paths, _maxHeadBytes, ref progress, out var request);
            if (outcome == HeadOutcome.Incomplete && !result.IsCompleted && !result.IsCanceled)
            {
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                continue;
            }

            // Nothing consumed and nothing examined: the next reader (HTTP, or the accept) gets the bytes at once.
            input.AdvanceTo(result.Buffer.Start);
            return (false, outcome == HeadOutcome.Taken ? request : null);
        }
    }

    /// <summary>
    /// The request as the app's authentication handlers see one: method, scheme, path, query, headers and addresses.
    /// It never reaches the HTTP pipeline and is dropped once the user is known.
    /// </summary>
    private static DefaultHttpContext Context(ConnectionContext connection, UpgradeRequest request, IServiceProvider services)
    {
        var context = new DefaultHttpContext { RequestServices = services, RequestAborted = connection.ConnectionClosed };
        context.Features.Get<IHttpRequestFeature>()!.Headers = request.Headers;
        context.Request.Method = HttpMethods.Get;
        context.Request.Protocol = HttpProtocol.Http11;
        context.Request.Scheme = connection.Features.Get<ITlsHandshakeFeature>() is null ? "http" : "https";
        context.Request.Path = new PathString(request.Path);
        context.Request.QueryString = new QueryString(request.RawQuery);
        context.Connection.Id = connection.ConnectionId;
        if (connection.RemoteEndPoint is IPEndPoint remote)
        {
            context.Connection.RemoteIpAddress = remote.Address;
            context.Connection.RemotePort = remote.Port;
        }

        if (connection.LocalEndPoint is IPEndPoint local)
        {
            context.Connection.LocalIpAddress = local.Address;
            context.Connection.LocalPort = local.Port;
        }

        return context;
    }

    /// <summary>
    /// What <c>UseAuthentication</c> and <c>UseAuthorization</c> do for the endpoint: the default scheme's principal
    /// becomes the user, then the endpoint's policy (or the fallback policy) must succeed. False sends the connection
    /// to HTTP, whose pipeline answers 401 or 403 with the app's own challenge.
    /// </summary>
    private static async Task<bool> AuthorizeAsync(HttpContext context, RouteEndpoint endpoint)
    {
        var services = context.RequestServices;
        if (services.GetService<IAuthenticationSchemeProvider>() is { } schemes && await schemes.GetDefaultAuthenticateSchemeAsync().ConfigureAwait(false) is { } scheme)
        {
            var result = await context.AuthenticateAsync(scheme.Name).ConfigureAwait(false);
            if (result.Principal is not null)
            {
                context.User = result.Principal;
            }
        }

        var metadata = endpoint.Metadata;
        if (metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return true;
        }

        var authorizeData = metadata.GetOrderedMetadata<IAuthorizeData>();
        var policies = metadata.GetOrderedMetadata<AuthorizationPolicy>();
        var requirements = metadata.GetOrderedMetadata<IAuthorizationRequirementData>().SelectMany(d => d.GetRequirements()).ToList();
        if (services.GetService<IAuthorizationPolicyProvider>() is not { } provider)
        {
            // No authorization services: the HTTP pipeline would have failed on policies, and has none to apply otherwise.
            return authorizeData.Count == 0 && policies.Count == 0 && requirements.Count == 0;
        }

        var policy = await AuthorizationPolicy.CombineAsync(provider, authorizeData, policies).ConfigureAwait(false);
        if (requirements.Count > 0)
        {
            var required = new AuthorizationPolicyBuilder().AddRequirements([.. requirements]).Build();
            policy = policy is null ? required : AuthorizationPolicy.Combine(policy, required);
        }

        policy ??= await provider.GetFallbackPolicyAsync().ConfigureAwait(false);
        if (policy is null)
        {
            return true;
        }

        if (services.GetService<IPolicyEvaluator>() is not { } evaluator)
        {
            return false;
        }

        var authentication = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
        var authorization = await evaluator.AuthorizeAsync(policy, authentication, context, context).ConfigureAwait(false);
        return authorization.Succeeded;
    }

    [SuppressMessage("Security", "CA5350:Do not use weak cryptographic algorithms", Justification = "RFC 6455 4.2.2 defines Sec-WebSocket-Accept as the SHA-1 of the key and a fixed GUID; it is not a security measure.")]
    private static byte[] SwitchingProtocols(string key)
    {
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {ChatProtocol.Subprotocol}\r\n\r\n");
    }

    /// <summary>The WebSocket endpoints <c>MapChatKit</c> mapped, found once the app has built its endpoints.</summary>
    private DirectRoutes Routes() => LazyInitializer.EnsureInitialized(ref _routes, () =>
    {
        var routes = new DirectRoutes([], []);
        var endpoints = _services.GetService<EndpointDataSource>()?.Endpoints ?? [];
        foreach (var endpoint in endpoints.OfType<RouteEndpoint>().Where(e => e.Metadata.GetMetadata<ChatKitWebSocketEndpoint>() is not null))
        {
            var segments = endpoint.RoutePattern.PathSegments;
            if (segments.Any(s => s.Parts is not [RoutePatternLiteralPart]))
            {
                LogPatternNotDirect(_logger, endpoint.RoutePattern.RawText ?? string.Empty);
                continue;
            }

            routes.Paths.Add("/" + string.Join('/', segments.Select(s => ((RoutePatternLiteralPart)s.Parts[0]).Content)));
            routes.Endpoints.Add(endpoint);
        }

        if (routes.Paths.Count == 0)
        {
            LogNoEndpoint(_logger);
        }

        return routes;
    });

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Connection {ConnectionId} goes to HTTP: {Reason}")]
    private static partial void LogToHttp(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Debug, Message = "Connection {ConnectionId} sent no complete request head within {Timeout}; it was closed")]
    private static partial void LogHeadTimeout(ILogger logger, string connectionId, TimeSpan timeout);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "listenOptions.UseChatKit() is set, but the app maps no ChatKit endpoint it can serve (app.MapChatKit(\"/chat\") with a pattern without parameters); every connection on this listener goes to HTTP")]
    private static partial void LogNoEndpoint(ILogger logger);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "The ChatKit endpoint '{Pattern}' has route parameters; listenOptions.UseChatKit() leaves its connections to HTTP")]
    private static partial void LogPatternNotDirect(ILogger logger, string pattern);

    /// <summary>The paths the listener takes and, at the same index, their endpoints.</summary>
    private sealed record DirectRoutes(List<string> Paths, List<RouteEndpoint> Endpoints);
}
