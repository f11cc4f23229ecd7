using System.Buffers.Text;
using System.Text;
using ChatKit.Encryption;

namespace ChatKit.Client;

/// <summary>The devices of one user this device has had sessions with, kept for safety numbers: one line per device.</summary>
internal static class SeenDevices
{
    public static byte[] Write(IEnumerable<DeviceIdentityKey> devices) =>
        Encoding.UTF8.GetBytes(string.Join('\n', devices.Select(d => string.Join('\t', d.UserId, d.DeviceId, Base64Url.EncodeToString(d.SigningKey), Base64Url.EncodeToString(d.IdentityKey), Base64Url.EncodeToString(d.Signature)))));

    public static List<DeviceIdentityKey> Read(byte[]? saved)
    {
        if (saved is null)
        {
            return [];
        }

        var devices = new List<DeviceIdentityKey>();
        foreach (var line in Encoding.UTF8.GetString(saved).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            try
            {
                devices.Add(new DeviceIdentityKey(parts[0], parts[1], Base64Url.DecodeFromChars(parts[2]), Base64Url.DecodeFromChars(parts[3]), Base64Url.DecodeFromChars(parts[4])));
            }
            catch (Exception ex) when (ex is FormatException or IndexOutOfRangeException)
            {
                throw new EncryptionException(EncryptionErrorCodes.Malformed, "The saved list of seen devices is damaged.", ex);
            }
        }

        return devices;
    }
}
