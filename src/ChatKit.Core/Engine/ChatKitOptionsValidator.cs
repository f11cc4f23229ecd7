using Microsoft.Extensions.Options;

namespace ChatKit.Engine;

/// <summary>Checks <see cref="ChatKitOptions"/> at start and lists every problem at once.</summary>
internal sealed class ChatKitOptionsValidator : IValidateOptions<ChatKitOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatKitOptions options)
    {
        var errors = new List<string>();
        void Positive(int value, string property)
        {
            if (value <= 0)
            {
                errors.Add($"ChatKit:{property} must be greater than 0 (it is {value}).");
            }
        }

        void PositiveTime(TimeSpan value, string property)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"ChatKit:{property} must be a positive time span such as \"00:00:05\" (it is {value}).");
            }
        }

        Positive(options.MaxFrameBytes, nameof(options.MaxFrameBytes));
        Positive(options.MaxDevicesPerUser, nameof(options.MaxDevicesPerUser));
        Positive(options.MaxOneTimePreKeys, nameof(options.MaxOneTimePreKeys));
        if (options.LowOneTimePreKeys < 0 || options.LowOneTimePreKeys > options.MaxOneTimePreKeys)
        {
            errors.Add($"ChatKit:LowOneTimePreKeys must be between 0 and ChatKit:MaxOneTimePreKeys ({options.MaxOneTimePreKeys}); it is {options.LowOneTimePreKeys}.");
        }

        Positive(options.MaxMessageBytes, nameof(options.MaxMessageBytes));
        Positive(options.MaxHistoryPageSize, nameof(options.MaxHistoryPageSize));
        Positive(options.DefaultHistoryPageSize, nameof(options.DefaultHistoryPageSize));
        Positive(options.RatePerSecond, nameof(options.RatePerSecond));
        Positive(options.RateBurst, nameof(options.RateBurst));
        Positive(options.MaxOutboundBufferBytes, nameof(options.MaxOutboundBufferBytes));
        Positive(options.MaxRoomNameLength, nameof(options.MaxRoomNameLength));
        PositiveTime(options.TypingTimeout, nameof(options.TypingTimeout));
        PositiveTime(options.HelloTimeout, nameof(options.HelloTimeout));
        PositiveTime(options.CloseTimeout, nameof(options.CloseTimeout));
        if (options.BackplaneWaitTimeout <= TimeSpan.Zero)
        {
            errors.Add($"ChatKit:BackplaneWaitTimeout must be a positive time span such as \"00:00:05\" (it is {options.BackplaneWaitTimeout}).");
        }

        if (options.MembershipCacheDuration < TimeSpan.Zero)
        {
            errors.Add($"ChatKit:MembershipCacheDuration must be zero (off) or a positive time span such as \"00:00:30\" (it is {options.MembershipCacheDuration}).");
        }

        if (options.MaxMessageBytes > 0 && options.MaxFrameBytes > 0 && options.MaxMessageBytes + 1024 > options.MaxFrameBytes)
        {
            errors.Add($"ChatKit:MaxFrameBytes ({options.MaxFrameBytes}) must exceed ChatKit:MaxMessageBytes ({options.MaxMessageBytes}) by at least 1024 so a full message fits in a frame with its fields.");
        }

        if (options.DefaultHistoryPageSize > options.MaxHistoryPageSize)
        {
            errors.Add($"ChatKit:DefaultHistoryPageSize ({options.DefaultHistoryPageSize}) must not exceed ChatKit:MaxHistoryPageSize ({options.MaxHistoryPageSize}).");
        }

        if (options.RateBurst < options.RatePerSecond && options.RateBurst > 0)
        {
            errors.Add($"ChatKit:RateBurst ({options.RateBurst}) must be at least ChatKit:RatePerSecond ({options.RatePerSecond}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
