using ChatKit.Storage;

namespace ChatKit.Core.Tests.Storage;

public sealed class InMemoryChatStoreTests : ChatStoreSpecification
{
    protected override Task<IChatStore> CreateStoreAsync() => Task.FromResult<IChatStore>(new InMemoryChatStore());
}
