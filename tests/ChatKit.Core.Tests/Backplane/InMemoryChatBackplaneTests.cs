using ChatKit.Backplane;
using ChatKit.Core.Tests.Infrastructure;

namespace ChatKit.Core.Tests.Backplane;

public sealed class InMemoryChatBackplaneTests : ChatBackplaneSpecification
{
    private protected override Task<IChatBackplane> CreateNodeAsync(RecordingReceiver receiver) => Task.FromResult<IChatBackplane>(new InMemoryChatBackplane(receiver));
}
