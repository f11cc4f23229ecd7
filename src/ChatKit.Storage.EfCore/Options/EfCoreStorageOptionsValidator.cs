using Microsoft.Extensions.Options;

namespace ChatKit.Storage.EfCore.Options;

internal sealed class EfCoreStorageOptionsValidator : IValidateOptions<EfCoreStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, EfCoreStorageOptions options)
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(options.Provider))
        {
            errors.Add($"ChatKit:Storage:Provider must be \"Sqlite\" or \"PostgreSql\" (it is {options.Provider}).");
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add("ChatKit:Storage:ConnectionString is required, for example \"Data Source=chatkit.db\" (SQLite) or \"Host=localhost;Database=chat;Username=chat\" (PostgreSQL).");
        }

        if (options.CommandTimeout < TimeSpan.FromSeconds(1))
        {
            errors.Add($"ChatKit:Storage:CommandTimeout must be at least one second, such as \"00:00:15\" (it is {options.CommandTimeout}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
