using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

internal sealed class ChatErrorException(ServerFrame error) : Exception($"{error.Code}: {error.Message}")
{
    public ServerFrame Error { get; } = error;
}
