using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Tests.Infrastructure;
using Catbird.Testing;

namespace Catbird.Kas.Api.Tests.Interop;

/// <summary><c>@opentdf/client</c> 1.3.0 encrypts with our KAS certificate and decrypts through our rewrap.</summary>
[Trait("Category", "Interop")]
public sealed class OpenTdfClientInteropTests : IAsyncLifetime
{
    private const string Attribute = "https://example.com/attr/classification/value/secret";
    private readonly TestIdentity _identity = new();
    private KasHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var rsaPath = Path.Combine(_identity.Directory, "kas-rsa.pem");
        await File.WriteAllTextAsync(rsaPath, rsa.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
        var configuration = _identity.Configuration();
        configuration["KAS_RSA_KEY_PATH"] = "r1=" + rsaPath;
        _host = await KasHost.StartAsync(configuration, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _identity.Dispose();
    }

    private string KasUrl => $"http://localhost:{_host.Address.Port}/kas";

    [Fact]
    public async Task Entitled_entity_decrypts_others_and_tampered_bindings_are_refused()
    {
        var file = Path.Combine(_identity.Directory, "hello.ntdf");
        (await Node("encrypt", [KasUrl, Attribute, file, "hello catbird"], "writer", "[]")).EnsureSuccess("encrypt");
        var header = NanoTdfHeader.Parse(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken));
        Assert.Equal(NanoTdfPolicyType.EmbeddedEncrypted, header.Policy.Type);
        Assert.Equal(12, header.TagLength);

        var entitled = await Node("decrypt", [KasUrl, file], "alice", $"[\"{Attribute}\"]");
        var unentitled = await Node("decrypt", [KasUrl, file], "mallory", "[]");

        var tampered = Path.Combine(_identity.Directory, "tampered.ntdf");
        var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
        bytes[header.Bytes.Length - 33 - 8 + 3] ^= 0x01;
        await File.WriteAllBytesAsync(tampered, bytes, TestContext.Current.CancellationToken);
        var tamperedResult = await Node("decrypt", [KasUrl, tampered], "alice", $"[\"{Attribute}\"]");

        Assert.Equal(0, entitled.ExitCode);
        Assert.Equal("hello catbird", entitled.StdOut.Trim());
        Assert.Equal(2, unentitled.ExitCode);
        Assert.Contains("403", unentitled.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, tamperedResult.ExitCode);
        Assert.Contains("403", tamperedResult.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tdf3_client_round_trips_through_the_rsa_key_and_unentitled_is_refused()
    {
        var file = Path.Combine(_identity.Directory, "hello.tdf");
        (await Node("encrypt", [KasUrl, Attribute, file, "hello tdf3"], "writer", "[]", "kas/tdf3-client.mjs")).EnsureSuccess("tdf3 encrypt");

        var entitled = await Node("decrypt", [KasUrl, file], "alice", $"[\"{Attribute}\"]", "kas/tdf3-client.mjs");
        var unentitled = await Node("decrypt", [KasUrl, file], "mallory", "[]", "kas/tdf3-client.mjs");

        Assert.True(entitled.ExitCode == 0, entitled.StdOut + entitled.StdErr);
        Assert.Equal("hello tdf3", entitled.StdOut.Trim());
        Assert.Equal(2, unentitled.ExitCode);
        Assert.Contains("403", unentitled.StdOut, StringComparison.Ordinal);
    }

    private Task<NodeResult> Node(string command, string[] args, string subject, string entitlements, string script = "kas/nano-client.mjs") =>
        NodeScript.RunAsync(script, [command, .. args], new Dictionary<string, string>
        {
            ["ISSUER_KEY_PEM"] = _identity.Issuer.ExportPkcs8PrivateKeyPem(),
            ["SUBJECT"] = subject,
            ["ENTITLEMENTS"] = entitlements,
        }, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
}
