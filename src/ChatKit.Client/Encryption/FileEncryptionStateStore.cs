using System.Buffers.Text;
using System.Text;

namespace ChatKit.Client;

/// <summary>
/// The default state store: one file per entry in a folder, written to a temporary file and renamed over the old one,
/// so a crash leaves either version. File names are the base64url of the entry names. On Unix the folder is made
/// readable by its owner only.
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
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
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
        await File.WriteAllBytesAsync(temporary, state, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    private string PathOf(string name) => Path.Combine(_folder, Base64Url.EncodeToString(Encoding.UTF8.GetBytes(name)) + ".state");
}
