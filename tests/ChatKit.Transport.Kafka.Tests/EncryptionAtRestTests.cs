using System.Net.Sockets;
using System.Text;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Encryption;
using ChatKit.Storage.EfCore;
using ChatKit.Storage.EfCore.Options;
using ChatKit.Storage.EfCore.Tests;
using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>
/// Encrypted rooms through every part a deployment has: two nodes, Kafka, Redis, and a database on disk. A marker
/// sent encrypted must be readable by the members and absent from everything the server side holds; a canary sent in
/// a plain room shows each search does find plaintext where it is.
/// </summary>
public sealed class EncryptionAtRestTests : IDisposable
{
    private const string Marker = "secret-marker-5c1d";
    private const string Canary = "plain-canary-9e4b";
    private readonly string _folder = Directory.CreateTempSubdirectory("chatkit-at-rest-").FullName;

    [Theory(Timeout = 180_000)]
    [InlineData(EfCoreStorageProvider.PostgreSql)]
    [InlineData(EfCoreStorageProvider.Sqlite)]
    public async Task A_marker_sent_encrypted_is_read_by_members_and_found_nowhere_on_the_server_side(EfCoreStorageProvider provider)
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        await using var redis = await RedisServer.StartAsync();
        await using var monitor = await RedisMonitor.StartAsync(redis.Port);
        await using var postgres = provider == EfCoreStorageProvider.PostgreSql ? await PostgresServer.StartAsync() : null;
        var connectionString = postgres is null ? $"Data Source={Path.Combine(_folder, "chat.db")}" : await postgres.CreateDatabaseAsync();
        var logs = new CapturedLogs();
        var prefix = KafkaNodes.CreateTopics(kafka);
        void Storage(Hosting.IChatKitBuilder kit)
        {
            kit.AddEfCoreStorage(options =>
            {
                options.Provider = provider;
                options.ConnectionString = connectionString;
                options.ApplyMigrationsAtStart = true;
            });
            kit.Services.AddSingleton<ILoggerProvider>(logs);
            kit.Services.Configure<LoggerFilterOptions>(options => options.MinLevel = LogLevel.Trace);
        }

        await using var node1 = await KafkaNodes.StartNodeAsync(kafka, redis.ConnectionString, Storage, prefix);
        await using var node2 = await KafkaNodes.StartNodeAsync(kafka, redis.ConnectionString, Storage, prefix);
        await using var alice = await EncryptedDevice.StartAsync(node1, "alice", "phone", _folder);
        await using var bob = await EncryptedDevice.StartAsync(node2, "bob", "laptop", _folder);
        await using var carol = await EncryptedDevice.StartAsync(node2, "carol", "phone", _folder);

        var direct = await alice.Client.OpenEncryptedDirectAsync("bob");
        await alice.E2e.SendAsync(direct, $"{Marker} direct");
        var group = await alice.Client.CreateEncryptedRoomAsync("private", ["bob", "carol"]);
        await alice.E2e.SendAsync(group, $"{Marker} group");
        var plain = await alice.Client.CreateRoomAsync("plain", members: ["bob"]);
        await alice.Client.SendAsync(plain.Id, Canary);

        await bob.Events.WaitUntilAsync(_ => bob.Events.Messages(direct.Id).Count == 1 && bob.Events.Messages(group.Id).Count == 2 && bob.Events.Messages(plain.Id).Count == 1);
        await carol.Events.WaitUntilAsync(_ => carol.Events.Messages(group.Id).Count == 2);
        Assert.Equal([$"{Marker} direct"], await bob.ReadAsync(direct.Id));
        Assert.Equal([$"{Marker} group"], await bob.ReadAsync(group.Id));
        Assert.Equal([$"{Marker} group"], await carol.ReadAsync(group.Id));

        var kafkaRecords = "";
        foreach (var topic in new[] { $"{prefix}.incoming", $"{prefix}.messages" })
        {
            kafkaRecords += await Processes.RunAsync("kcat", "-C", "-b", kafka.BootstrapServers, "-t", topic, "-e", "-q", "-f", "%k|%h|%s\n");
        }

        var database = await DatabaseBytesAsync(provider, postgres, connectionString);
        var redisTraffic = monitor.Traffic;
        var logText = string.Join('\n', logs.Lines);

        Assert.Contains(Canary, kafkaRecords, StringComparison.Ordinal);
        Assert.Contains(EncryptedBody.Prefix, kafkaRecords, StringComparison.Ordinal);
        Assert.DoesNotContain(Marker, kafkaRecords, StringComparison.Ordinal);
        Assert.True(Contains(database, Canary), "The canary sent in the plain room should be in the database files.");
        Assert.False(Contains(database, Marker), "The marker sent encrypted is in the database files.");
        Assert.Contains(Canary, redisTraffic, StringComparison.Ordinal);
        Assert.DoesNotContain(Marker, redisTraffic, StringComparison.Ordinal);
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(Marker, logText, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Every byte of the database's files on disk, after the database wrote everything it holds to them.</summary>
    private async Task<byte[]> DatabaseBytesAsync(EfCoreStorageProvider provider, PostgresServer? postgres, string connectionString)
    {
        string folder;
        if (postgres is null)
        {
            folder = _folder;
        }
        else
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
                await checkpoint.ExecuteNonQueryAsync();
            }

            // The cluster's data directory: tables, indexes and the write-ahead log (the socket lives beside it).
            folder = Path.Combine(postgres.Directory, "data");
        }

        using var all = new MemoryStream();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var path = Path.GetFullPath(file);
            if (provider == EfCoreStorageProvider.Sqlite && !Path.GetFileName(path).StartsWith("chat.db", StringComparison.Ordinal))
            {
                continue;
            }

            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            await stream.CopyToAsync(all);
        }

        return all.ToArray();
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    /// <summary>A redis-server MONITOR connection: every command any client sends, as text.</summary>
    private sealed class RedisMonitor : IAsyncDisposable
    {
        private readonly TcpClient _tcp;
        private readonly StringBuilder _traffic = new();
        private readonly Task _reading;

        private RedisMonitor(TcpClient tcp)
        {
            _tcp = tcp;
            _reading = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                var stream = _tcp.GetStream();
                try
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer)) > 0)
                    {
                        lock (_traffic)
                        {
                            _traffic.Append(Encoding.UTF8.GetString(buffer, 0, read));
                        }
                    }
                }
                catch (IOException)
                {
                }
                catch (ObjectDisposedException)
                {
                }
            });
        }

        public string Traffic
        {
            get
            {
                lock (_traffic)
                {
                    return _traffic.ToString();
                }
            }
        }

        public static async Task<RedisMonitor> StartAsync(int port)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", port);
            await tcp.GetStream().WriteAsync("MONITOR\r\n"u8.ToArray());
            return new RedisMonitor(tcp);
        }

        public async ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            await _reading;
        }
    }
}
