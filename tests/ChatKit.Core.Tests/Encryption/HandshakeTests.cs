using ChatKit.Encryption;
using static ChatKit.Core.Tests.Encryption.Devices;

namespace ChatKit.Core.Tests.Encryption;

public sealed class HandshakeTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Fact]
    public void A_device_id_swapped_in_the_handshake_fails_even_with_the_same_keys()
    {
        var signing = P256.Generate();
        var identity = P256.Generate();
        var alice = DeviceKeys.Create("alice", "phone", signing, identity, P256.Generate(), Now);
        var aliceOtherId = DeviceKeys.Create("alice", "laptop", signing, identity, P256.Generate(), Now);
        var bob = New("bob");
        var message = RatchetSession.Initiate(alice, Bundle(bob)).Encrypt(Text("hi"));

        var swapped = WithInitiator(message, aliceOtherId.Identity);

        Assert.Equal(EncryptionErrorCodes.NotAuthentic, Assert.Throws<EncryptionException>(() => RatchetSession.Accept(bob, swapped)).Code);
        Assert.Equal("hi", Read(RatchetSession.Accept(bob, message).Plaintext));
    }

    [Fact]
    public void A_signing_key_swapped_in_the_handshake_fails_even_with_the_same_dh_keys()
    {
        var identity = P256.Generate();
        var alice = DeviceKeys.Create("alice", "phone", P256.Generate(), identity, P256.Generate(), Now);
        var impostor = DeviceKeys.Create("alice", "phone", P256.Generate(), identity, P256.Generate(), Now);
        var bob = New("bob");
        var message = RatchetSession.Initiate(alice, Bundle(bob)).Encrypt(Text("hi"));

        var swapped = WithInitiator(message, impostor.Identity);

        Assert.Equal(EncryptionErrorCodes.NotAuthentic, Assert.Throws<EncryptionException>(() => RatchetSession.Accept(bob, swapped)).Code);
    }

    [Fact]
    public void The_associated_data_binds_both_sides_in_order_with_suite_and_version()
    {
        var alice = New("alice").Identity;
        var bob = New("bob").Identity;

        var ad = RatchetSession.AssociatedData(alice, bob);

        Assert.NotEqual(ad, RatchetSession.AssociatedData(bob, alice));
        Assert.StartsWith("ChatKit_X3DH_P256_SHA256_AES256CBC_v1", System.Text.Encoding.ASCII.GetString(ad), StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_signed_prekey_signature_fails_the_handshake()
    {
        var alice = New("alice");
        var bob = New("bob");
        var other = New("mallory");
        var bundle = Bundle(bob);
        var flipped = (byte[])bundle.SignedPreKey.Signature.Clone();
        flipped[10] ^= 0x40;

        var tampered = bundle with { SignedPreKey = bundle.SignedPreKey with { Signature = flipped } };
        var substituted = bundle with { SignedPreKey = other.SignedPreKey };

        Assert.Equal(EncryptionErrorCodes.BadSignature, Assert.Throws<EncryptionException>(() => RatchetSession.Initiate(alice, tampered)).Code);
        Assert.Equal(EncryptionErrorCodes.BadSignature, Assert.Throws<EncryptionException>(() => RatchetSession.Initiate(alice, substituted)).Code);
    }

    [Fact]
    public void An_identity_not_signed_for_its_user_and_device_fails_the_handshake()
    {
        var alice = New("alice");
        var bob = New("bob");
        var bundle = Bundle(bob);

        var renamed = bundle with { Identity = bundle.Identity with { UserId = "carol" } };
        var invalidPoint = bundle with { Identity = bundle.Identity with { IdentityKey = [0x04, .. new byte[64]] } };

        Assert.Equal(EncryptionErrorCodes.BadSignature, Assert.Throws<EncryptionException>(() => RatchetSession.Initiate(alice, renamed)).Code);
        Assert.Equal(EncryptionErrorCodes.InvalidKey, Assert.Throws<EncryptionException>(() => RatchetSession.Initiate(alice, invalidPoint)).Code);
    }

    [Fact]
    public void A_signing_key_off_the_curve_is_an_invalid_key_not_a_crash()
    {
        var identity = New("bob").Identity;
        byte[] offCurve = [.. identity.SigningKey];
        offCurve[40] ^= 0x01;

        var error = Assert.Throws<EncryptionException>(() => P256.Verify(offCurve, [1, 2, 3], identity.Signature));

        Assert.Equal(EncryptionErrorCodes.InvalidKey, error.Code);
        Assert.Equal(EncryptionErrorCodes.InvalidKey, Assert.Throws<EncryptionException>(() => (identity with { SigningKey = offCurve }).Verify()).Code);
    }

    [Fact]
    public void A_one_time_prekey_serves_one_handshake_only()
    {
        var bob = New("bob");
        var bundle = Bundle(bob);
        var first = RatchetSession.Initiate(New("alice"), bundle).Encrypt(Text("first"));
        var second = RatchetSession.Initiate(New("carol"), bundle).Encrypt(Text("second"));

        Assert.Equal("first", Read(RatchetSession.Accept(bob, first).Plaintext));
        Assert.Equal(0, bob.OneTimePreKeyCount);
        Assert.Equal(EncryptionErrorCodes.UnknownPreKey, Assert.Throws<EncryptionException>(() => RatchetSession.Accept(bob, second)).Code);
    }

    [Fact]
    public void A_failed_handshake_keeps_the_one_time_prekey()
    {
        var bob = New("bob");
        var message = RatchetSession.Initiate(New("alice"), Bundle(bob)).Encrypt(Text("hi"));
        var tampered = (byte[])message.Clone();
        tampered[^1] ^= 1;

        Assert.Throws<EncryptionException>(() => RatchetSession.Accept(bob, tampered));

        Assert.Equal(1, bob.OneTimePreKeyCount);
        Assert.Equal("hi", Read(RatchetSession.Accept(bob, message).Plaintext));
    }

    [Fact]
    public void A_replayed_handshake_without_a_one_time_prekey_is_refused_until_its_signed_prekey_is_gone()
    {
        var bob = New("bob");
        var message = RatchetSession.Initiate(New("alice"), Bundle(bob, withOneTimePreKey: false)).Encrypt(Text("once"));
        Assert.Equal("once", Read(RatchetSession.Accept(bob, message).Plaintext));
        var restored = DeviceKeys.Import(bob.Export());

        Assert.Equal(EncryptionErrorCodes.Replayed, Assert.Throws<EncryptionException>(() => RatchetSession.Accept(bob, message)).Code);
        Assert.Equal(EncryptionErrorCodes.Replayed, Assert.Throws<EncryptionException>(() => RatchetSession.Accept(restored, message)).Code);
    }

    [Fact]
    public void An_opened_handshake_changes_the_device_only_when_completed()
    {
        var bob = New("bob");
        var message = RatchetSession.Initiate(New("alice"), Bundle(bob)).Encrypt(Text("checked first"));
        var before = bob.Export();

        var opened = RatchetSession.Open(bob, message);

        Assert.Equal("checked first", Read(opened.Plaintext));
        Assert.Equal(before, bob.Export());
        opened.Complete();
        Assert.Equal(0, bob.OneTimePreKeyCount);
        Assert.Equal(EncryptionErrorCodes.Replayed, Assert.Throws<EncryptionException>(() => RatchetSession.Open(bob, message)).Code);
    }

    [Fact]
    public void A_device_keeps_at_most_max_one_time_prekeys_dropping_the_oldest()
    {
        var bob = New("bob");
        var first = bob.GenerateOneTimePreKeys(DeviceKeys.MaxOneTimePreKeys)[0];
        var message = RatchetSession.Initiate(New("alice"), new PreKeyBundle(bob.Identity, bob.SignedPreKey, first)).Encrypt(Text("late"));

        bob.GenerateOneTimePreKeys(10);

        Assert.Equal(DeviceKeys.MaxOneTimePreKeys, bob.OneTimePreKeyCount);
        Assert.Equal(EncryptionErrorCodes.UnknownPreKey, Assert.Throws<EncryptionException>(() => RatchetSession.Accept(bob, message)).Code);
    }

    [Fact]
    public void A_handshake_without_a_one_time_prekey_works()
    {
        var bob = New("bob");
        var alice = RatchetSession.Initiate(New("alice"), Bundle(bob, withOneTimePreKey: false));

        var (session, plaintext) = RatchetSession.Accept(bob, alice.Encrypt(Text("no one-time key")));

        Assert.Equal("no one-time key", Read(plaintext));
        Assert.Equal("back", Read(alice.Decrypt(session.Encrypt(Text("back")))));
    }

    [Fact]
    public void Every_message_carries_the_handshake_until_the_first_answer()
    {
        var alice = New("alice");
        var bob = New("bob");
        var aliceSession = RatchetSession.Initiate(alice, Bundle(bob));
        var first = aliceSession.Encrypt(Text("one"));
        var second = aliceSession.Encrypt(Text("two"));

        var (bobSession, _) = RatchetSession.Accept(bob, first);

        Assert.Equal(aliceSession.BaseKey, RatchetSession.PreKeyMessageBaseKey(second));
        Assert.Equal("two", Read(bobSession.Decrypt(second)));
        Assert.False(aliceSession.IsAcknowledged);
        aliceSession.Decrypt(bobSession.Encrypt(Text("answer")));
        Assert.True(aliceSession.IsAcknowledged);
        Assert.Null(RatchetSession.PreKeyMessageBaseKey(aliceSession.Encrypt(Text("three"))));
        Assert.Equal(bob.Identity, aliceSession.Peer);
        Assert.True(alice.Identity.SameKeysAs(bobSession.Peer));
    }

    [Fact]
    public void A_handshake_for_another_device_fails()
    {
        var message = RatchetSession.Initiate(New("alice"), Bundle(New("bob"))).Encrypt(Text("hi"));

        Assert.Throws<EncryptionException>(() => RatchetSession.Accept(New("bob", "d2"), message));
    }

    [Fact]
    public void Handshakes_in_flight_survive_signed_prekey_rotations_that_keep_their_key()
    {
        var bob = New("bob");
        var time = TimeProvider.System;
        var inFlight = RatchetSession.Initiate(New("alice"), Bundle(bob, withOneTimePreKey: false)).Encrypt(Text("in flight"));
        var tooOld = RatchetSession.Initiate(New("carol"), Bundle(bob, withOneTimePreKey: false)).Encrypt(Text("too old"));

        for (var i = 0; i < DeviceKeys.KeptSignedPreKeys; i++)
        {
            bob.RotateSignedPreKey(time);
        }

        Assert.Equal("in flight", Read(RatchetSession.Accept(bob, inFlight).Plaintext));
        bob.RotateSignedPreKey(time);
        Assert.Equal(EncryptionErrorCodes.UnknownPreKey, Assert.Throws<EncryptionException>(() => RatchetSession.Accept(bob, tooOld)).Code);
    }

    [Fact]
    public void Device_keys_survive_export_and_import()
    {
        var bob = New("bob");
        var oneTime = bob.GenerateOneTimePreKeys(3);
        var message = RatchetSession.Initiate(New("alice"), new PreKeyBundle(bob.Identity, bob.SignedPreKey, oneTime[1])).Encrypt(Text("after restart"));

        var restored = DeviceKeys.Import(bob.Export());

        Assert.Equal(bob.Export(), restored.Export());
        Assert.Equal("after restart", Read(RatchetSession.Accept(restored, message).Plaintext));
        Assert.Equal(2, restored.OneTimePreKeyCount);
        Assert.Equal(EncryptionErrorCodes.Malformed, Assert.Throws<EncryptionException>(() => DeviceKeys.Import(new byte[] { 1, 2, 3 })).Code);
    }

    private static byte[] WithInitiator(byte[] preKeyMessage, DeviceIdentityKey initiator)
    {
        var reader = new WireReader(preKeyMessage, "prekey message");
        var head = reader.Fixed(10);
        reader.Blob();
        var rest = reader.Rest().ToArray();
        var identity = new WireWriter();
        initiator.WriteTo(identity);
        return new WireWriter().Fixed(head).Blob(identity.ToArray()).Fixed(rest).ToArray();
    }
}
