using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Tests.Service;
using Catbird.Testing;

namespace Catbird.Kas.Api.Tests.Interop;

/// <summary>
/// <c>@opentdf/client</c> 1.3.0 encrypts for a Catbird conversation attribute; decryption goes through our rewrap,
/// which asks the membership service over NATS: the member decrypts, a non-member and a tampered binding get 403.
/// </summary>
[Trait("Category", "Interop")]
public sealed class OpenTdfMembershipInteropTests(MembershipFixture fixture) : IClassFixture<MembershipFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Member_decrypts_non_member_and_tampered_binding_are_refused()
    {
        var kasUrl = $"http://localhost:{fixture.Host.Address.Port}/kas";
        var file = Path.Combine(fixture.Identity.Directory, "convo.ntdf");
        (await Node("encrypt", [kasUrl, MembershipFixture.Prefix + "c1", file, "hello members"], "writer")).EnsureSuccess("encrypt");
        var bytes = await File.ReadAllBytesAsync(file, Ct);
        var header = NanoTdfHeader.Parse(bytes);
        bytes[header.Bytes.Length - 33 - 8] ^= 0x80;
        var tampered = Path.Combine(fixture.Identity.Directory, "convo-tampered.ntdf");
        await File.WriteAllBytesAsync(tampered, bytes, Ct);

        var member = await Node("decrypt", [kasUrl, file], "alice");
        var nonMember = await Node("decrypt", [kasUrl, file], "bob");
        var tamperedResult = await Node("decrypt", [kasUrl, tampered], "alice");

        Assert.True(member.ExitCode == 0, member.StdOut + member.StdErr);
        Assert.Equal("hello members", member.StdOut.Trim());
        Assert.Equal(2, nonMember.ExitCode);
        Assert.Contains("403", nonMember.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, tamperedResult.ExitCode);
        Assert.Contains("403", tamperedResult.StdOut, StringComparison.Ordinal);
    }

    private Task<NodeResult> Node(string command, string[] args, string subject) =>
        NodeScript.RunAsync("kas/nano-client.mjs", [command, .. args], new Dictionary<string, string>
        {
            ["ISSUER_KEY_PEM"] = fixture.Identity.Issuer.ExportPkcs8PrivateKeyPem(),
            ["SUBJECT"] = subject,
            ["ENTITLEMENTS"] = "[]",
        }, TimeSpan.FromSeconds(60), Ct);
}
