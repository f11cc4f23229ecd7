using ChatKit.Encryption;
using static ChatKit.Core.Tests.Encryption.Devices;

namespace ChatKit.Core.Tests.Encryption;

public sealed class RatchetSessionTests
{
    [Fact]
    public void A_long_conversation_with_late_and_reordered_messages_decrypts_every_message_once()
    {
        var (alice, bob) = Pair();
        var random = new Random(7);
        var undelivered = new List<(bool ToBob, byte[] Message, string Text)>();
        var read = new List<string>();
        for (var turn = 0; turn < 400; turn++)
        {
            var fromAlice = random.Next(3) != 0;
            var text = $"message {turn}";
            undelivered.Add((fromAlice, (fromAlice ? alice : bob).Encrypt(Text(text)), text));

            // Deliver a random pending message now and then, so chains advance with messages held back across many ratchet steps.
            while (undelivered.Count > 0 && random.Next(4) != 0)
            {
                var pick = undelivered[random.Next(undelivered.Count)];
                undelivered.Remove(pick);
                read.Add(Read((pick.ToBob ? bob : alice).Decrypt(pick.Message)));
                Assert.Equal(pick.Text, read[^1]);
            }
        }

        foreach (var (toBob, message, text) in undelivered)
        {
            Assert.Equal(text, Read((toBob ? bob : alice).Decrypt(message)));
            read.Add(text);
        }

        Assert.Equal(400, read.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(0, alice.SkippedKeyCount);
        Assert.Equal(0, bob.SkippedKeyCount);
    }

    [Fact]
    public void Messages_after_a_gap_decrypt_and_the_gap_is_read_later()
    {
        var (alice, bob) = Pair();
        var sent = Enumerable.Range(0, 50).Select(i => alice.Encrypt(Text($"m{i}"))).ToList();

        Assert.Equal("m49", Read(bob.Decrypt(sent[49])));
        Assert.Equal(49, bob.SkippedKeyCount);
        Assert.Equal("m10", Read(bob.Decrypt(sent[10])));
        Assert.Equal(48, bob.SkippedKeyCount);
    }

    [Fact]
    public void A_gap_over_max_skip_is_rejected_and_changes_nothing()
    {
        var (alice, bob) = Pair();
        for (var i = 0; i <= RatchetSession.MaxSkip; i++)
        {
            alice.Encrypt(Text("lost"));
        }

        var tooFar = alice.Encrypt(Text("too far"));
        var before = bob.Export();

        var error = Assert.Throws<EncryptionException>(() => bob.Decrypt(tooFar));

        Assert.Equal(EncryptionErrorCodes.TooFarAhead, error.Code);
        Assert.Equal(before, bob.Export());
    }

    [Fact]
    public void A_tampered_message_is_rejected_and_leaves_the_state_byte_for_byte_unchanged()
    {
        var (alice, bob) = Pair();
        bob.Decrypt(alice.Encrypt(Text("one")));
        alice.Decrypt(bob.Encrypt(Text("two")));
        var message = alice.Encrypt(Text("three"));
        var before = bob.Export();

        for (var i = 0; i < message.Length; i++)
        {
            var tampered = (byte[])message.Clone();
            tampered[i] ^= 0x01;
            Assert.Throws<EncryptionException>(() => bob.Decrypt(tampered));
            Assert.Equal(before, bob.Export());
        }

        Assert.Equal("three", Read(bob.Decrypt(message)));
    }

    [Fact]
    public void A_replayed_message_is_rejected_and_leaves_the_state_byte_for_byte_unchanged()
    {
        var (alice, bob) = Pair();
        var inOrder = alice.Encrypt(Text("in order"));
        var late = alice.Encrypt(Text("late"));
        var ahead = alice.Encrypt(Text("ahead"));
        bob.Decrypt(inOrder);
        bob.Decrypt(ahead);
        bob.Decrypt(late);
        var before = bob.Export();

        foreach (var replay in new[] { inOrder, late, ahead })
        {
            var error = Assert.Throws<EncryptionException>(() => bob.Decrypt(replay));
            Assert.Equal(EncryptionErrorCodes.Replayed, error.Code);
            Assert.Equal(before, bob.Export());
        }
    }

    [Fact]
    public void A_message_key_is_gone_from_the_state_once_used()
    {
        var (alice, bob) = Pair();
        var skippedOver = alice.Encrypt(Text("late"));
        bob.Decrypt(alice.Encrypt(Text("first read")));
        var withKey = bob.Export();
        Assert.Equal(1, bob.SkippedKeyCount);

        bob.Decrypt(skippedOver);

        Assert.Equal(0, bob.SkippedKeyCount);
        Assert.True(bob.Export().Length < withKey.Length);
        Assert.Equal(EncryptionErrorCodes.Replayed, Assert.Throws<EncryptionException>(() => bob.Decrypt(skippedOver)).Code);
    }

    [Fact]
    public void The_skipped_key_store_is_bounded_and_drops_the_oldest_keys()
    {
        var (alice, bob) = Pair();
        var oldest = alice.Encrypt(Text("oldest"));
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < RatchetSession.MaxSkip - 1; i++)
            {
                alice.Encrypt(Text("skipped"));
            }

            bob.Decrypt(alice.Encrypt(Text("read")));
            alice.Decrypt(bob.Encrypt(Text("reply")));
        }

        Assert.Equal(RatchetSession.MaxSkippedKeys, bob.SkippedKeyCount);
        Assert.Equal(EncryptionErrorCodes.Replayed, Assert.Throws<EncryptionException>(() => bob.Decrypt(oldest)).Code);
    }

    [Fact]
    public void An_exported_session_goes_on_where_it_left_off()
    {
        var (alice, bob) = Pair();
        var late = alice.Encrypt(Text("late"));
        bob.Decrypt(alice.Encrypt(Text("now")));

        var restored = RatchetSession.Import(bob.Export());

        Assert.Equal(bob.Export(), restored.Export());
        Assert.Equal("late", Read(restored.Decrypt(late)));
        Assert.Equal("reply", Read(alice.Decrypt(restored.Encrypt(Text("reply")))));
    }

    [Fact]
    public void Corrupt_session_state_is_refused()
    {
        var (_, bob) = Pair();
        var state = bob.Export();

        Assert.Equal(EncryptionErrorCodes.Malformed, Assert.Throws<EncryptionException>(() => RatchetSession.Import(state.AsMemory(0, state.Length - 1))).Code);
        Assert.Equal(EncryptionErrorCodes.Malformed, Assert.Throws<EncryptionException>(() => RatchetSession.Import(state.Append((byte)0).ToArray())).Code);
    }

    [Fact]
    public void Garbage_and_truncated_messages_are_malformed()
    {
        var (alice, bob) = Pair();
        var message = alice.Encrypt(Text("whole"));

        Assert.Equal(EncryptionErrorCodes.Malformed, Assert.Throws<EncryptionException>(() => bob.Decrypt(Array.Empty<byte>())).Code);
        Assert.Equal(EncryptionErrorCodes.Malformed, Assert.Throws<EncryptionException>(() => bob.Decrypt(message.AsMemory(0, 40))).Code);
        Assert.Equal(EncryptionErrorCodes.Malformed, Assert.Throws<EncryptionException>(() => bob.Decrypt(new byte[] { 9, 1, 2 })).Code);
        Assert.Equal("whole", Read(bob.Decrypt(message)));
    }
}
