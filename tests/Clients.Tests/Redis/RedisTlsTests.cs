using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

/// <summary>TLS against a real redis-server (Debian's build links OpenSSL) with a CA made by the test.</summary>
[Trait("Category", "Service")]
public sealed class RedisTlsTests : IAsyncLifetime
{
    private readonly string _directory = ServerBinaries.NewTempDirectory("redis-tls");
    private X509Certificate2 _authority = null!;
    private ServerProcess? _server;
    private int _port;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        try
        {
            await CreateCertificatesAndStartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task CreateCertificatesAndStartAsync()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Catbird Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        _authority = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var serverCertificate = serverRequest.Create(_authority, now.AddMinutes(-5), now.AddHours(12), RandomNumberGenerator.GetBytes(8));

        await File.WriteAllTextAsync(Path.Combine(_directory, "ca.crt"), _authority.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(Path.Combine(_directory, "server.crt"), serverCertificate.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(Path.Combine(_directory, "server.key"), serverKey.ExportPkcs8PrivateKeyPem(), Ct);

        (_server, _port) = await StartServerAsync(requireClientCertificates: false);
    }

    private async Task<(ServerProcess Server, int Port)> StartServerAsync(bool requireClientCertificates)
    {
        var port = ServerProcess.FreePort();
        var binary = ServerBinaries.Find("redis-server", "redis-server", "/usr/bin/redis-server");
        var server = ServerProcess.Start($"redis-tls:{port}", binary,
        [
            "--port", "0", "--tls-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--protected-mode", "no",
            "--tls-cert-file", Path.Combine(_directory, "server.crt"), "--tls-key-file", Path.Combine(_directory, "server.key"),
            "--tls-ca-cert-file", Path.Combine(_directory, "ca.crt"), "--tls-auth-clients", requireClientCertificates ? "yes" : "no",
            "--requirepass", "tls-pass",
        ], _directory);
        try
        {
            await server.WaitUntilAsync(ct => ServerProcess.CanConnectAsync(port, ct), TimeSpan.FromSeconds(20), Ct);
            return (server, port);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private X509Certificate2 CreateClientCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=catbird-client", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.Create(_authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        using var withKey = certificate.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _authority?.Dispose();
        ServerBinaries.DeleteDirectory(_directory);
    }

    [Fact]
    public async Task Tls_WithPinnedAuthority_ConnectsAndRunsCommands()
    {
        var options = RedisOptions.Parse($"localhost:{_port},ssl=true,password=tls-pass") with { TrustedCertificateAuthority = _authority };
        await using var redis = await RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(await redis.SetAsync("tls", "secure", ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal("secure", await redis.GetStringAsync("tls", Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
        var results = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => redis.IncrementAsync("tls-n", ct: Ct).AsTask())).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(500, results.Max());

        await using var subscriber = new RedisSubscriber(options);
        await using var subscription = await subscriber.SubscribeAsync("tls-ch", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await redis.PublishAsync("tls-ch", "over tls", Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal("over tls", (await subscription.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct)).Text);
    }

    [Fact]
    public async Task Tls_ClientCertificateRequired_ConnectsWithCertificate_AndFailsWithout()
    {
        var (server, port) = await StartServerAsync(requireClientCertificates: true);
        await using var _ = server;
        var options = RedisOptions.Parse($"localhost:{port},ssl=true,password=tls-pass") with { TrustedCertificateAuthority = _authority };
        using var clientCertificate = CreateClientCertificate();
        await using (var withCertificate = await RedisConnection.ConnectAsync(options with { ClientCertificate = clientCertificate }, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))
        {
            Assert.True(await withCertificate.PingAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct) > TimeSpan.Zero);
        }

        // TLS 1.3 reports a missing client certificate after the handshake, so the failure may surface on the first read.
        await Assert.ThrowsAnyAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Tls_UntrustedServerCertificate_FailsWithTlsMessage()
    {
        var options = RedisOptions.Parse($"localhost:{_port},ssl=true,password=tls-pass");
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains("TLS handshake", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_WrongHostName_FailsEvenWithPinnedAuthority()
    {
        var options = RedisOptions.Parse($"127.0.0.1:{_port},ssl=true,password=tls-pass,sslHost=not-this-host") with { TrustedCertificateAuthority = _authority };
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains("TLS handshake", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlainTcp_AgainstTlsPort_FailsWithoutHanging()
    {
        var options = RedisOptions.Parse($"127.0.0.1:{_port},password=tls-pass,connectTimeout=1000");
        // The server answers with a TLS alert (a protocol violation to us) or closes the connection.
        await Assert.ThrowsAnyAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }
}
