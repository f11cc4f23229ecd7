using System.Net.Sockets;
using System.Text;
using ChatKit.Backplane.Redis.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatKit.Backplane.Redis;

/// <summary>
/// This node's connection to Redis, opened when the app starts (a Redis that cannot be reached, or refuses the
/// password, stops the start with a message that says what to fix) and reopened by itself after an outage.
/// </summary>
public sealed partial class RedisConnection : IDisposable
{
    private readonly RedisBackplaneOptions _options;
    private readonly ILogger<RedisConnection> _logger;
    private ConnectionMultiplexer? _multiplexer;
    private ISubscriber? _subscriber;

    /// <summary>Creates the connection; <see cref="ConnectAsync"/> opens it.</summary>
    public RedisConnection(IOptions<RedisBackplaneOptions> options, ILogger<RedisConnection> logger)
    {
        _options = options.Value;
        _logger = logger;
        NodeId = $"{Environment.MachineName}-{Guid.NewGuid():N}";
    }

    /// <summary>Raised when the connection that carries subscriptions is back after an outage.</summary>
    internal event EventHandler? SubscriptionsRestored;

    /// <summary>Raised when the connection that carries publishes and commands is back after an outage.</summary>
    internal event EventHandler? CommandsRestored;

    /// <summary>This node's id in Redis: unique per process.</summary>
    public string NodeId { get; }

    /// <summary>Whether Redis can be reached now.</summary>
    public bool IsConnected => _multiplexer?.IsConnected ?? false;

    internal string Prefix => _options.ChannelPrefix;

    internal ISubscriber Subscriber => _subscriber ??= Multiplexer.GetSubscriber();

    internal IDatabase Database => Multiplexer.GetDatabase();

    private ConnectionMultiplexer Multiplexer => _multiplexer ?? throw new InvalidOperationException("The Redis connection is not open yet; it opens when the host starts.");

    /// <summary>Opens the connection; throws <see cref="InvalidOperationException"/> saying what to fix when it cannot.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (_multiplexer is not null)
        {
            return;
        }

        var configuration = ConfigurationOptions.Parse(_options.ConnectionString!);
        configuration.AbortOnConnectFail = true;
        configuration.ConnectTimeout = (int)_options.ConnectTimeout.TotalMilliseconds;
        configuration.ClientName ??= $"chatkit-{NodeId}";
        var servers = string.Join(", ", configuration.EndPoints.Select(e => e.ToString()));
        ConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            var refused = LooksRefused(ex) || await CredentialsRefusedAsync(configuration, cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException(Explain(ex, refused, servers), ex);
        }

        multiplexer.ConnectionFailed += OnConnectionFailed;
        multiplexer.ConnectionRestored += OnConnectionRestored;
        _multiplexer = multiplexer;
        LogConnected(_logger, servers, NodeId);
    }

    /// <inheritdoc />
    public void Dispose() => _multiplexer?.Dispose();

    internal RedisChannel Channel(string kind, string id) => new($"{_options.ChannelPrefix}:{kind}:{id}", RedisChannel.PatternMode.Literal);

    internal RedisKey Key(string name) => $"{_options.ChannelPrefix}:{name}";

    /// <summary>
    /// A command's result, or <see cref="TimeoutException"/> after <see cref="RedisBackplaneOptions.CommandTimeout"/>:
    /// StackExchange.Redis 1.2.6 puts no limit on asynchronous commands, and a hung server would hold up the caller.
    /// </summary>
    internal Task<T> Bounded<T>(Task<T> command) => command.WaitAsync(_options.CommandTimeout);

    private static bool LooksRefused(RedisConnectionException exception)
    {
        var text = exception.ToString();
        return text.Contains("AuthenticationFailure", StringComparison.Ordinal)
            || text.Contains("NOAUTH", StringComparison.Ordinal)
            || text.Contains("WRONGPASS", StringComparison.Ordinal)
            || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// StackExchange.Redis 1.2.6 reports a refused password as a socket failure about one time in five; asking the
    /// servers directly (plain TCP only) tells the two apart.
    /// </summary>
    private async Task<bool> CredentialsRefusedAsync(ConfigurationOptions configuration, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(configuration.Password) || configuration.Ssl)
        {
            return false;
        }

        var password = Encoding.UTF8.GetBytes(configuration.Password);
        var auth = Encoding.ASCII.GetBytes($"*2\r\n$4\r\nAUTH\r\n${password.Length}\r\n").Concat(password).Concat("\r\n"u8.ToArray()).ToArray();
        foreach (var endpoint in configuration.EndPoints)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout);
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
                await socket.SendAsync(auth, timeout.Token).ConfigureAwait(false);
                var reply = new byte[256];
                var read = await socket.ReceiveAsync(reply, timeout.Token).ConfigureAwait(false);
                var text = Encoding.ASCII.GetString(reply, 0, read);
                if (text.StartsWith("-WRONGPASS", StringComparison.Ordinal) || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
            {
                // This server cannot tell: the connection failure is the answer.
            }
        }

        return false;
    }

    private string Explain(RedisConnectionException exception, bool refused, string servers) => refused
        ? $"Redis at {servers} refused ChatKit's credentials. Put the right password in ChatKit:Redis:ConnectionString, for example \"{servers},password=...\"."
        : $"Could not connect to Redis at {servers} within {_options.ConnectTimeout.TotalSeconds:0.#} s. Check that redis-server is running there and that ChatKit:Redis:ConnectionString names it. ({exception.Message})";

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => LogConnectionLost(_logger, e.Exception, e.ConnectionType, e.FailureType);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        LogConnectionRestored(_logger, e.ConnectionType);
        (e.ConnectionType == ConnectionType.Subscription ? SubscriptionsRestored : CommandsRestored)?.Invoke(this, EventArgs.Empty);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Connected to Redis at {Servers} as node {NodeId}")]
    private static partial void LogConnected(ILogger logger, string servers, string nodeId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Lost the Redis {ConnectionType} connection ({FailureType}); this node keeps serving its own connections and reconnects by itself")]
    private static partial void LogConnectionLost(ILogger logger, Exception? exception, ConnectionType connectionType, ConnectionFailureType failureType);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "The Redis {ConnectionType} connection is back")]
    private static partial void LogConnectionRestored(ILogger logger, ConnectionType connectionType);
}
