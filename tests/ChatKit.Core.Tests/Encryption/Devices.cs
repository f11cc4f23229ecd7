using System.Text;
using ChatKit.Encryption;

namespace ChatKit.Core.Tests.Encryption;

/// <summary>Devices with keys, and pairs of sessions between them.</summary>
internal static class Devices
{
    public static DeviceKeys New(string user, string device = "d1") => DeviceKeys.Create(user, device, TimeProvider.System);

    public static PreKeyBundle Bundle(DeviceKeys device, bool withOneTimePreKey = true) =>
        new(device.Identity, device.SignedPreKey, withOneTimePreKey ? device.GenerateOneTimePreKeys(1)[0] : null);

    /// <summary>Alice starts a session with Bob and Bob accepts her first message; both sides are ready.</summary>
    public static (RatchetSession Alice, RatchetSession Bob) Pair()
    {
        var alice = New("alice");
        var bob = New("bob");
        var aliceSession = RatchetSession.Initiate(alice, Bundle(bob));
        var (bobSession, first) = RatchetSession.Accept(bob, aliceSession.Encrypt(Text("hello")));
        Assert.Equal("hello", Read(first));
        return (aliceSession, bobSession);
    }

    public static byte[] Text(string value) => Encoding.UTF8.GetBytes(value);

    public static string Read(byte[] value) => Encoding.UTF8.GetString(value);
}
