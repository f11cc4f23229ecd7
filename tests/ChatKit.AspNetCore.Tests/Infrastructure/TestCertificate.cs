using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>One self-signed certificate for 127.0.0.1, made once per test run, that the test clients pin.</summary>
internal static class TestCertificate
{
    private static readonly Lazy<X509Certificate2> Created = new(Create);

    public static X509Certificate2 Instance => Created.Value;

    /// <summary>Accepts the test certificate only.</summary>
    public static bool IsTestCertificate(X509Certificate? certificate) =>
        certificate is not null && string.Equals(certificate.GetCertHashString(), Instance.GetCertHashString(), StringComparison.Ordinal);

    private static X509Certificate2 Create()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var now = TimeProvider.System.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(2));

        // Kestrel on Linux needs the key in a form it can use for TLS: a round trip through PKCS #12 gives it that.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }
}
