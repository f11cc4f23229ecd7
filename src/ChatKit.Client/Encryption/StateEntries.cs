using System.Globalization;

namespace ChatKit.Client;

/// <summary>
/// The names of <see cref="EndToEndEncryption"/>'s entries in the state store. Each part is written with its length,
/// so ids that contain the separator cannot make two entries share a name.
/// </summary>
internal static class StateEntries
{
    public const string Device = "device";

    public static string Sessions(string user, string device) => Name("session", user, device);

    public static string SenderKey(string room) => Name("sender", room);

    public static string SentTo(string room) => Name("sent-to", room);

    public static string Receiver(string room, string user, string device) => Name("receiver", room, user, device);

    public static string Seen(string user) => Name("seen", user);

    private static string Name(string kind, params string[] parts) =>
        kind + string.Concat(parts.Select(p => "/" + p.Length.ToString(CultureInfo.InvariantCulture) + ":" + p));
}
