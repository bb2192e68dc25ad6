using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Catbird.Kas.Api.Auth;

/// <summary>
/// Validates OIDC access tokens against the issuer keys configured as PEM (<c>OAUTH_PUBLIC_KEY_PATH</c>) or JWKS
/// (<c>OAUTH_JWKS_URL</c>, cached, refreshed on an unknown kid at most every 30 s), and reads the entity from the claims:
/// <c>sub</c>; <c>email</c>, <c>preferred_username</c>, <c>client_id</c>/<c>azp</c> as extra names; <c>entitlements</c>
/// (attribute value FQNs) and OpenTDF v1's <c>tdf_claims.entitlements[].entity_attributes[].attribute</c>; <c>tdf_claims.client_public_signing_key</c> or <c>client_public_signing_key</c>; <c>cnf.jkt</c>.
/// </summary>
public sealed class OidcTokenValidator
{
    private static readonly string[] Algorithms = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
    private readonly KasOptions _options;
    private readonly IHttpClientFactory _httpClients;
    private readonly ILogger<OidcTokenValidator> _logger;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly IReadOnlyList<SecurityKey> _pemKeys;
    private readonly SemaphoreSlim _jwksLock = new(1, 1);
    private IReadOnlyList<SecurityKey> _jwksKeys = [];
    private DateTimeOffset _jwksFetched = DateTimeOffset.MinValue;

    /// <summary>Creates the validator and reads the PEM keys, if configured.</summary>
    public OidcTokenValidator(IOptions<KasOptions> options, IHttpClientFactory httpClients, ILogger<OidcTokenValidator> logger, TimeProvider time)
    {
        _options = options.Value;
        _httpClients = httpClients;
        _logger = logger;
        _time = time;
        _pemKeys = string.IsNullOrWhiteSpace(_options.OAuthPublicKeyPath) ? [] : ReadPemKeys(File.ReadAllText(_options.OAuthPublicKeyPath));
    }

    /// <summary>Whether any issuer key source is configured.</summary>
    public bool IsConfigured => _pemKeys.Count > 0 || !string.IsNullOrWhiteSpace(_options.OAuthJwksUrl);

