namespace ChatKit.Storage.EfCore.Tests;

/// <summary>The tests that share one PostgreSQL cluster, started before the first and stopped after the last.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresGroup : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
