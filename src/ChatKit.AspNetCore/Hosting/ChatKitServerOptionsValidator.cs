using Microsoft.Extensions.Options;

namespace ChatKit.AspNetCore.Hosting;

internal sealed class ChatKitServerOptionsValidator : IValidateOptions<ChatKitServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatKitServerOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.UserIdClaimType))
        {
            errors.Add("ChatKit:Server:UserIdClaimType must name the claim that holds the user id (for example \"sub\").");
        }

        if (string.IsNullOrWhiteSpace(options.DisplayNameClaimType))
        {
            errors.Add("ChatKit:Server:DisplayNameClaimType must name the claim that holds the display name (for example \"name\").");
        }

        if (options.KeepAliveInterval <= TimeSpan.Zero)
        {
            errors.Add($"ChatKit:Server:KeepAliveInterval must be a positive time span such as \"00:00:30\" (it is {options.KeepAliveInterval}).");
        }

        if (options.KeepAliveTimeout <= TimeSpan.Zero)
        {
            errors.Add($"ChatKit:Server:KeepAliveTimeout must be a positive time span such as \"00:00:30\" (it is {options.KeepAliveTimeout}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
