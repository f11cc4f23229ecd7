using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ChatKit.Encryption;
using Xunit.Abstractions;

namespace ChatKit.Core.Tests.Encryption;

/// <summary>
/// Known-answer tests of the primitives ChatKit's end-to-end encryption rests on, from Project Wycheproof
/// (Encryption/Vectors/wycheproof) and RFC 5869 appendix A (Encryption/Rfc5869Vectors.json). Each test runs every case
/// of its file, collects the cases that disagree, and checks that it ran as many cases as the file declares, so that it
/// cannot pass by running none.
/// </summary>
public sealed class WycheproofTests(ITestOutputHelper output)
{
    [Fact]
    public void Hkdf_sha256_matches_wycheproof_and_refuses_too_large_outputs()
    {
        var file = WycheproofFile.Load("hkdf_sha256_test.json");
        var failures = new List<string>();
        var checkedCases = 0;

        foreach (var test in file.Cases)
        {
            checkedCases++;
            var ikm = test.Hex("ikm");
            var salt = test.Hex("salt");
            var info = test.Hex("info");
            var size = test.Int("size");

            var (okm, error) = Run(() => HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, size, salt, info));
            if (test.IsValid)
            {
                if (error is not null)
                {
                    failures.Add(test.Describe($"HKDF threw {error.GetType().Name}: {error.Message}"));
                }
                else if (!okm!.AsSpan().SequenceEqual(test.Hex("okm")))
                {
                    failures.Add(test.Describe($"okm {Convert.ToHexString(okm!)} differs from the expected one"));
                }
            }
            else if (error is not ArgumentException)
            {
                // The invalid cases ask for more than 255 blocks of output (SizeTooLarge): HKDF must refuse them.
                failures.Add(test.Describe(error is null ? "HKDF returned an output" : $"HKDF threw {error.GetType().Name}, not an ArgumentException"));
            }
        }

