using ChatKit.Keys;

namespace ChatKit.Core.Tests.Storage;

public sealed class InMemoryKeyDirectoryStoreTests : KeyDirectoryStoreSpecification
{
    protected override Task<IKeyDirectoryStore> CreateStoreAsync() => Task.FromResult<IKeyDirectoryStore>(new InMemoryKeyDirectoryStore());
}
