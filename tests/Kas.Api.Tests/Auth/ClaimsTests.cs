using System.Text.Json;
using Catbird.Kas.Api.Auth;

namespace Catbird.Kas.Api.Tests.Auth;

[Trait("Category", "Unit")]
public sealed class ClaimsTests
{
    [Fact]
    public void Entity_reads_names_entitlements_signing_key_and_confirmation()
    {
        using var claims = JsonDocument.Parse("""
            {"sub":"u1","email":"u1@example.com","azp":"web","entitlements":["https://a/attr/x/value/1"],
             "tdf_claims":{"client_public_signing_key":"PEM","entitlements":[{"entity_identifier":"u1",
               "entity_attributes":[{"attribute":"https://a/attr/y/value/2","displayName":"y"}]}]},
             "cnf":{"jkt":"thumb"}}
            """);

        var entity = OidcTokenValidator.ReadEntity(claims.RootElement, "token");

        Assert.Equal("u1", entity.Subject);
        Assert.Equal(["u1", "u1@example.com", "web"], entity.Identifiers);
        Assert.Equal(["https://a/attr/x/value/1", "https://a/attr/y/value/2"], entity.Entitlements);
        Assert.Equal("PEM", entity.ClientSigningKeyPem);
        Assert.Equal("thumb", entity.ConfirmationThumbprint);
        Assert.True(entity.IsNamed("U1@EXAMPLE.COM"));
    }

    [Fact]
    public void Token_without_sub_is_refused()
    {
        using var claims = JsonDocument.Parse("""{"iss":"x"}""");

        Assert.Throws<BearerTokenException>(() => OidcTokenValidator.ReadEntity(claims.RootElement, "token"));
    }

    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("DPoP abc", "abc")]
    [InlineData("bearer  abc ", "abc")]
    [InlineData("Basic abc", null)]
    [InlineData("Bearer", null)]
    [InlineData("", null)]
    public void Authorization_schemes(string header, string? token) => Assert.Equal(token, BearerAuthenticator.TokenFrom(header));

    [Fact]
    public void Jwk_thumbprint_matches_rfc7638_example()
    {
        using var jwk = JsonDocument.Parse("""
            {"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}
            """);

        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", Jws.Thumbprint(jwk.RootElement));
    }
}

[Trait("Category", "Unit")]
public sealed class JwsTests
{
    [Theory]
    [InlineData("ES256", "nistP256", true)]
    [InlineData("ES256", "secp256k1", false)]
    [InlineData("ES256K", "secp256k1", true)]
    [InlineData("ES256K", "nistP256", false)]
    [InlineData("ES384", "nistP384", true)]
    [InlineData("ES512", "nistP521", true)]
    [InlineData("HS256", "nistP256", false)]
    [InlineData("none", "nistP256", false)]
    public void Algorithms_must_match_the_key_curve(string alg, string curveName, bool verifies)
    {
        var curve = curveName switch
        {
            "nistP256" => System.Security.Cryptography.ECCurve.NamedCurves.nistP256,
            "nistP384" => System.Security.Cryptography.ECCurve.NamedCurves.nistP384,
            "nistP521" => System.Security.Cryptography.ECCurve.NamedCurves.nistP521,
            _ => System.Security.Cryptography.ECCurve.CreateFromValue("1.3.132.0.10"),
        };
        using var key = System.Security.Cryptography.ECDsa.Create(curve);
        var hash = alg switch { "ES384" => System.Security.Cryptography.HashAlgorithmName.SHA384, "ES512" => System.Security.Cryptography.HashAlgorithmName.SHA512, _ => System.Security.Cryptography.HashAlgorithmName.SHA256 };
        var input = Jws.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes($$"""{"alg":"{{alg}}"}""")) + "." + Jws.Base64UrlEncode("{}"u8);
        var token = input + "." + Jws.Base64UrlEncode(key.SignData(System.Text.Encoding.ASCII.GetBytes(input), hash));

        Assert.Equal(verifies, Jws.Parse(token)!.VerifyWith(key));
    }
}
