namespace ChatKit.Storage.EfCore.Migrations;

/// <summary>One step of ChatKit's schema, as SQL for each provider. Steps are applied in order, each once.</summary>
/// <param name="Id">The step's id, recorded in <c>chatkit_schema</c>.</param>
/// <param name="Sqlite">The statements for SQLite.</param>
/// <param name="PostgreSql">The statements for PostgreSQL.</param>
internal sealed record SchemaMigration(string Id, IReadOnlyList<string> Sqlite, IReadOnlyList<string> PostgreSql);
