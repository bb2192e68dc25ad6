using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Tests.Infrastructure;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>One Kas.Api on a real socket shared by the rewrap tests (no NATS: conversation attributes fail closed).</summary>
public sealed class RewrapHostFixture : IAsyncLifetime
{
    internal TestIdentity Identity { get; } = new();

    internal KasHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Host = await KasHost.StartAsync(Identity.Configuration(), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Identity.Dispose();
    }
}

[Trait("Category", "Service")]
public sealed class RewrapTests(RewrapHostFixture fixture) : IClassFixture<RewrapHostFixture>
{
    private const string Secret = "https://example.com/attr/classification/value/secret";
    private readonly TestIdentity _identity = fixture.Identity;
    private readonly HttpClient _http = fixture.Host.Client;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public async Task V1_request_gets_entity_wrapped_key_with_the_header_tag_length(byte cipher)
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy([Secret]), new NanoTdfCreateOptions { Cipher = cipher });

        var (status, json) = await RewrapAsync(client, _identity.AccessToken("alice", client, [Secret]),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes)));

        Assert.Equal(HttpStatusCode.OK, status);
        var dek = client.Unwrap(json!["sessionPublicKey"]!.GetValue<string>(), json["entityWrappedKey"]!.GetValue<string>(), nano.Header.TagLength);
        Assert.Equal(nano.Dek, dek);
    }

    [Fact]
    public async Task V2_request_gets_per_kao_results_with_16_byte_tags()
    {
        using var client = new TestClient();
        var permitted = _identity.CreateNanoTdf(TestIdentity.Policy([Secret]));
        var refused = _identity.CreateNanoTdf(TestIdentity.Policy(["https://example.com/attr/classification/value/topsecret"]));
        var plaintext = _identity.CreateNanoTdf(TestIdentity.Policy([Secret]),
            new NanoTdfCreateOptions { PolicyType = NanoTdfPolicyType.EmbeddedPlaintext, Binding = NanoTdfBindingStyle.EcdsaLengthPrefixed }, kid: "e1");

        var (status, json) = await RewrapAsync(client, _identity.AccessToken("alice", client, [Secret]),
            client.SignedRequestToken(TestClient.V2Body(client.ClientPublicKeyPem,
                ("kao-0", permitted.Header.Bytes), ("kao-1", refused.Header.Bytes), ("kao-2", plaintext.Header.Bytes))));

        Assert.Equal(HttpStatusCode.OK, status);
        var results = json!["responses"]![0]!["results"]!.AsArray();
        var session = json["sessionPublicKey"]!.GetValue<string>();
        Assert.Equal("permit", results[0]!["status"]!.GetValue<string>());
        Assert.Equal(permitted.Dek, client.Unwrap(session, results[0]!["kasWrappedKey"]!.GetValue<string>(), 16));
        Assert.Equal("fail", results[1]!["status"]!.GetValue<string>());
        Assert.Contains("forbidden", results[1]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("permit", results[2]!["status"]!.GetValue<string>());
        Assert.Equal(plaintext.Dek, client.Unwrap(session, results[2]!["kasWrappedKey"]!.GetValue<string>(), 16));
    }

    [Fact]
    public async Task Decisions_are_counted_in_metrics()
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy([Secret]));
        var factory = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(fixture.Host.Services);
        var outcomes = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "kas.rewrap.decisions")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcomes.Add((string)tag.Value!);
                }
            }
        });
        listener.Start();

        await RewrapAsync(client, _identity.AccessToken("metrics-user", client, [Secret]),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes)));
        await RewrapAsync(client, _identity.AccessToken("metrics-user", client, []),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes)));

        Assert.Contains("permit", outcomes);
        Assert.Contains("deny", outcomes);
    }

    [Fact]
    public async Task Snake_case_outer_field_is_accepted()
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());
        var srt = client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap")
        {
            Content = new StringContent(new JsonObject { ["signed_request_token"] = srt }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _identity.AccessToken("bob", client));

        var ct = TestContext.Current.CancellationToken;
        using var response = await _http.SendAsync(request, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Dissem_list_must_name_the_entity()
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy(dissem: ["carol@example.com"]));
        var srt = client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes));

        var (denied, _) = await RewrapAsync(client, _identity.AccessToken("dave", client), srt);
        var (allowed, _) = await RewrapAsync(client, _identity.AccessToken("carol-id", client, extra: new JsonObject { ["email"] = "Carol@example.com" }), srt);

        Assert.Equal(HttpStatusCode.Forbidden, denied);
        Assert.Equal(HttpStatusCode.OK, allowed);
    }

    [Fact]
    public async Task Missing_entitlement_is_403()
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy([Secret]));

        var (status, _) = await RewrapAsync(client, _identity.AccessToken("mallory", client, ["https://example.com/attr/x/value/y"]),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes)));

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task Conversation_attribute_without_a_membership_service_is_denied()
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy(["https://catbird.test/attr/convo/value/c1"]));

        var (status, _) = await RewrapAsync(client, _identity.AccessToken("alice", client, ["https://catbird.test/attr/convo/value/c1"]),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
    }

    [Theory]
    [InlineData("binding")]
    [InlineData("policy")]
    public async Task Tampered_header_is_403(string what)
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());
        var header = nano.Header.Bytes.ToArray();
        var bindingAt = header.Length - 33 - 8;
        header[what == "binding" ? bindingAt + 2 : bindingAt - 3] ^= 0x40;

        var (status, _) = await RewrapAsync(client, _identity.AccessToken("alice", client),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, header)));

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task Remote_policy_is_refused_with_a_clear_400()
    {
        using var client = new TestClient();

        var (status, json) = await RewrapAsync(client, _identity.AccessToken("alice", client),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, SpecVectorsHeader())));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("remote policy", json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("magic")]
    [InlineData("curve")]
    [InlineData("not-base64")]
    [InlineData("unknown-kid")]
    public async Task Hostile_headers_are_clean_400s(string kind)
    {
        using var client = new TestClient();
        var header = _identity.CreateNanoTdf(TestIdentity.Policy()).Header.Bytes.ToArray();
        string body;
        switch (kind)
        {
            case "truncated":
                body = TestClient.V1Body(client.ClientPublicKeyPem, header[..40]);
                break;
            case "magic":
                header[0] = 0x00;
                body = TestClient.V1Body(client.ClientPublicKeyPem, header);
                break;
            case "curve":
                header[2 + 2 + header[4] + 1] = 0x05;
                body = TestClient.V1Body(client.ClientPublicKeyPem, header);
                break;
            case "unknown-kid":
                body = TestClient.V1Body(client.ClientPublicKeyPem, _identity.CreateNanoTdf(TestIdentity.Policy(), kid: "zz").Header.Bytes);
                break;
            default:
                body = TestClient.V1Body(client.ClientPublicKeyPem, header).Replace("\"header\":\"", "\"header\":\"!!", StringComparison.Ordinal);
                break;
        }

        var (status, json) = await RewrapAsync(client, _identity.AccessToken("alice", client), client.SignedRequestToken(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrEmpty(json!["detail"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Alg_none_request_token_is_401()
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());

        var (status, _) = await RewrapAsync(client, _identity.AccessToken("alice", client),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes), alg: "none"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Request_token_signed_by_another_key_is_401()
    {
        using var client = new TestClient();
        using var other = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());

        var (status, _) = await RewrapAsync(client, _identity.AccessToken("alice", client),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes), signer: other.SigningKey));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Unbound_access_token_is_401()
    {
        using var client = new TestClient();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());

        var (status, _) = await RewrapAsync(client, _identity.AccessToken("alice"),
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes)));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("garbage")]
    [InlineData("foreign-issuer")]
    [InlineData("expired")]
    public async Task Bad_bearer_tokens_are_401(string kind)
    {
        using var client = new TestClient();
        using var foreign = new TestIdentity();
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());
        var bearer = kind switch
        {
            "none" => null,
            "garbage" => "abc.def.ghi",
            "foreign-issuer" => foreign.AccessToken("alice", client),
            _ => _identity.AccessToken("alice", client, lifetime: TimeSpan.FromMinutes(-30)),
        };

        var (status, _) = await RewrapAsync(client, bearer,
            client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes)));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Dpop_bound_token_uses_the_proof_key()
    {
        using var client = new TestClient();
        var jwk = JwkOf(client.SigningKey);
        var jkt = Catbird.Kas.Api.Auth.Jws.Thumbprint(JsonDocument.Parse(jwk.ToJsonString()).RootElement)!;
        var token = _identity.AccessToken("dpop-user", extra: new JsonObject { ["cnf"] = new JsonObject { ["jkt"] = jkt } });
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());
        var srt = client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes));

        var withProof = await RewrapAsync(client, token, srt, Proof(client.SigningKey, jwk, fixture.Host.Address + "kas/v2/rewrap"));
        var withoutProof = await RewrapAsync(client, token, srt);
        using var stranger = new TestClient();
        var wrongKey = await RewrapAsync(client, token, srt, Proof(stranger.SigningKey, JwkOf(stranger.SigningKey), fixture.Host.Address + "kas/v2/rewrap"));

        Assert.Equal(HttpStatusCode.OK, withProof.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutProof.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.Status);
    }

    [Fact]
    public async Task Non_ec_client_key_and_bad_bodies_are_400()
    {
        using var client = new TestClient();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var nano = _identity.CreateNanoTdf(TestIdentity.Policy());
        var token = _identity.AccessToken("alice", client);

        var rsaKey = await RewrapAsync(client, token, client.SignedRequestToken(TestClient.V1Body(rsa.ExportSubjectPublicKeyInfoPem(), nano.Header.Bytes)));
        var noKao = await RewrapAsync(client, token, client.SignedRequestToken("""{"clientPublicKey":"x"}"""));
        using var notJson = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap") { Content = new StringContent("{not json") };
        notJson.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var notJsonResponse = await _http.SendAsync(notJson, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, rsaKey.Status);
        Assert.Equal(HttpStatusCode.BadRequest, noKao.Status);
        Assert.Equal(HttpStatusCode.BadRequest, notJsonResponse.StatusCode);
    }

    [Fact]
    public async Task Cors_preflight_allows_the_configured_origin_only()
    {
        async Task<HttpResponseMessage> Preflight(string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Options, "/kas/v2/rewrap");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,virtru-ntdf-version");
            return await _http.SendAsync(request, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }

        using var allowed = await Preflight("https://app.catbird.test");
        using var other = await Preflight("https://evil.test");

        Assert.Equal("https://app.catbird.test", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private static byte[] SpecVectorsHeader() => Catbird.Kas.Api.Tests.NanoTdf.SpecVectors.Example61[..142];

    private static JsonObject JwkOf(System.Security.Cryptography.ECDsa key)
    {
        var q = key.ExportParameters(false).Q;
        return new JsonObject
        {
            ["kty"] = "EC", ["crv"] = "P-256",
            ["x"] = Catbird.Kas.Api.Auth.Jws.Base64UrlEncode(q.X), ["y"] = Catbird.Kas.Api.Auth.Jws.Base64UrlEncode(q.Y),
        };
    }

    private static string Proof(System.Security.Cryptography.ECDsa key, JsonObject jwk, string htu) => TestIdentity.Sign(key,
        new JsonObject { ["alg"] = "ES256", ["typ"] = "dpop+jwt", ["jwk"] = jwk },
        new JsonObject { ["htm"] = "POST", ["htu"] = htu, ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["jti"] = Guid.NewGuid().ToString() });

    private async Task<(HttpStatusCode Status, JsonNode? Json)> RewrapAsync(TestClient client, string? bearer, string srt, string? dpop = null)
    {
        _ = client;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap") { Content = TestClient.Json(srt) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (dpop is not null)
        {
            request.Headers.Add("DPoP", dpop);
        }

        var ct = TestContext.Current.CancellationToken;
        using var response = await _http.SendAsync(request, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        var text = await response.Content.ReadAsStringAsync(ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
