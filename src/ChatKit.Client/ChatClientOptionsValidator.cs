using System.Collections.ObjectModel;

namespace ChatKit.Client;

/// <summary>Checks <see cref="ChatClientOptions"/> when a client is created, reporting every problem at once.</summary>
internal static class ChatClientOptionsValidator
{
    /// <exception cref="ArgumentException">The options are not valid; the message says what to set.</exception>
    public static void Validate(ChatClientOptions options)
    {
        List<string> errors = [];
        if (options.ServerUri is not { IsAbsoluteUri: true, Scheme: "ws" or "wss" })
        {
            errors.Add($"ServerUri must be an absolute ws:// or wss:// URL such as ws://127.0.0.1:5000/chat; it is '{options.ServerUri}'.");
        }

        if (options.ReconnectInitialDelay <= TimeSpan.Zero)
        {
            errors.Add($"ReconnectInitialDelay must be positive; it is {options.ReconnectInitialDelay}.");
        }

        if (options.ReconnectMaxDelay < options.ReconnectInitialDelay)
        {
            errors.Add($"ReconnectMaxDelay must be at least ReconnectInitialDelay ({options.ReconnectInitialDelay}); it is {options.ReconnectMaxDelay}.");
        }

        if (options.ReconnectJitter is not (>= 0 and <= 1))
        {
            errors.Add($"ReconnectJitter must be between 0 and 1; it is {options.ReconnectJitter}.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"RequestTimeout must be positive; it is {options.RequestTimeout}.");
        }

        if (options.MaxSendAttempts < 1)
        {
            errors.Add($"MaxSendAttempts must be at least 1; it is {options.MaxSendAttempts}.");
        }

        if (options.EventBufferCapacity < 1)
        {
            errors.Add($"EventBufferCapacity must be at least 1; it is {options.EventBufferCapacity}.");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero && options.KeepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"KeepAliveInterval must be zero or positive (zero turns keep-alive off); it is {options.KeepAliveInterval}.");
        }

        if (options.KeepAliveTimeout <= TimeSpan.Zero && options.KeepAliveTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"KeepAliveTimeout must be positive, or Timeout.InfiniteTimeSpan to never time out; it is {options.KeepAliveTimeout}.");
        }

        if (options.TimeProvider is null)
        {
            errors.Add("TimeProvider must be set; use TimeProvider.System outside tests.");
        }

        foreach (var (room, seq) in options.InitialResume ?? ReadOnlyDictionary<string, long>.Empty)
        {
            if (string.IsNullOrEmpty(room) || seq < 0)
            {
                errors.Add($"InitialResume must map room ids to sequence numbers of 0 or more; it maps '{room}' to {seq}.");
                break;
            }
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("ChatClientOptions are not valid: " + string.Join(" ", errors), nameof(options));
        }
    }
}
