namespace ChatKit.Storage.EfCore.Options;

/// <summary>The database behind the EF Core store.</summary>
public enum EfCoreStorageProvider
{
    /// <summary>A SQLite file: one node, zero set-up. The sample's default.</summary>
    Sqlite = 0,

    /// <summary>PostgreSQL: shared by every node.</summary>
    PostgreSql = 1,
}