        Report(file.Name, checkedCases, skipped: 0);
        AssertNoFailures(failures);
        Assert.Equal(file.NumberOfTests, checkedCases);
    }

    [Fact]
    public void Hkdf_sha256_extract_expand_and_derive_match_rfc5869_appendix_a()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Encryption", "Rfc5869Vectors.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var failures = new List<string>();
        var checkedCases = 0;

        foreach (var test in document.RootElement.GetProperty("testCases").EnumerateArray())
        {
            checkedCases++;
            var name = test.GetProperty("name").GetString();
            byte[] Hex(string field) => Convert.FromHexString(test.GetProperty(field).GetString()!);
            var length = test.GetProperty("l").GetInt32();
            var okm = Hex("okm");
            var prk = Hex("prk");

            var extracted = HKDF.Extract(HashAlgorithmName.SHA256, Hex("ikm"), Hex("salt"));
            if (!extracted.AsSpan().SequenceEqual(prk))
            {
                failures.Add($"{name}: Extract gave PRK {Convert.ToHexString(extracted)}");
            }

            var expanded = HKDF.Expand(HashAlgorithmName.SHA256, prk, length, Hex("info"));
            if (!expanded.AsSpan().SequenceEqual(okm))
            {
                failures.Add($"{name}: Expand gave OKM {Convert.ToHexString(expanded)}");
            }

            var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, Hex("ikm"), length, Hex("salt"), Hex("info"));
            if (!derived.AsSpan().SequenceEqual(okm))
            {
                failures.Add($"{name}: DeriveKey gave OKM {Convert.ToHexString(derived)}");
            }
        }

        Report("Rfc5869Vectors.json", checkedCases, skipped: 0);
        AssertNoFailures(failures);
        Assert.Equal(3, checkedCases);
    }

    [Fact]
    public void Hmac_sha256_matches_wycheproof_including_truncated_tags()
    {
        var file = WycheproofFile.Load("hmac_sha256_test.json");
        var failures = new List<string>();
        var checkedCases = 0;

        foreach (var test in file.Cases)
        {
            checkedCases++;
            var tagBytes = test.GroupInt("tagSize") / 8;
            var tag = test.Hex("tag");
            var full = HMACSHA256.HashData(test.Hex("key"), test.Hex("msg"));

            // Groups with tagSize < 256 hold truncated tags: the expected tag is a prefix of the full HMAC.
            var matches = tag.Length == tagBytes && full.AsSpan(0, tagBytes).SequenceEqual(tag);
            if (test.IsValid && !matches)
            {
                failures.Add(test.Describe($"HMAC {Convert.ToHexString(full)} does not start with the expected tag"));
            }
            else if (test.IsInvalid && matches)
            {
                failures.Add(test.Describe("a modified tag matches the HMAC"));
            }
        }

        Report(file.Name, checkedCases, skipped: 0);
        AssertNoFailures(failures);
        Assert.Equal(file.NumberOfTests, checkedCases);
    }

    [Fact]
    public void Aes_cbc_pkcs7_matches_wycheproof_and_refuses_bad_padding()
    {
        var file = WycheproofFile.Load("aes_cbc_pkcs5_test.json");
        var failures = new List<string>();
        var checkedCases = 0;

        // ChatKit's MessageCipher uses 256-bit keys only; the 128- and 192-bit groups run too, they cost nothing.
        foreach (var test in file.Cases)
        {
            checkedCases++;
            var iv = test.Hex("iv");
            var msg = test.Hex("msg");
            var ct = test.Hex("ct");
            using var aes = Aes.Create();
            aes.Key = test.Hex("key");

            var (plaintext, error) = Run(() => aes.DecryptCbc(ct, iv, PaddingMode.PKCS7));
            if (test.IsValid)
            {
                if (error is not null)
                {
                    failures.Add(test.Describe($"decrypt threw {error.GetType().Name}: {error.Message}"));
                }
                else if (!plaintext!.AsSpan().SequenceEqual(msg))
                {
                    failures.Add(test.Describe($"decrypt gave {Convert.ToHexString(plaintext!)}"));
                }

                var encrypted = aes.EncryptCbc(msg, iv, PaddingMode.PKCS7);
                if (!encrypted.AsSpan().SequenceEqual(ct))
                {
                    failures.Add(test.Describe($"encrypt gave {Convert.ToHexString(encrypted)}"));
                }
            }
            else if (error is null)
            {
                // An invalid ciphertext (bad or missing padding) must not decrypt to the message.
                if (plaintext!.AsSpan().SequenceEqual(msg))
                {
                    failures.Add(test.Describe("a ciphertext with bad padding decrypted to the message"));
                }
            }
            else if (error is not CryptographicException)
            {
                failures.Add(test.Describe($"decrypt threw {error.GetType().Name}, not a CryptographicException"));
            }
        }

        Report(file.Name, checkedCases, skipped: 0);
        AssertNoFailures(failures);
        Assert.Equal(file.NumberOfTests, checkedCases);
    }

    [Fact]
    public void Aes_gcm_matches_wycheproof_for_the_nonce_and_tag_sizes_dotnet_supports()
    {
        Assert.True(AesGcm.IsSupported);
        var file = WycheproofFile.Load("aes_gcm_test.json");
        var failures = new List<string>();
        var checkedCases = 0;
        var skipped = 0;

        foreach (var test in file.Cases)
        {
            var ivBytes = test.GroupInt("ivSize") / 8;
            var tagBytes = test.GroupInt("tagSize") / 8;

            // .NET's AesGcm takes only 96-bit nonces (NonceByteSizes is 12..12) and 96..128-bit tags in 8-bit steps,
            // so the Wycheproof groups with other nonce sizes (0, 8, ..., 2056 bits: GHASH-derived counters) cannot run
            // against it at all. They are counted as skipped, not passed; checked + skipped must cover the file.
            if (!IsLegal(AesGcm.NonceByteSizes, ivBytes) || !IsLegal(AesGcm.TagByteSizes, tagBytes))
            {
                skipped++;
                continue;
            }

            checkedCases++;
            var key = test.Hex("key");
            var iv = test.Hex("iv");
            var aad = test.Hex("aad");
            var msg = test.Hex("msg");
            var ct = test.Hex("ct");
            var tag = test.Hex("tag");
            if (iv.Length != ivBytes)
            {
                failures.Add(test.Describe(string.Create(CultureInfo.InvariantCulture, $"the iv is {iv.Length} bytes, not the group's {ivBytes}")));
                continue;
            }

            using var gcm = new AesGcm(key, tagBytes);
            if (test.IsValid)
            {
                var encrypted = new byte[msg.Length];
                var computedTag = new byte[tagBytes];
                gcm.Encrypt(iv, msg, encrypted, computedTag, aad);
                if (!encrypted.AsSpan().SequenceEqual(ct) || !computedTag.AsSpan().SequenceEqual(tag))
                {
                    failures.Add(test.Describe($"encrypt gave {Convert.ToHexString(encrypted)} tag {Convert.ToHexString(computedTag)}"));
                }
            }

            var plaintext = new byte[ct.Length];
            var error = Run(() => gcm.Decrypt(iv, ct, tag, plaintext, aad));
            if (test.IsValid)
            {
                if (error is not null)
                {
                    failures.Add(test.Describe($"decrypt threw {error.GetType().Name}: {error.Message}"));
                }
                else if (!plaintext.AsSpan().SequenceEqual(msg))
                {
                    failures.Add(test.Describe($"decrypt gave {Convert.ToHexString(plaintext)}"));
                }
            }
            else if (test.IsInvalid && error is not AuthenticationTagMismatchException)
            {
                failures.Add(test.Describe(error is null ? "a modified message or tag decrypted" : $"decrypt threw {error.GetType().Name}, not AuthenticationTagMismatchException"));
            }
        }

        Report(file.Name, checkedCases, skipped);
        AssertNoFailures(failures);
        Assert.True(checkedCases > 0, "no AES-GCM case has a nonce and tag size AesGcm supports");
        Assert.Equal(file.NumberOfTests, checkedCases + skipped);
    }

    [Fact]
    public void Ecdh_p256_matches_wycheproof_ecpoint_and_rejects_invalid_and_compressed_points()
    {
        var file = WycheproofFile.Load("ecdh_secp256r1_ecpoint_test.json");
        var failures = new List<string>();
        var checkedCases = 0;

        foreach (var test in file.Cases)
        {
            checkedCases++;
            var publicKey = test.Hex("public");

            // ChatKit takes only uncompressed points (0x04 || X || Y, as WebCrypto exports them). "valid" and
            // "acceptable" uncompressed points must agree on the expected secret. Everything else must be refused:
            // "invalid" points (off the curve, on the twist, badly encoded) and every compressed point, including
            // the one Wycheproof rates "acceptable" (tcId 2: a correct compressed encoding that libraries may refuse).
            var uncompressed = publicKey.Length == P256.PublicKeyLength && publicKey[0] == 0x04;
            var expectSecret = uncompressed && !test.IsInvalid;
            CheckAgreement(failures, test, test.Hex("private"), publicKey, expectSecret, test.Hex("shared"));
        }

        Report(file.Name, checkedCases, skipped: 0);
        AssertNoFailures(failures);
        Assert.Equal(file.NumberOfTests, checkedCases);
    }

    [Fact]
    public void Ecdh_p256_matches_wycheproof_webcrypto_and_rejects_invalid_keys()
    {
        var file = WycheproofFile.Load("ecdh_secp256r1_webcrypto_test.json");
        var failures = new List<string>();
        var checkedCases = 0;
        var refusedAsJwk = 0;

        foreach (var test in file.Cases)
        {
            checkedCases++;
            var publicKey = UncompressedPointOfJwk(test.Test.GetProperty("public"));
            if (publicKey is null)
            {
                // Not a P-256 JWK with 32-byte coordinates (another curve's key, a coordinate of the wrong length):
                // refused before it reaches P256, which only ever sees raw points. Only invalid cases may end here.
                refusedAsJwk++;
                if (!test.IsInvalid)
                {
                    failures.Add(test.Describe("the public JWK is not a P-256 key with 32-byte coordinates"));
                }

                continue;
            }

            var d = Base64Url.DecodeFromChars(test.Test.GetProperty("private").GetProperty("d").GetString());
            CheckAgreement(failures, test, d, publicKey, expectSecret: !test.IsInvalid, test.Hex("shared"));
        }

        Report(file.Name, checkedCases, skipped: 0);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file.Name}: {refusedAsJwk} invalid cases refused while reading the JWK (curve or coordinate length), the others reached P256"));
        AssertNoFailures(failures);
        Assert.Equal(file.NumberOfTests, checkedCases);
    }

    [Fact]
    public void Ecdsa_p256_sha256_p1363_verify_matches_wycheproof()
    {
        var file = WycheproofFile.Load("ecdsa_secp256r1_sha256_p1363_test.json");
        var failures = new List<string>();
        var checkedCases = 0;

        foreach (var test in file.Cases)
        {
            checkedCases++;
            var publicKey = Convert.FromHexString(test.Group.GetProperty("publicKey").GetProperty("uncompressed").GetString()!);
            var msg = test.Hex("msg");
            var sig = test.Hex("sig");

            var (verified, error) = Run(() => P256.Verify(publicKey, msg, sig));
            if (error is not null)
            {
                failures.Add(test.Describe($"Verify threw {error.GetType().Name}: {error.Message}"));
            }
            else if (test.IsValid && !verified)
            {
                failures.Add(test.Describe("a valid signature does not verify"));
            }
            else if (test.IsInvalid && verified)
            {
                failures.Add(test.Describe("an invalid signature verifies"));
            }

            // "acceptable" cases may go either way.
        }

        Report(file.Name, checkedCases, skipped: 0);
        AssertNoFailures(failures);
        Assert.Equal(file.NumberOfTests, checkedCases);
    }

    /// <summary>
    /// Checks one ECDH case: <see cref="P256.Validate"/> and <see cref="P256.Agree"/> accept the public key and give the
    /// expected secret when <paramref name="expectSecret"/>, and both refuse it with <see cref="EncryptionErrorCodes.InvalidKey"/>
    /// otherwise. A refused key must never produce a secret.
    /// </summary>
    private static void CheckAgreement(List<string> failures, WycheproofCase test, byte[] privateKey, byte[] publicKey, bool expectSecret, byte[] shared)
    {
        var (own, ownError) = Run(() => P256.FromPrivate(ToScalar(privateKey)));
        if (ownError is not null)
        {
            // Every Wycheproof private key is a valid scalar: a refusal here is a failure whatever the public key.
            failures.Add(test.Describe($"FromPrivate threw {ownError.GetType().Name}: {ownError.Message}"));
            return;
        }

        var validateError = Run(() => P256.Validate(publicKey));
        var (secret, agreeError) = Run(() => P256.Agree(own!, publicKey));
        if (expectSecret)
        {
            if (validateError is not null)
            {
                failures.Add(test.Describe($"Validate refused the public key: {validateError.GetType().Name}: {validateError.Message}"));
            }

            if (agreeError is not null)
            {
                failures.Add(test.Describe($"Agree threw {agreeError.GetType().Name}: {agreeError.Message}"));
            }
            else if (!secret!.AsSpan().SequenceEqual(shared))
            {
                failures.Add(test.Describe($"Agree gave {Convert.ToHexString(secret!)}, not {Convert.ToHexString(shared)}"));
            }
        }
        else
        {
            if (!IsInvalidKey(validateError))
            {
                failures.Add(test.Describe(validateError is null ? "Validate accepted the public key" : $"Validate threw {validateError.GetType().Name}, not EncryptionException(InvalidKey)"));
            }

            if (!IsInvalidKey(agreeError))
            {
                failures.Add(test.Describe(agreeError is null ? $"Agree returned a shared secret {Convert.ToHexString(secret!)}" : $"Agree threw {agreeError.GetType().Name}, not EncryptionException(InvalidKey)"));
            }
        }
    }

    private static bool IsInvalidKey(Exception? error) => error is EncryptionException { Code: EncryptionErrorCodes.InvalidKey };

    /// <summary>
    /// A Wycheproof private key as P256 takes it: 32 bytes big-endian. The vectors write scalars as minimal signed
    /// integers, so they may be longer (a leading 00) or shorter than 32 bytes.
    /// </summary>
    private static byte[] ToScalar(byte[] value)
    {
        var span = value.AsSpan();
        while (span.Length > P256.PrivateKeyLength && span[0] == 0)
        {
            span = span[1..];
        }

        if (span.Length > P256.PrivateKeyLength)
        {
            throw new InvalidDataException($"A private key of {Convert.ToHexString(value)} does not fit in 32 bytes.");
        }

        var scalar = new byte[P256.PrivateKeyLength];
        span.CopyTo(scalar.AsSpan(P256.PrivateKeyLength - span.Length));
        return scalar;
    }

    /// <summary>
    /// The 65-byte uncompressed point of a P-256 public JWK, or null when the JWK is not one: another key type or
    /// curve, or an x or y that is missing or not 32 bytes. The curve name is checked here because P256 takes raw
    /// points and cannot tell a secp256k1 JWK whose coordinates happen to lie on P-256 from a P-256 one.
    /// </summary>
    private static byte[]? UncompressedPointOfJwk(JsonElement jwk)
    {
        if (!jwk.TryGetProperty("kty", out var kty) || kty.GetString() != "EC"
            || !jwk.TryGetProperty("crv", out var crv) || crv.GetString() != "P-256"
            || !jwk.TryGetProperty("x", out var xText) || !jwk.TryGetProperty("y", out var yText))
        {
            return null;
        }

        var x = Base64Url.DecodeFromChars(xText.GetString());
        var y = Base64Url.DecodeFromChars(yText.GetString());
        if (x.Length != 32 || y.Length != 32)
        {
            return null;
        }

        return [0x04, .. x, .. y];
    }

    private static bool IsLegal(KeySizes legal, int size) =>
        size >= legal.MinSize && size <= legal.MaxSize && (legal.SkipSize == 0 ? size == legal.MinSize : (size - legal.MinSize) % legal.SkipSize == 0);

    private static (T? Value, Exception? Error) Run<T>(Func<T> action)
    {
        try
        {
            return (action(), null);
        }
        catch (Exception ex)
        {
            return (default, ex);
        }
    }

    private static Exception? Run(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>Writes every failure in full to the test output (the assertion message truncates them), then asserts none.</summary>
    private void AssertNoFailures(List<string> failures)
    {
        foreach (var failure in failures)
        {
            output.WriteLine(failure);
        }

        Assert.Empty(failures);
    }

    private void Report(string file, int checkedCases, int skipped) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file}: {checkedCases} cases checked, {skipped} skipped"));
}
