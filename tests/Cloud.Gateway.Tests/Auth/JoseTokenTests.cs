using System.Text.Json;
using Catbird.Cloud.Gateway.Auth;
using Catbird.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Catbird.Cloud.Gateway.Tests.Auth;

/// <summary>Tokens minted by npm <c>jose</c> (tests/interop/gateway/mint-tokens.mjs) and a JWKS served over HTTP.</summary>
public sealed class JoseTokens : IAsyncLifetime
{
    public const string Issuer = "https://id.catbird.test";
    public const string Audience = "https://cloud.catbird.test";

    private WebApplication? _app;

    public Dictionary<string, string> Tokens { get; } = [];

    public string Jwks { get; private set; } = "";

    public string RotatedJwks { get; private set; } = "";

    /// <summary>What the JWKS endpoint serves now; null answers 503 (provider down).</summary>
    public volatile string? Served;

    public int Fetches;

    public Uri JwksUrl { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var result = (await NodeScript.RunAsync("gateway/mint-tokens.mjs", [Issuer, Audience], null, TimeSpan.FromSeconds(60), ct))
            .EnsureSuccess("mint-tokens.mjs");
        using var output = JsonDocument.Parse(result.StdOut);
        Jwks = output.RootElement.GetProperty("jwks").GetRawText();
        RotatedJwks = output.RootElement.GetProperty("rotatedJwks").GetRawText();
        foreach (var token in output.RootElement.GetProperty("tokens").EnumerateObject())
        {
            Tokens[token.Name] = token.Value.GetString()!;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/.well-known/jwks.json", () =>
        {
            Interlocked.Increment(ref Fetches);
            return Served is { } jwks ? Results.Text(jwks, "application/json") : Results.StatusCode(503);
        });
        await _app.StartAsync(ct).WaitAsync(TimeSpan.FromSeconds(20), ct);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        JwksUrl = new Uri(new Uri(address), "/.well-known/jwks.json");
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            await _app.DisposeAsync();
        }
    }
}

[Trait("Category", "Interop")]
public sealed class JoseTokenTests(JoseTokens fixture) : IClassFixture<JoseTokens>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private (BearerTokenValidator Validator, JwksProvider Provider, HttpClient Http) Create(TimeSpan? unknownKidInterval = null)
    {
        var http = new HttpClient();
        var provider = new JwksProvider(
            new JwksOptions { JwksUrl = fixture.JwksUrl, UnknownKidRefetchInterval = unknownKidInterval ?? TimeSpan.FromMinutes(5) },
            http, TimeProvider.System, NullLogger<JwksProvider>.Instance);
        var validator = new BearerTokenValidator(provider, new TokenRules { Issuer = JoseTokens.Issuer, Audience = JoseTokens.Audience },
            TimeProvider.System);
        return (validator, provider, http);
    }

    [Fact]
    public async Task EdDSA_ES256_and_RS256_tokens_verify_and_every_forgery_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        fixture.Served = fixture.Jwks;
        var (validator, provider, http) = Create();
        using var _ = http;
        Assert.True(await provider.RefreshAsync(ct).WaitAsync(Timeout, ct));

        foreach (var name in new[] { "eddsa", "es256", "rs256", "withinLeeway" })
        {
            var (token, error) = await validator.ValidateAsync(fixture.Tokens[name], ct).AsTask().WaitAsync(Timeout, ct);
            Assert.True(token is not null, $"{name}: {error}");
            Assert.Equal("alice»0001", token.Subject);
        }

        var refused = new Dictionary<string, string>
        {
            ["expired"] = "expired",
            ["noExp"] = "exp missing",
            ["wrongAud"] = "wrong audience",
            ["wrongIss"] = "wrong issuer",
            ["algNone"] = "not a signed JWT",
            ["hs256PublicX"] = "algorithm not accepted",
            ["hs256PublicPem"] = "algorithm not accepted",
            ["kidMismatch"] = "bad signature",
            ["tampered"] = "bad signature",
        };
        foreach (var (name, reason) in refused)
        {
            var (token, error) = await validator.ValidateAsync(fixture.Tokens[name], ct).AsTask().WaitAsync(Timeout, ct);
            Assert.Null(token);
            Assert.Equal(reason, error);
        }
    }

    [Fact]
    public async Task Unknown_kid_refetches_once_within_the_rate_limit_and_picks_up_a_rotated_key()
    {
        var ct = TestContext.Current.CancellationToken;
        fixture.Served = fixture.Jwks;
        var (validator, provider, http) = Create();
        using var _ = http;
        Assert.True(await provider.RefreshAsync(ct).WaitAsync(Timeout, ct));

        // Not published yet: one refetch, still unknown; a second attempt inside the interval does not fetch again.
        var before = fixture.Fetches;
        Assert.Equal("unknown kid", (await validator.ValidateAsync(fixture.Tokens["rotated"], ct).AsTask().WaitAsync(Timeout, ct)).Error);
        Assert.Equal(before + 1, fixture.Fetches);
        fixture.Served = fixture.RotatedJwks;
        Assert.Equal("unknown kid", (await validator.ValidateAsync(fixture.Tokens["rotated"], ct).AsTask().WaitAsync(Timeout, ct)).Error);
        Assert.Equal(before + 1, fixture.Fetches);

        // With the limit elapsed the rotated key is fetched and accepted.
        var (fast, fastProvider, fastHttp) = Create(TimeSpan.Zero);
        using var __ = fastHttp;
        fixture.Served = fixture.Jwks;
        Assert.True(await fastProvider.RefreshAsync(ct).WaitAsync(Timeout, ct));
        fixture.Served = fixture.RotatedJwks;
        var (token, error) = await fast.ValidateAsync(fixture.Tokens["rotated"], ct).AsTask().WaitAsync(Timeout, ct);
        Assert.True(token is not null, error);
    }

    [Fact]
    public async Task Provider_down_keeps_serving_the_cached_keys_and_reports_degraded()
    {
        var ct = TestContext.Current.CancellationToken;
        fixture.Served = fixture.Jwks;
        var (validator, provider, http) = Create();
        using var _ = http;
        var context = new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded,
            (await provider.CheckHealthAsync(context, ct).WaitAsync(Timeout, ct)).Status);
        Assert.True(await provider.RefreshAsync(ct).WaitAsync(Timeout, ct));
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            (await provider.CheckHealthAsync(context, ct).WaitAsync(Timeout, ct)).Status);

        fixture.Served = null;
        Assert.False(await provider.RefreshAsync(ct).WaitAsync(Timeout, ct));
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded,
            (await provider.CheckHealthAsync(context, ct).WaitAsync(Timeout, ct)).Status);
        var (token, error) = await validator.ValidateAsync(fixture.Tokens["eddsa"], ct).AsTask().WaitAsync(Timeout, ct);
        Assert.True(token is not null, error);
        fixture.Served = fixture.Jwks;
    }
}
