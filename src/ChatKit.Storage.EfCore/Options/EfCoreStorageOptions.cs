namespace ChatKit.Storage.EfCore.Options;

/// <summary>Where and how ChatKit stores its data; bound from configuration section <c>ChatKit:Storage</c>, validated at start.</summary>
public sealed class EfCoreStorageOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "ChatKit:Storage";

    /// <summary>The database. Default SQLite.</summary>
    public EfCoreStorageProvider Provider { get; set; } = EfCoreStorageProvider.Sqlite;

    /// <summary>
    /// The ADO.NET connection string, for example <c>Data Source=chatkit.db</c> (SQLite) or
    /// <c>Host=db;Database=chat;Username=chat;Password=...</c> (PostgreSQL). Required.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Whether ChatKit creates and upgrades its tables when the app starts (default <see langword="false"/>: run
    /// the migrations yourself, see <c>ChatKitSchema</c>). Safe with several nodes starting at once.
    /// </summary>
    public bool ApplyMigrationsAtStart { get; set; }

    /// <summary>How long one database command may take before the request fails with <c>unavailable</c>. Default 15 seconds.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
