using ChatKit.Encryption;
using ChatKit.Keys;

namespace ChatKit.Core.Tests.Storage;

/// <summary>
/// What every <see cref="IKeyDirectoryStore"/> must do, with real device keys. The in-memory store runs it here; each
/// storage adapter runs it against its own database by deriving from this class.
/// </summary>
public abstract class KeyDirectoryStoreSpecification
{
    protected abstract Task<IKeyDirectoryStore> CreateStoreAsync();

    [Fact(Timeout = 30_000)]
    public async Task A_published_device_is_listed_and_its_bundle_is_claimed_byte_for_byte()
    {
        var store = await CreateStoreAsync();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        var oneTime = phone.GenerateOneTimePreKeys(3);
        var bobsPhone = DeviceKeys.Create("bob", "phone", TimeProvider.System);

        Assert.Equal(3, await store.PublishAsync(phone.Identity, phone.SignedPreKey, oneTime, CancellationToken.None));
        Assert.Equal(1, await store.PublishAsync(bobsPhone.Identity, bobsPhone.SignedPreKey, bobsPhone.GenerateOneTimePreKeys(1), CancellationToken.None));

        AssertSame(phone.Identity, Assert.Single(await store.GetDevicesAsync("alice", CancellationToken.None)));
        Assert.Equal(3, await store.CountOneTimePreKeysAsync("alice", "phone", CancellationToken.None));
        var claim = await store.ClaimBundleAsync("alice", "phone", CancellationToken.None);

        Assert.NotNull(claim);
        Assert.Equal(2, claim.Remaining);
        AssertSame(phone.Identity, claim.Bundle.Identity);
        AssertSame(phone.SignedPreKey, claim.Bundle.SignedPreKey);
        AssertSame(Published(oneTime, claim.Bundle.OneTimePreKey), claim.Bundle.OneTimePreKey);
        claim.Bundle.Verify();
        Assert.Equal(2, await store.CountOneTimePreKeysAsync("alice", "phone", CancellationToken.None));
        Assert.Equal(1, await store.CountOneTimePreKeysAsync("bob", "phone", CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task Devices_are_listed_by_device_id_in_ordinal_order()
    {
        var store = await CreateStoreAsync();
        foreach (var device in new[] { "tablet", "b", "Laptop", "10", "9", "a", "B" })
        {
            var keys = DeviceKeys.Create("alice", device, TimeProvider.System);
            await store.PublishAsync(keys.Identity, keys.SignedPreKey, [], CancellationToken.None);
        }

        var listed = await store.GetDevicesAsync("alice", CancellationToken.None);

        Assert.Equal(["10", "9", "B", "Laptop", "a", "b", "tablet"], listed.Select(d => d.DeviceId));
        Assert.All(listed, d => Assert.Equal("alice", d.UserId));
        Assert.All(listed, d => d.Verify());
    }

    [Fact(Timeout = 30_000)]
    public async Task Each_claim_takes_another_one_time_prekey_until_none_are_left()
    {
        var store = await CreateStoreAsync();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        var oneTime = phone.GenerateOneTimePreKeys(3);
        await store.PublishAsync(phone.Identity, phone.SignedPreKey, oneTime, CancellationToken.None);

        var claimed = new List<OneTimePreKey>();
        for (var expectedLeft = 2; expectedLeft >= 0; expectedLeft--)
        {
            var claim = await store.ClaimBundleAsync("alice", "phone", CancellationToken.None);
            Assert.NotNull(claim);
            Assert.Equal(expectedLeft, claim.Remaining);
            claimed.Add(Published(oneTime, claim.Bundle.OneTimePreKey));
        }

        var exhausted = await store.ClaimBundleAsync("alice", "phone", CancellationToken.None);

        Assert.Equal(oneTime.Select(k => k.Id).Order(), claimed.Select(k => k.Id).Order());
        Assert.NotNull(exhausted);
        Assert.Null(exhausted.Bundle.OneTimePreKey);
        Assert.Equal(0, exhausted.Remaining);
        AssertSame(phone.Identity, exhausted.Bundle.Identity);
        AssertSame(phone.SignedPreKey, exhausted.Bundle.SignedPreKey);
        Assert.Equal(0, await store.CountOneTimePreKeysAsync("alice", "phone", CancellationToken.None));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_hundred_concurrent_claims_never_hand_out_one_one_time_prekey_twice()
    {
        const int PreKeys = 60;
        const int Claims = 100;
        var store = await CreateStoreAsync();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        var oneTime = phone.GenerateOneTimePreKeys(PreKeys);
        Assert.Equal(PreKeys, await store.PublishAsync(phone.Identity, phone.SignedPreKey, oneTime, CancellationToken.None));

        // Every claim waits for the same signal, so they all start together.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var claims = Enumerable.Range(0, Claims).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await store.ClaimBundleAsync("alice", "phone", CancellationToken.None);
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(claims);

        Assert.All(results, r => Assert.NotNull(r));
        var handedOut = results.Select(r => r!.Bundle.OneTimePreKey).OfType<OneTimePreKey>().ToList();
        Assert.Equal(PreKeys, handedOut.Count);
        Assert.Equal(PreKeys, handedOut.Select(k => k.Id).Distinct().Count());
        Assert.Equal(oneTime.Select(k => k.Id).Order(), handedOut.Select(k => k.Id).Order());
        Assert.All(handedOut, k => AssertSame(Published(oneTime, k), k));
        Assert.Equal(Claims - PreKeys, results.Count(r => r!.Bundle.OneTimePreKey is null));
        Assert.All(results, r => Assert.InRange(r!.Remaining, 0, PreKeys - 1));
        Assert.Equal(0, await store.CountOneTimePreKeysAsync("alice", "phone", CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task Publishing_the_same_identity_again_keeps_the_prekeys_and_ignores_ids_the_device_has()
    {
        var store = await CreateStoreAsync();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        var first = phone.GenerateOneTimePreKeys(2);
        await store.PublishAsync(phone.Identity, phone.SignedPreKey, first, CancellationToken.None);
        var rotated = phone.RotateSignedPreKey(TimeProvider.System);
        var added = phone.GenerateOneTimePreKeys(1);
        var impostor = new OneTimePreKey(first[0].Id, OtherPublicKey());

        var count = await store.PublishAsync(phone.Identity, rotated, [impostor, added[0]], CancellationToken.None);
        var again = await store.AddOneTimePreKeysAsync("alice", "phone", [new OneTimePreKey(added[0].Id, OtherPublicKey())], CancellationToken.None);

        Assert.Equal(3, count);
        Assert.Equal(3, again);
        var expected = first.Concat(added).ToList();
        var claimed = new List<OneTimePreKey>();
        for (var i = 0; i < expected.Count; i++)
        {
            var claim = (await store.ClaimBundleAsync("alice", "phone", CancellationToken.None))!;
            AssertSame(rotated, claim.Bundle.SignedPreKey);
            claimed.Add(claim.Bundle.OneTimePreKey!);
        }

        Assert.Equal(expected.Select(k => k.Id).Order(), claimed.Select(k => k.Id).Order());
        Assert.All(claimed, k => AssertSame(Published(expected, k), k));
    }

    [Fact(Timeout = 30_000)]
    public async Task Added_one_time_prekeys_are_counted_and_claimed()
    {
        var store = await CreateStoreAsync();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        await store.PublishAsync(phone.Identity, phone.SignedPreKey, [], CancellationToken.None);
        var added = phone.GenerateOneTimePreKeys(2);

        Assert.Equal(2, await store.AddOneTimePreKeysAsync("alice", "phone", added, CancellationToken.None));
        Assert.Equal(2, await store.AddOneTimePreKeysAsync("alice", "phone", [], CancellationToken.None));
        var claim = (await store.ClaimBundleAsync("alice", "phone", CancellationToken.None))!;

        AssertSame(Published(added, claim.Bundle.OneTimePreKey), claim.Bundle.OneTimePreKey);
        Assert.Equal(1, claim.Remaining);
    }

    [Fact(Timeout = 30_000)]
    public async Task Other_identity_keys_for_a_device_id_drop_its_old_one_time_prekeys()
    {
        var store = await CreateStoreAsync();
        var old = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        await store.PublishAsync(old.Identity, old.SignedPreKey, old.GenerateOneTimePreKeys(5), CancellationToken.None);
        var laptop = DeviceKeys.Create("alice", "laptop", TimeProvider.System);
        await store.PublishAsync(laptop.Identity, laptop.SignedPreKey, laptop.GenerateOneTimePreKeys(2), CancellationToken.None);

        // The new device numbers its keys from the start too, so its ids are ids the old device had.
        var replacement = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        var fresh = replacement.GenerateOneTimePreKeys(2);
        Assert.Equal(2, await store.PublishAsync(replacement.Identity, replacement.SignedPreKey, fresh, CancellationToken.None));

        var devices = await store.GetDevicesAsync("alice", CancellationToken.None);
        Assert.Equal(["laptop", "phone"], devices.Select(d => d.DeviceId));
        AssertSame(replacement.Identity, devices[1]);
        var claimed = new List<OneTimePreKey>();
        for (var i = 0; i < 2; i++)
        {
            var claim = (await store.ClaimBundleAsync("alice", "phone", CancellationToken.None))!;
            AssertSame(replacement.Identity, claim.Bundle.Identity);
            AssertSame(replacement.SignedPreKey, claim.Bundle.SignedPreKey);
            claimed.Add(Published(fresh, claim.Bundle.OneTimePreKey));
            AssertSame(claimed[^1], claim.Bundle.OneTimePreKey);
        }

        Assert.Null((await store.ClaimBundleAsync("alice", "phone", CancellationToken.None))!.Bundle.OneTimePreKey);
        Assert.Equal(2, await store.CountOneTimePreKeysAsync("alice", "laptop", CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task Unknown_devices_give_nothing()
    {
        var store = await CreateStoreAsync();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        await store.PublishAsync(phone.Identity, phone.SignedPreKey, phone.GenerateOneTimePreKeys(1), CancellationToken.None);

        foreach (var (user, device) in new[] { ("alice", "tablet"), ("bob", "phone"), ("nobody", "phone") })
        {
            Assert.Null(await store.ClaimBundleAsync(user, device, CancellationToken.None));
            Assert.Null(await store.CountOneTimePreKeysAsync(user, device, CancellationToken.None));
            Assert.Null(await store.AddOneTimePreKeysAsync(user, device, phone.GenerateOneTimePreKeys(1), CancellationToken.None));
            Assert.False(await store.RemoveDeviceAsync(user, device, CancellationToken.None));
        }

        Assert.Empty(await store.GetDevicesAsync("bob", CancellationToken.None));
        Assert.Empty(await store.GetDevicesAsync("nobody", CancellationToken.None));
        Assert.Null(await store.CountOneTimePreKeysAsync("bob", "phone", CancellationToken.None));
        Assert.Equal(1, await store.CountOneTimePreKeysAsync("alice", "phone", CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_removed_device_is_gone_with_its_one_time_prekeys()
    {
        var store = await CreateStoreAsync();
        var phone = DeviceKeys.Create("alice", "phone", TimeProvider.System);
        var laptop = DeviceKeys.Create("alice", "laptop", TimeProvider.System);
        await store.PublishAsync(phone.Identity, phone.SignedPreKey, phone.GenerateOneTimePreKeys(3), CancellationToken.None);
        await store.PublishAsync(laptop.Identity, laptop.SignedPreKey, laptop.GenerateOneTimePreKeys(1), CancellationToken.None);

        Assert.True(await store.RemoveDeviceAsync("alice", "phone", CancellationToken.None));
        Assert.False(await store.RemoveDeviceAsync("alice", "phone", CancellationToken.None));

        AssertSame(laptop.Identity, Assert.Single(await store.GetDevicesAsync("alice", CancellationToken.None)));
        Assert.Null(await store.ClaimBundleAsync("alice", "phone", CancellationToken.None));
        Assert.Null(await store.CountOneTimePreKeysAsync("alice", "phone", CancellationToken.None));
        Assert.Equal(1, await store.CountOneTimePreKeysAsync("alice", "laptop", CancellationToken.None));

        // The same device back, with the same keys: the removed one-time prekeys stay removed.
        Assert.Equal(0, await store.PublishAsync(phone.Identity, phone.SignedPreKey, [], CancellationToken.None));
        Assert.Null((await store.ClaimBundleAsync("alice", "phone", CancellationToken.None))!.Bundle.OneTimePreKey);
    }

    private static OneTimePreKey Published(IReadOnlyList<OneTimePreKey> published, OneTimePreKey? claimed)
    {
        Assert.NotNull(claimed);
        return Assert.Single(published, k => k.Id == claimed.Id);
    }

    private static byte[] OtherPublicKey() => DeviceKeys.Create("someone", "else", TimeProvider.System).GenerateOneTimePreKeys(1)[0].PublicKey;

    // The records hold byte arrays, which records compare by reference: compare them byte for byte.
    private static void AssertSame(DeviceIdentityKey expected, DeviceIdentityKey actual)
    {
        Assert.Equal(expected.UserId, actual.UserId);
        Assert.Equal(expected.DeviceId, actual.DeviceId);
        Assert.Equal(expected.SigningKey, actual.SigningKey);
        Assert.Equal(expected.IdentityKey, actual.IdentityKey);
        Assert.Equal(expected.Signature, actual.Signature);
    }

    private static void AssertSame(SignedPreKey expected, SignedPreKey actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.PublicKey, actual.PublicKey);
        Assert.Equal(expected.Signature, actual.Signature);
    }

    private static void AssertSame(OneTimePreKey expected, OneTimePreKey? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.PublicKey, actual.PublicKey);
    }
}
