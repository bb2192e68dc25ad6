using System.Text.Json;
using Catbird.Kas.Api.Keys;
using Catbird.Kas.Api.Rewrap;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Catbird.Kas.Api.Apis;

/// <summary>The OpenTDF KAS routes: public keys (v2 and legacy) and rewrap.</summary>
public static class KasApi
{
    /// <summary>Largest rewrap body accepted (a NanoTDF header is at most ~66 KiB; whole files up to 16 MiB are tolerated).</summary>
    public const long MaxRewrapBodyBytes = 24L * 1024 * 1024;

    /// <summary>Maps <c>/kas/*</c> and the ConnectRPC-style aliases.</summary>
    public static IEndpointRouteBuilder MapKasApi(this IEndpointRouteBuilder app)
    {
        var kas = app.MapGroup("/kas").RequireRateLimiting(KasRateLimits.KasPolicy).RequireCors(KasCors.PolicyName);
        kas.MapGet("/v2/kas_public_key", GetPublicKey);
        kas.MapGet("/kas_public_key", GetLegacyPublicKey);
        kas.MapPost("/v2/rewrap", PostRewrap).WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxRewrapBodyBytes));

        var connect = app.MapGroup("/kas.AccessService").RequireRateLimiting(KasRateLimits.KasPolicy).RequireCors(KasCors.PolicyName);
        connect.MapPost("/Rewrap", PostRewrap);
        connect.MapGet("/PublicKey", GetPublicKey);
        connect.MapPost("/PublicKey", (KasKeyRing ring, PublicKeyRequest? request) => GetPublicKey(ring, request?.Algorithm, request?.Fmt, request?.V));
        connect.MapGet("/LegacyPublicKey", GetLegacyPublicKey);
        connect.MapPost("/LegacyPublicKey", (KasKeyRing ring, PublicKeyRequest? request) => GetLegacyPublicKey(ring, request?.Algorithm));
        return app;
    }

    /// <summary><c>GET /kas/v2/kas_public_key?algorithm=&amp;fmt=&amp;v=</c>: <c>{"publicKey": PEM or JWK, "kid"}</c>; 404 for an algorithm without a key.</summary>
    public static Results<Ok<PublicKeyResponse>, ProblemHttpResult> GetPublicKey(KasKeyRing ring, string? algorithm, string? fmt, string? v)
    {
        var key = ring.Current(NormalizeAlgorithm(ring, algorithm));
        if (key is null)
        {
            return TypedResults.Problem($"no KAS key for algorithm '{algorithm}'", statusCode: 404, title: "not_found");
        }

        string publicKey;
        switch (fmt?.ToLowerInvariant())
        {
            case null or "" or "pkcs8" or "pem":
                publicKey = key.PublicKeyPem;
                break;
            case "jwk":
                publicKey = JsonSerializer.Serialize(key.Jwk, KasJsonContext.Default.KasJwk);
                break;
            default:
                return TypedResults.Problem($"unknown fmt '{fmt}' (pkcs8 or jwk)", statusCode: 400, title: "invalid_argument");
        }

        return TypedResults.Ok(new PublicKeyResponse(publicKey, v == "1" ? null : key.Kid));
    }

    /// <summary>
    /// <c>GET /kas/kas_public_key?algorithm=</c>: a JSON string. For EC keys it holds a self-signed X.509 certificate PEM
    /// (what <c>@opentdf/client</c> 1.x imports), for RSA the SPKI PEM.
    /// </summary>
    public static Results<Ok<string>, ProblemHttpResult> GetLegacyPublicKey(KasKeyRing ring, string? algorithm)
    {
        var key = ring.Current(NormalizeAlgorithm(ring, algorithm));
        if (key is null)
        {
            return TypedResults.Problem($"no KAS key for algorithm '{algorithm}'", statusCode: 404, title: "not_found");
        }

        return TypedResults.Ok(key.Ec is not null && key.CertificatePem.Length > 0 ? key.CertificatePem : key.PublicKeyPem);
    }

    /// <summary><c>POST /kas/v2/rewrap</c>.</summary>
    public static async Task<Results<Ok<RewrapResponse>, ProblemHttpResult>> PostRewrap(HttpContext context, RewrapService rewrap, CancellationToken ct)
    {
        RewrapRequestBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, KasJsonContext.Default.RewrapRequestBody, ct);
        }
        catch (JsonException)
        {
            return TypedResults.Problem("body is not JSON {\"signedRequestToken\": …}", statusCode: 400, title: "invalid_argument");
        }
        catch (BadHttpRequestException error)
        {
            return TypedResults.Problem(error.Message, statusCode: error.StatusCode, title: "invalid_argument");
        }

        var request = context.Request;
        var outcome = await rewrap.RewrapAsync(body, request.Headers.Authorization.ToString(), request.Headers["DPoP"].ToString(),
            request.Method, request.PathBase + request.Path, ct);
        if (outcome.Response is not null)
        {
            return TypedResults.Ok(outcome.Response);
        }

        return TypedResults.Problem(outcome.Error, statusCode: outcome.Status, title: outcome.Status switch
        {
            400 => "invalid_argument",
            401 => "unauthenticated",
            403 => "forbidden",
            503 => "unavailable",
            _ => "error",
        });
    }

    /// <summary>No algorithm means RSA when the KAS has an RSA key (as OpenTDF KAS and TDF3 clients assume), else P-256.</summary>
    private static string NormalizeAlgorithm(KasKeyRing ring, string? algorithm) => string.IsNullOrWhiteSpace(algorithm)
        ? ring.Current("rsa") is not null ? "rsa" : "ec:secp256r1"
        : algorithm.Trim().ToLowerInvariant() switch
        {
            "ec:p-256" or "ec:prime256v1" or "ec" => "ec:secp256r1",
            "rsa:2048" or "rsa:3072" or "rsa:4096" when ring.ForAlgorithm(algorithm.Trim()).Any() => algorithm.Trim().ToLowerInvariant(),
            "rsa:2048" or "rsa:3072" or "rsa:4096" or "rsa" => "rsa",
            "ec:p-384" => "ec:secp384r1",
            "ec:p-521" => "ec:secp521r1",
            var other => other,
        };
}
