using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ChatKit.Client;

/// <summary>
/// The default state store: one file per entry in a folder, written to a temporary file and renamed over the old one,
/// so a crash leaves either version. File names are the base64url of the entry names (of their SHA-256 when that
/// would be too long for a file name). On Unix the folder and the files are readable by their owner only.
/// </summary>
public sealed class FileEncryptionStateStore : IEncryptionStateStore
{
    private readonly string _folder;

    /// <summary>Keeps state in <paramref name="folder"/>, which is created when missing.</summary>
    public FileEncryptionStateStore(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        _folder = folder;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerOnly | UnixFileMode.UserExecute);

            // An existing folder keeps its mode when created again: tighten it.
            File.SetUnixFileMode(folder, OwnerOnly | UnixFileMode.UserExecute);
        }
    }

    /// <inheritdoc />
    public async Task<byte[]?> LoadAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <inheritdoc />
    public async Task SaveAsync(string name, byte[] state, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        var file = new FileStream(temporary, options);
        await using (file.ConfigureAwait(false))
        {
            await file.WriteAsync(state, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private string PathOf(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var file = bytes.Length <= 150 ? Base64Url.EncodeToString(bytes) : "h-" + Convert.ToHexString(SHA256.HashData(bytes));
        return Path.Combine(_folder, file + ".state");
    }
}
