using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Catbird.Nats;
using Catbird.Nats.JetStream;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Nats;

[Trait("Category", "Service")]
public sealed class NatsFeatureTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_ordered_consumer_reads_in_order_and_continues_after_a_restart_without_gaps()
    {
        await using var server = await NatsServer.StartAsync(ct: Ct);
        await using var connection = new NatsConnection(NatsOpts.FromUrl(server.Url) with { ReconnectWait = TimeSpan.FromMilliseconds(50) });
        var js = new NatsJSContext(connection);
        await js.CreateStreamAsync(new StreamConfig { Name = "ORDERED", Subjects = ["ordered.>"] }, Ct);
        for (var i = 1; i <= 5; i++)
        {
            await js.PublishAsync("ordered.x", Encoding.UTF8.GetBytes(i.ToString()), ct: Ct);
        }

        using var reading = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        reading.CancelAfter(TimeSpan.FromSeconds(45));
        var consumer = new NatsJSOrderedConsumer(js, "ORDERED", new NatsJSOrderedConsumerOpts { IdleHeartbeat = TimeSpan.FromMilliseconds(500) });
        var seen = new List<int>();
        await foreach (var msg in consumer.ConsumeAsync(reading.Token))
        {
            seen.Add(int.Parse(Encoding.UTF8.GetString(msg.Data.Span)));
            if (seen.Count == 5)
            {
                await server.RestartAsync(Ct);
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        for (var i = 6; i <= 8; i++)
                        {
                            await js.PublishAsync("ordered.x", Encoding.UTF8.GetBytes(i.ToString()), new NatsJSPubOpts { MsgId = $"m{i}" }, ct: Ct);
                        }

                        break;
                    }
                    catch (NatsException) when (attempt < 100)
                    {
                        await Task.Delay(100, Ct);
                    }
                }
            }

            if (seen.Count == 8)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(1, 8), seen);
        Assert.Equal(8, consumer.LastStreamSequence);
    }

    [Fact]
    public async Task Trace_context_travels_in_headers_from_publisher_to_handler()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Catbird.Nats",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);

        await using var connection = new NatsConnection(nats.Server.Url);
        await using var subscription = await connection.SubscribeAsync("traced.subject", ct: Ct);
        using var parent = new ActivitySource("Catbird.Test").StartActivity("caller");
        await connection.PublishAsync("traced.subject", "x"u8.ToArray(), ct: Ct);
        var msg = await subscription.Msgs.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var traceparent = msg.Headers!.GetLast("traceparent");
        Assert.NotNull(traceparent);
        using var handling = msg.StartActivity();
        Assert.NotNull(handling);
        Assert.Equal(ActivityKind.Consumer, handling.Kind);
        Assert.Equal(ActivityContext.Parse(traceparent, null).TraceId, handling.TraceId);
        Assert.Equal("nats", handling.GetTagItem("messaging.system"));
    }

    [Fact]
    public async Task Tls_with_a_pinned_ca_connects_and_an_unknown_ca_is_refused()
    {
        var directory = ServerBinaries.NewTempDirectory("natstls");
        try
        {
            var (caPem, certPem, keyPem) = MakeCertificates();
            var caFile = Path.Combine(directory, "ca.pem");
            var certFile = Path.Combine(directory, "server.pem");
            var keyFile = Path.Combine(directory, "server-key.pem");
            await File.WriteAllTextAsync(caFile, caPem, Ct);
            await File.WriteAllTextAsync(certFile, certPem, Ct);
            await File.WriteAllTextAsync(keyFile, keyPem, Ct);
            await using var server = await NatsServer.StartAsync(new NatsServerOptions
            {
                JetStream = false,
                ExtraConfig = $"tls {{ cert_file: \"{certFile}\", key_file: \"{keyFile}\" }}",
            }, Ct);

            await using (var pinned = new NatsConnection(NatsOpts.FromUrl($"nats://localhost:{server.Port}") with { Tls = new NatsTlsOpts { CaFile = caFile } }))
            {
                await pinned.PingAsync(Ct);
                Assert.True(pinned.ServerInfo!.TlsRequired);
            }

            var otherCa = Path.Combine(directory, "other-ca.pem");
            await File.WriteAllTextAsync(otherCa, MakeCertificates().CaPem, Ct);
            await using var untrusted = new NatsConnection(NatsOpts.FromUrl($"nats://localhost:{server.Port}") with { Tls = new NatsTlsOpts { CaFile = otherCa } });
            await Assert.ThrowsAsync<NatsConnectionException>(async () => await untrusted.ConnectAsync(Ct));
        }
        finally
        {
            ServerBinaries.DeleteDirectory(directory);
        }
    }

    private static (string CaPem, string CertPem, string KeyPem) MakeCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Catbird Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        return (ca.ExportCertificatePem(), certificate.ExportCertificatePem(), serverKey.ExportPkcs8PrivateKeyPem());
    }
}
