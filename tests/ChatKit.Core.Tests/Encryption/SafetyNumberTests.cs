using ChatKit.Encryption;
using static ChatKit.Core.Tests.Encryption.Devices;

namespace ChatKit.Core.Tests.Encryption;

public sealed class SafetyNumberTests
{
    [Fact]
    public void Both_sides_compute_the_same_sixty_digits()
    {
        byte[][] alice = [New("alice", "phone").Identity.SigningKey, New("alice", "laptop").Identity.SigningKey];
        byte[][] bob = [New("bob").Identity.SigningKey];

        var atAlice = SafetyNumber.Compute("alice", alice, "bob", bob);
        var atBob = SafetyNumber.Compute("bob", bob, "alice", [alice[1], alice[0]]);

        Assert.Equal(atAlice, atBob);
        Assert.Equal(60, atAlice.Length);
        Assert.True(atAlice.All(char.IsAsciiDigit));
    }

    [Fact]
    public void The_number_changes_when_a_key_or_a_device_changes()
    {
        var alice = New("alice").Identity.SigningKey;
        var bob = New("bob").Identity.SigningKey;
        var before = SafetyNumber.Compute("alice", [alice], "bob", [bob]);

        Assert.NotEqual(before, SafetyNumber.Compute("alice", [alice], "bob", [New("bob").Identity.SigningKey]));
        Assert.NotEqual(before, SafetyNumber.Compute("alice", [alice], "bob", [bob, New("bob", "d2").Identity.SigningKey]));
        Assert.NotEqual(before, SafetyNumber.Compute("alice", [alice], "bobby", [bob]));
    }

    [Fact]
    public void A_key_that_is_not_a_p256_point_is_refused()
    {
        Assert.Equal(EncryptionErrorCodes.InvalidKey, Assert.Throws<EncryptionException>(() => SafetyNumber.Fingerprint("alice", [new byte[65]])).Code);
        Assert.Throws<ArgumentException>(() => SafetyNumber.Fingerprint("alice", []));
    }
}