    /// <summary>Validates the token and returns its entity.</summary>
    /// <exception cref="BearerTokenException">The token is not valid.</exception>
    public async Task<KasEntity> ValidateAsync(string token, CancellationToken ct)
    {
        if (!IsConfigured)
        {
            throw new BearerTokenException("no OIDC issuer keys are configured (OAUTH_PUBLIC_KEY_PATH or OAUTH_JWKS_URL)");
        }

        var result = await _handler.ValidateTokenAsync(token, await ParametersAsync(forceRefresh: false, ct));
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && !string.IsNullOrWhiteSpace(_options.OAuthJwksUrl))
        {
            result = await _handler.ValidateTokenAsync(token, await ParametersAsync(forceRefresh: true, ct));
        }

        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            throw new BearerTokenException("access token is not valid: " + (result.Exception?.GetType().Name ?? "unknown"));
        }

        using var payload = JsonDocument.Parse(Jws.Base64UrlDecode(jwt.EncodedPayload));
        return ReadEntity(payload.RootElement, token);
    }

    /// <summary>Reads the entity from validated claims.</summary>
    public static KasEntity ReadEntity(JsonElement claims, string token)
    {
        var subject = String(claims, "sub") ?? throw new BearerTokenException("access token has no sub");
        var identifiers = new List<string> { subject };
        foreach (var name in new[] { "email", "preferred_username", "client_id", "azp" })
        {
            if (String(claims, name) is { Length: > 0 } value && !identifiers.Contains(value))
            {
                identifiers.Add(value);
            }
        }

        var entitlements = new List<string>();
        if (claims.TryGetProperty("entitlements", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            entitlements.AddRange(list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
        }

        var signingKey = String(claims, "client_public_signing_key");
        if (claims.TryGetProperty("tdf_claims", out var tdf) && tdf.ValueKind == JsonValueKind.Object)
        {
            signingKey ??= String(tdf, "client_public_signing_key");

            // OpenTDF v1 layout: tdf_claims.entitlements[].entity_attributes[].attribute
            if (tdf.TryGetProperty("entitlements", out var tdfEntitlements) && tdfEntitlements.ValueKind == JsonValueKind.Array)
            {
                foreach (var entity in tdfEntitlements.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
                {
                    if (entity.TryGetProperty("entity_attributes", out var attributes) && attributes.ValueKind == JsonValueKind.Array)
                    {
                        entitlements.AddRange(attributes.EnumerateArray()
                            .Where(a => a.ValueKind == JsonValueKind.Object)
                            .Select(a => String(a, "attribute"))
                            .OfType<string>());
                    }
                }
            }
        }

        string? jkt = null;
        if (claims.TryGetProperty("cnf", out var cnf) && cnf.ValueKind == JsonValueKind.Object)
        {
            jkt = String(cnf, "jkt");
        }

        return new KasEntity(subject, "oidc", identifiers, entitlements, signingKey, jkt, token);
    }

    private async Task<TokenValidationParameters> ParametersAsync(bool forceRefresh, CancellationToken ct)
    {
        var keys = new List<SecurityKey>(_pemKeys);
        if (!string.IsNullOrWhiteSpace(_options.OAuthJwksUrl))
        {
            keys.AddRange(await JwksKeysAsync(forceRefresh, ct));
        }

        return new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidateIssuerSigningKey = true,
            ValidateIssuer = !string.IsNullOrWhiteSpace(_options.OAuthIssuer),
            ValidIssuer = _options.OAuthIssuer,
            ValidateAudience = !string.IsNullOrWhiteSpace(_options.OAuthAudience),
            ValidAudience = _options.OAuthAudience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(_options.ClockSkewSeconds),
            ValidAlgorithms = Algorithms,
            TryAllIssuerSigningKeys = true,
        };
    }

    private async Task<IReadOnlyList<SecurityKey>> JwksKeysAsync(bool forceRefresh, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var age = now - _jwksFetched;
        if (age < TimeSpan.FromMinutes(10) && (!forceRefresh || age < TimeSpan.FromSeconds(30)))
        {
            return _jwksKeys;
        }

        await _jwksLock.WaitAsync(ct);
        try
        {
            if (_time.GetUtcNow() - _jwksFetched < TimeSpan.FromSeconds(30))
            {
                return _jwksKeys;
            }

            try
            {
                using var client = _httpClients.CreateClient("oidc-jwks");
                client.Timeout = TimeSpan.FromSeconds(10);
                var json = await client.GetStringAsync(_options.OAuthJwksUrl, ct);
                _jwksKeys = new JsonWebKeySet(json).GetSigningKeys().ToList();
                _jwksFetched = _time.GetUtcNow();
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException or ArgumentException or JsonException)
            {
                KasLog.JwksRefreshFailed(_logger, _options.OAuthJwksUrl!, error.Message);
                _jwksFetched = _time.GetUtcNow() - TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(30);
            }

            return _jwksKeys;
        }
        finally
        {
            _jwksLock.Release();
        }
    }

    private static List<SecurityKey> ReadPemKeys(string text)
    {
        var keys = new List<SecurityKey>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var pem = rest[fields.Location].ToString();
            rest = rest[fields.Location.End..];
            var key = Jws.ImportPublicKeyPem(pem);
            switch (key)
            {
                case ECDsa ec:
                    keys.Add(new ECDsaSecurityKey(ec));
                    break;
                case RSA rsa:
                    keys.Add(new RsaSecurityKey(rsa));
                    break;
            }
        }

        if (keys.Count == 0)
        {
            throw new InvalidOperationException("OAUTH_PUBLIC_KEY_PATH holds no EC or RSA public key PEM.");
        }

        return keys;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
