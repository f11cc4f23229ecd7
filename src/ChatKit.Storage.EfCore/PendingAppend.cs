using ChatKit.Model;

namespace ChatKit.Storage.EfCore;

/// <summary>An append waiting for the store's writer, and the caller waiting for its outcome.</summary>
internal sealed class PendingAppend(NewMessage message)
{
    public NewMessage Message { get; } = message;

    public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
