using ChatKit.Encryption;
using static ChatKit.Core.Tests.Encryption.Devices;

namespace ChatKit.Core.Tests.Encryption;

public sealed class SenderKeyTests
{
    [Fact]
    public void Every_member_decrypts_a_group_message()
    {
        var sender = SenderKeyChain.Create("room-1");
        var members = Enumerable.Range(0, 5).Select(_ => SenderKeyReceiver.FromDistribution(sender.Distribution())).ToList();

        var messages = Enumerable.Range(0, 20).Select(i => sender.Encrypt(Text($"to all {i}"))).ToList();

        foreach (var member in members)
        {
            Assert.Equal("room-1", member.RoomId);
            Assert.Equal(messages.Select((_, i) => $"to all {i}"), messages.Select(m => Read(member.Decrypt(m))));
        }
    }

    [Fact]
    public void Late_messages_decrypt_and_replays_are_rejected_without_changing_the_receiver()
    {
        var sender = SenderKeyChain.Create("room-1");
        var receiver = SenderKeyReceiver.FromDistribution(sender.Distribution());
        var first = sender.Encrypt(Text("first"));
        var second = sender.Encrypt(Text("second"));

        Assert.Equal("second", Read(receiver.Decrypt(second)));
        Assert.Equal("first", Read(receiver.Decrypt(first)));
        var before = receiver.Export();

        Assert.Equal(EncryptionErrorCodes.Replayed, Assert.Throws<EncryptionException>(() => receiver.Decrypt(first)).Code);
        Assert.Equal(EncryptionErrorCodes.Replayed, Assert.Throws<EncryptionException>(() => receiver.Decrypt(second)).Code);
        Assert.Equal(before, receiver.Export());
    }

    [Fact]
    public void A_member_removed_and_re_keyed_around_cannot_decrypt_anything_sent_after()
    {
        var sender = SenderKeyChain.Create("room-1");
        var staying = SenderKeyReceiver.FromDistribution(sender.Distribution());
        var removed = SenderKeyReceiver.FromDistribution(sender.Distribution());
        Assert.Equal("before", Read(removed.Decrypt(sender.Encrypt(Text("before")))));

        var rekeyed = SenderKeyChain.Create("room-1");
        var stayingAfter = SenderKeyReceiver.FromDistribution(rekeyed.Distribution());
        var after = rekeyed.Encrypt(Text("after removal"));

        Assert.Equal("after removal", Read(stayingAfter.Decrypt(after)));
        Assert.Equal(EncryptionErrorCodes.UnknownSenderKey, Assert.Throws<EncryptionException>(() => removed.Decrypt(after)).Code);
        Assert.Equal(EncryptionErrorCodes.UnknownSenderKey, Assert.Throws<EncryptionException>(() => staying.Decrypt(after)).Code);
        Assert.NotEqual(sender.KeyId, rekeyed.KeyId);
    }

    [Fact]
    public void A_forged_sender_signature_is_rejected_and_changes_nothing()
    {
        var sender = SenderKeyChain.Create("room-1");
        var receiver = SenderKeyReceiver.FromDistribution(sender.Distribution());
        var message = sender.Encrypt(Text("signed"));
        var before = receiver.Export();

        var forgedSignature = (byte[])message.Clone();
        forgedSignature[^5] ^= 0x10;
        var alteredBody = (byte[])message.Clone();
        alteredBody[SenderKeyChain.HeaderLength + 3] ^= 0x10;

        Assert.Equal(EncryptionErrorCodes.BadSignature, Assert.Throws<EncryptionException>(() => receiver.Decrypt(forgedSignature)).Code);
        Assert.Equal(EncryptionErrorCodes.BadSignature, Assert.Throws<EncryptionException>(() => receiver.Decrypt(alteredBody)).Code);
        Assert.Equal(before, receiver.Export());
        Assert.Equal("signed", Read(receiver.Decrypt(message)));
    }

    [Fact]
    public void A_member_holding_the_chain_key_cannot_sign_as_the_sender()
    {
        var sender = SenderKeyChain.Create("room-1");
        var distribution = sender.Distribution();
        var receiver = SenderKeyReceiver.FromDistribution(distribution);

        // A member knows the chain key and key id, but not the signing key: a message made with its own signing key is refused.
        var reader = new WireReader(distribution, "distribution");
        reader.Fixed(2);
        var room = reader.Text();
        var keyId = reader.Fixed(SenderKeyChain.KeyIdLength);
        reader.UInt32();
        var chain = reader.Fixed(32);
        var forger = SenderKeyChain.CreateWith(room, keyId, chain, P256.Generate());

        Assert.Equal(EncryptionErrorCodes.BadSignature, Assert.Throws<EncryptionException>(() => receiver.Decrypt(forger.Encrypt(Text("forged")))).Code);
    }

    [Fact]
    public void A_gap_over_max_skip_is_rejected()
    {
        var sender = SenderKeyChain.Create("room-1");
        var receiver = SenderKeyReceiver.FromDistribution(sender.Distribution());
        for (var i = 0; i <= RatchetSession.MaxSkip; i++)
        {
            sender.Encrypt(Text("lost"));
        }

        Assert.Equal(EncryptionErrorCodes.TooFarAhead, Assert.Throws<EncryptionException>(() => receiver.Decrypt(sender.Encrypt(Text("far")))).Code);
    }

    [Fact]
    public void Sender_keys_survive_export_and_import()
    {
        var sender = SenderKeyChain.Create("room-1");
        var receiver = SenderKeyReceiver.FromDistribution(sender.Distribution());
        receiver.Decrypt(sender.Encrypt(Text("one")));

        var restoredSender = SenderKeyChain.Import(sender.Export());
        var restoredReceiver = SenderKeyReceiver.Import(receiver.Export());

        Assert.Equal(sender.Export(), restoredSender.Export());
        Assert.Equal("two", Read(restoredReceiver.Decrypt(restoredSender.Encrypt(Text("two")))));
    }
}
