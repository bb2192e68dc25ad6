using Catbird.Kas.Api.NanoTdf;

namespace Catbird.Kas.Api.Tests.NanoTdf;

/// <summary>
/// NanoTDFs written by real clients: the Go SDK (<c>opentdf/platform examples/cmd/testdata/nano-valid.ntdf</c>, before
/// NanoTDF was removed) and web-sdk 1.x fixtures (<c>lib/tests/web/*.ntdf</c>). No private keys exist for them, so
/// the tests cover parsing and the SHA-256-tail binding, which needs no key.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RealClientHeaderTests
{
    private static byte[] Vector(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Vectors", name));

    [Fact]
    public void Go_sdk_header_with_kid_parses_and_its_binding_is_the_sha256_tail()
    {
        var header = NanoTdfHeader.Parse(Vector("go-nano-valid.ntdf"));

        Assert.Equal(172, header.Bytes.Length);
        Assert.Equal(ResourceProtocol.Http, header.Kas.Protocol);
        Assert.Equal("localhost:65432/kas", header.Kas.Body);
        Assert.Equal("e1", header.Kas.Identifier);
        Assert.False(header.UseEcdsaBinding);
        Assert.Equal(NanoTdfCurve.Secp256r1, header.Curve);
        Assert.Equal(1, header.Cipher);
        Assert.Equal(NanoTdfPolicyType.EmbeddedEncrypted, header.Policy.Type);
        Assert.Equal(100, header.Policy.Body.Length);
        Assert.Equal("12dd9c9f91282403", Convert.ToHexStringLower(header.Policy.Binding));
        Assert.Equal(PolicyBindingKind.Sha256Tail, NanoTdfCrypto.VerifyBinding(header, ReadOnlySpan<byte>.Empty));
        Assert.Equal(header.Bytes, header.ToBytes());
    }

    [Theory]
    [InlineData("web-sdk-data.txt.ntdf", NanoTdfPolicyType.EmbeddedEncrypted)]
    [InlineData("web-sdk-data.attr.txt.ntdf", NanoTdfPolicyType.EmbeddedEncrypted)]
    [InlineData("web-sdk-data.dissem.txt.ntdf", NanoTdfPolicyType.EmbeddedEncrypted)]
    public void Web_sdk_1x_headers_parse_with_their_binding(string name, NanoTdfPolicyType type)
    {
        var header = NanoTdfHeader.Parse(Vector(name));

        Assert.Equal("https://kas-development.preprod.virtru.com", header.Kas.Url);
        Assert.Null(header.Kas.Identifier);
        Assert.Equal(type, header.Policy.Type);
        Assert.Equal(12, header.TagLength);
        Assert.Equal(33, header.EphemeralPublicKey.Length);
        Assert.Equal(header.Bytes, header.ToBytes());
        Assert.Equal(PolicyBindingKind.Sha256Tail, NanoTdfCrypto.VerifyBinding(header, ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Web_sdk_bad_magic_fixture_is_refused()
    {
        var error = Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(Vector("web-sdk-bad-magicnumber.ntdf")));

        Assert.Contains("magic", error.Message, StringComparison.Ordinal);
    }
}
