using System.Numerics;
using System.Text;
using System.Text.Json;
using Catbird.Identity.Crypto;
using Catbird.Identity.Did;
using Catbird.Identity.Jwt;
using Catbird.Testing;

namespace Catbird.Mls.Api.Tests;

/// <summary>Tokens minted once by @atproto/crypto + @atproto/xrpc-server for the whole class.</summary>
public sealed class MintedTokens : IAsyncLifetime
{
    public const string Audience = "did:web:mls.example.com";
    public const string Lxm = "blue.catbird.mls.sendMessage";

    public JsonElement K256 { get; private set; }

    public JsonElement P256 { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var result = await NodeScript.RunAsync("mls/mint-service-jwt.mjs", [Audience, Lxm, "3"], null, TimeSpan.FromSeconds(60), ct);
        Assert.True(result.ExitCode == 0, result.StdErr);
        using var document = JsonDocument.Parse(result.StdOut);
        K256 = document.RootElement.GetProperty("k256").Clone();
        P256 = document.RootElement.GetProperty("p256").Clone();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

[Trait("Category", "Interop")]
public sealed class ServiceJwtInteropTests(MintedTokens minted) : IClassFixture<MintedTokens>
{
    private static readonly ServiceJwtExpectations Expect = new([MintedTokens.Audience, MintedTokens.Audience + "#atproto_mls"], MintedTokens.Lxm);

    public static TheoryData<string> Curves => new() { "k256", "p256" };

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task Real_tokens_verify_once_and_replays_are_refused(string curve)
    {
        var ct = TestContext.Current.CancellationToken;
        var identity = Identity(curve);
        await using var directory = await DidDirectoryServer.StartAsync(ct);
        var did = identity.GetProperty("did").GetString()!;
        var key = AtprotoPublicKey.FromDidKey(identity.GetProperty("didKey").GetString()!);
        directory.Register(did, curve == "k256" ? DidDocuments.Multikey(did, key) : DidDocuments.LegacyPlc(did, key));
        var verifier = Verifier(directory, out _);

        var tokens = identity.GetProperty("tokens");
        foreach (var token in tokens.GetProperty("valid").EnumerateArray())
        {
            var verified = await verifier.VerifyAsync(token.GetString()!, Expect, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
            Assert.Equal(did, verified.IssuerDid);
            Assert.Equal(MintedTokens.Lxm, verified.Lxm);
            Assert.Equal(key.JwtAlgorithm, verified.Algorithm);
            Assert.Equal(32, verified.Jti.Length);
        }
        Assert.Equal(1, directory.Fetches);

        var replay = tokens.GetProperty("valid")[0].GetString()!;
        await AssertRefused(verifier, replay, ServiceJwtError.ReplayedToken);

        var fragment = await verifier.VerifyAsync(tokens.GetProperty("fragmentIssuer").GetString()!, Expect, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(did, fragment.IssuerDid);
        Assert.Equal(did + "#atproto_labeler", fragment.Issuer);
        var withFragmentAud = await verifier.VerifyAsync(tokens.GetProperty("audWithFragment").GetString()!, Expect, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(MintedTokens.Audience + "#atproto_mls", withFragmentAud.Audience);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task Bad_tokens_are_refused_with_their_error(string curve)
    {
        var ct = TestContext.Current.CancellationToken;
        var identity = Identity(curve);
        await using var directory = await DidDirectoryServer.StartAsync(ct);
        var did = identity.GetProperty("did").GetString()!;
        var key = AtprotoPublicKey.FromDidKey(identity.GetProperty("didKey").GetString()!);
        directory.Register(did, DidDocuments.Multikey(did, key));
        var verifier = Verifier(directory, out _);
        var tokens = identity.GetProperty("tokens");
        var valid = tokens.GetProperty("valid")[1].GetString()!;

        await AssertRefused(verifier, tokens.GetProperty("wrongAud").GetString()!, ServiceJwtError.BadJwtAudience);
        await AssertRefused(verifier, tokens.GetProperty("wrongLxm").GetString()!, ServiceJwtError.BadJwtLexiconMethod);
        await AssertRefused(verifier, tokens.GetProperty("noLxm").GetString()!, ServiceJwtError.BadJwtLexiconMethod);
        await AssertRefused(verifier, tokens.GetProperty("expired").GetString()!, ServiceJwtError.ExpiredToken);
        await AssertRefused(verifier, tokens.GetProperty("longLived").GetString()!, ServiceJwtError.BadJwt);

        var parts = valid.Split('.');
        await AssertRefused(verifier, $"{parts[0]}.{parts[1]}.{FlipSignature(parts[2])}", ServiceJwtError.BadJwtSignature);
        await AssertRefused(verifier, $"{parts[0]}.{parts[1]}.{HighS(parts[2], key.Curve)}", ServiceJwtError.BadJwtSignature);
        await AssertRefused(verifier, $"{Segment("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}.", ServiceJwtError.BadJwt);
        await AssertRefused(verifier, $"{Segment("""{"alg":"HS256","typ":"JWT"}""")}.{parts[1]}.{parts[2]}", ServiceJwtError.BadJwt);
        await AssertRefused(verifier, $"{Segment("""{"alg":"ES256K","typ":"at+jwt"}""")}.{parts[1]}.{parts[2]}", ServiceJwtError.BadJwtType);
        await AssertRefused(verifier, "not-a-jwt", ServiceJwtError.BadJwt);
        await AssertRefused(verifier, $"{parts[0]}.{parts[1]}", ServiceJwtError.BadJwt);
        await AssertRefused(verifier, $"{parts[0]}.e30.{parts[2]}", ServiceJwtError.BadJwtIssuer);

        // The valid token still verifies afterwards: failed attempts did not burn its jti.
        await verifier.VerifyAsync(valid, Expect, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
    }

    [Fact]
    public async Task Unknown_did_and_rotated_key_paths()
    {
        var ct = TestContext.Current.CancellationToken;
        var identity = minted.K256;
        await using var directory = await DidDirectoryServer.StartAsync(ct);
        var did = identity.GetProperty("did").GetString()!;
        var verifier = Verifier(directory, out _);
        var tokens = identity.GetProperty("tokens").GetProperty("valid");
        await AssertRefused(verifier, tokens[0].GetString()!, ServiceJwtError.BadJwtIssuer);

        // A stale cached key is replaced by one refetch after the signature fails.
        directory.Register(did, DidDocuments.Multikey(did, AtprotoPublicKey.FromMultikey("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")));
        await AssertRefused(verifier, tokens[0].GetString()!, ServiceJwtError.BadJwtSignature);
        var fetchesBefore = directory.Fetches;
        directory.Register(did, DidDocuments.Multikey(did, AtprotoPublicKey.FromDidKey(identity.GetProperty("didKey").GetString()!)));
        await verifier.VerifyAsync(tokens[1].GetString()!, Expect, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(fetchesBefore + 1, directory.Fetches);
    }

    private JsonElement Identity(string curve) => curve == "k256" ? minted.K256 : minted.P256;

    private static ServiceJwtVerifier Verifier(DidDirectoryServer directory, out DidResolver resolver)
    {
        resolver = new DidResolver(new DidResolverOptions { PlcDirectoryUrl = directory.Url }, new HttpClient());
        return new ServiceJwtVerifier(resolver, new MemoryJtiReplayStore());
    }

    private static async Task AssertRefused(ServiceJwtVerifier verifier, string token, ServiceJwtError expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var error = await Assert.ThrowsAsync<ServiceJwtException>(() => verifier.VerifyAsync(token, Expect, ct).WaitAsync(TimeSpan.FromSeconds(10), ct));
        Assert.Equal(expected, error.Error);
    }

    private static string Segment(string json) => B64Url(Encoding.UTF8.GetBytes(json));

    private static string B64Url(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string FlipSignature(string segment)
    {
        var bytes = Base64UrlText.Decode(segment);
        bytes[10] ^= 0x20;
        return B64Url(bytes);
    }

    private static string HighS(string segment, AtprotoCurve curve)
    {
        var order = BigInteger.Parse(curve == AtprotoCurve.P256
            ? "0ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
            : "0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", System.Globalization.NumberStyles.HexNumber);
        var bytes = Base64UrlText.Decode(segment);
        var s = new BigInteger(bytes.AsSpan(32), isUnsigned: true, isBigEndian: true);
        var high = (order - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes.AsSpan(32).Clear();
        high.CopyTo(bytes.AsSpan(64 - high.Length));
        return B64Url(bytes);
    }
}
