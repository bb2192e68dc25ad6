using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Policy;

namespace Catbird.Kas.Api.Rewrap;

/// <summary>The HTTP outcome of a rewrap: a response, or an error status with its reason.</summary>
public sealed record RewrapOutcome(int Status, RewrapResponse? Response, string? Error)
{
    /// <summary>An error outcome.</summary>
    public static RewrapOutcome Fail(int status, string error) => new(status, null, error);
}

/// <summary>
/// <c>POST /kas/v2/rewrap</c>: authenticates the caller, verifies the signed request token with the client's key,
/// then for each key access object opens the NanoTDF header, decides the policy and wraps the DEK for the client
/// under a fresh per-request session key (AES-256-GCM, HKDF salt SHA256("L1L")). v1 bodies are answered with
/// <c>entityWrappedKey</c> using the header's tag length (what <c>@opentdf/client</c> 1.x expects) and their single
/// failure as the HTTP status; v2 bodies get per-KAO results with 16-byte tags.
/// </summary>
public sealed class RewrapService(
    BearerAuthenticator authenticator,
    SignedRequestTokenVerifier requestTokens,
    NanoKeyAccess keyAccess,
    Tdf3KeyAccess tdf3KeyAccess,
    PolicyDecisionPoint decisions,
    KasMetrics metrics,
    ILogger<RewrapService> logger)
{
    /// <summary>Handles one rewrap request.</summary>
    public async Task<RewrapOutcome> RewrapAsync(RewrapRequestBody? body, string? authorization, string? dpop, string method, string path, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await RewrapCoreAsync(body, authorization, dpop, method, path, ct);
        }
        finally
        {
            metrics.RewrapDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private async Task<RewrapOutcome> RewrapCoreAsync(RewrapRequestBody? body, string? authorization, string? dpop, string method, string path, CancellationToken ct)
    {
        KasEntity entity;
        try
        {
            entity = await authenticator.AuthenticateAsync(authorization, ct);
        }
        catch (BearerTokenException error)
        {
            return Refuse(401, "unauthenticated: " + error.Message, "-");
        }

        if (body?.Token is not { Length: > 0 } token)
        {
            return Refuse(400, "body must carry signedRequestToken", entity.Subject);
        }

        SignedRequestClaims claims;
        try
        {
            claims = requestTokens.Verify(token, entity, dpop, method, path);
        }
        catch (RequestTokenException error)
        {
            return Refuse(401, error.Message, entity.Subject);
        }

        UnsignedRewrapRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(claims.RequestBody!, KasJsonContext.Default.UnsignedRewrapRequest);
        }
        catch (JsonException)
        {
            request = null;
        }

        if (request is null)
        {
            return Refuse(400, "requestBody is not a rewrap request", entity.Subject);
        }

        using var clientKey = ClientKey.Import(request.ClientPublicKey, out var keyError);
        if (clientKey is null)
        {
            return Refuse(400, keyError!, entity.Subject);
        }

        var v1Policy = request.Policy is { ValueKind: JsonValueKind.String } policyText ? policyText.GetString() : null;

        var isV1 = request.Requests is not { Count: > 0 };
        var groups = isV1
            ? (request.KeyAccess is null
                ? null
                : new List<PolicyRewrapRequest>
                {
                    new()
                    {
                        Algorithm = request.Algorithm,
                        Policy = new PolicyReference { Id = "policy" },
                        KeyAccessObjects = [new KeyAccessObjectEntry { KeyAccessObjectId = "kao-0", KeyAccessObject = request.KeyAccess }],
                    },
                })
            : request.Requests;
        if (groups is null)
        {
            return Refuse(400, "request has neither requests[] nor keyAccess", entity.Subject);
        }

        using var session = new RewrapSession(clientKey);
        var response = new RewrapResponse { Responses = [] };
        KeyAccessFailure? firstFailure = null;
        foreach (var group in groups)
        {
            var result = new PolicyRewrapResult { PolicyId = group.Policy?.Id ?? "policy" };
            response.Responses.Add(result);
            var index = 0;
            foreach (var entry in group.KeyAccessObjects ?? [])
            {
                var kaoId = entry.KeyAccessObjectId ?? $"kao-{index}";
                index++;
                var (wrapped, failure) = await RewrapOneAsync(entity, entry.KeyAccessObject, isV1 ? v1Policy : group.Policy?.Body, session, isV1, ct);
                if (wrapped is not null)
                {
                    result.Results.Add(new KeyAccessRewrapResult
                    {
                        KeyAccessObjectId = kaoId,
                        Status = "permit",
                        KasWrappedKey = Convert.ToBase64String(wrapped),
                        Metadata = new Dictionary<string, JsonElement> { ["X-Required-Obligations"] = EmptyArray },
                    });
                    if (isV1)
                    {
                        response.EntityWrappedKey = Convert.ToBase64String(wrapped);
                    }
                }
                else
                {
                    firstFailure ??= failure;
                    result.Results.Add(new KeyAccessRewrapResult
                    {
                        KeyAccessObjectId = kaoId,
                        Status = "fail",
                        Error = failure!.Error,
                        Metadata = new Dictionary<string, JsonElement> { ["error"] = JsonSerializer.SerializeToElement(failure.Error, KasJsonContext.Default.String) },
                    });
                }
            }
        }

        if (isV1)
        {
            if (response.EntityWrappedKey is null)
            {
                var failure = firstFailure ?? new KeyAccessFailure(400, "no key access object");
                return RewrapOutcome.Fail(failure.Status, failure.Error);
            }

            return new RewrapOutcome(200, new RewrapResponse
            {
                EntityWrappedKey = response.EntityWrappedKey,
                SessionPublicKey = session.Used ? session.PublicKeyPem : null,
            }, null);
        }

        response.SessionPublicKey = session.Used ? session.PublicKeyPem : "";
        return new RewrapOutcome(200, response, null);
    }

    private async Task<(byte[]? Wrapped, KeyAccessFailure? Failure)> RewrapOneAsync(KasEntity entity, KeyAccess? kao, string? policyBase64,
        RewrapSession session, bool isV1, CancellationToken ct)
    {
        if (kao is null)
        {
            return (null, new KeyAccessFailure(400, "empty key access object"));
        }

        if (string.IsNullOrEmpty(kao.Header) && !string.IsNullOrEmpty(kao.WrappedKey))
        {
            return await RewrapTdf3Async(entity, kao, policyBase64, session, ct);
        }

        if (!session.IsEc)
        {
            return (null, new KeyAccessFailure(400, "NanoTDF rewrap needs an EC clientPublicKey"));
        }

        var (opened, failure) = keyAccess.Open(kao.Header, kao.Kid);
        if (opened is null)
        {
            Audit("deny", entity, kao.Kid ?? "-", "-", "-", "-", failure!.Error);
            return (null, failure);
        }

        try
        {
            var binding = Convert.ToHexStringLower(opened.Header.Policy.Binding);
            var decision = await decisions.DecideAsync(entity, opened.Policy, ct);
            if (!decision.Permit)
            {
                Audit("deny", entity, opened.Key.Kid, binding, opened.Binding.ToString(), opened.Policy.Uuid ?? "-", decision.Reason);
                return (null, decision.DependencyFailed
                    ? new KeyAccessFailure(503, "unavailable: " + decision.Reason)
                    : new KeyAccessFailure(403, "forbidden: " + decision.Reason));
            }

            Audit("permit", entity, opened.Key.Kid, binding, opened.Binding.ToString(), opened.Policy.Uuid ?? "-", decision.Reason);
            return (session.Wrap(opened.Dek, isV1 ? opened.Header.TagLength : 16), null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(opened.Dek);
        }
    }

    private async Task<(byte[]? Wrapped, KeyAccessFailure? Failure)> RewrapTdf3Async(KasEntity entity, KeyAccess kao, string? policyBase64,
        RewrapSession session, CancellationToken ct)
    {
        var (opened, failure) = tdf3KeyAccess.Open(kao, policyBase64);
        if (opened is null)
        {
            Audit("deny", entity, kao.Kid ?? "-", "-", "tdf3", "-", failure!.Error);
            return (null, failure);
        }

        try
        {
            var decision = await decisions.DecideAsync(entity, opened.Policy, ct);
            Audit(decision.Permit ? "permit" : "deny", entity, opened.Key.Kid, "hmac", "tdf3", opened.Policy.Uuid ?? "-", decision.Reason);
            if (!decision.Permit)
            {
                return (null, decision.DependencyFailed
                    ? new KeyAccessFailure(503, "unavailable: " + decision.Reason)
                    : new KeyAccessFailure(403, "forbidden: " + decision.Reason));
            }

            return (session.WrapTdf3(opened.Dek), null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(opened.Dek);
        }
    }

    private void Audit(string outcome, KasEntity entity, string kid, string binding, string kind, string policyId, string reason)
    {
        KasLog.RewrapDecision(logger, outcome, entity.Subject, kid, binding, kind, policyId, reason);
        metrics.Decisions.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("entity_kind", entity.Kind));
    }

    private RewrapOutcome Refuse(int status, string reason, string entity)
    {
        KasLog.RewrapRefused(logger, status, entity, reason);
        metrics.Decisions.Add(1, new KeyValuePair<string, object?>("outcome", status == 401 ? "unauthenticated" : "invalid"));
        return RewrapOutcome.Fail(status, reason);
    }

    private static readonly JsonElement EmptyArray = JsonDocument.Parse("[]").RootElement.Clone();
}

/// <summary>The client's public key from the request: EC (NanoTDF, and TDF3 with an EC session) or RSA (TDF3).</summary>
internal sealed class ClientKey : IDisposable
{
    private ClientKey(ECDiffieHellman? ec, RSA? rsa)
    {
        Ec = ec;
        Rsa = rsa;
    }

    public ECDiffieHellman? Ec { get; }

    public RSA? Rsa { get; }

    public static ClientKey? Import(string? pem, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(pem))
        {
            error = "clientPublicKey is missing";
            return null;
        }

        var ec = ECDiffieHellman.Create();
        try
        {
            ec.ImportFromPem(pem);
            if (EcCurveInfo.ForDotNetCurve(ec.ExportParameters(false).Curve) is not null)
            {
                return new ClientKey(ec, null);
            }
        }
        catch (Exception problem) when (problem is CryptographicException or ArgumentException)
        {
        }

        ec.Dispose();
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize >= 2048)
            {
                return new ClientKey(null, rsa);
            }
        }
        catch (Exception problem) when (problem is CryptographicException or ArgumentException)
        {
        }

        rsa.Dispose();
        error = "clientPublicKey must be a PEM public key: EC on P-256, P-384 or P-521, or RSA of at least 2048 bits";
        return null;
    }

    public void Dispose()
    {
        Ec?.Dispose();
        Rsa?.Dispose();
    }
}

/// <summary>
/// The per-request session key pair and the wrap keys it agrees with an EC client key (HKDF salt SHA256("L1L") for
/// NanoTDF, SHA256("TDF") for TDF3, as the Go SDK uses); created on first use, wrap keys zeroed when the request ends.
/// RSA client keys get RSA-OAEP (SHA-1) instead.
/// </summary>
internal sealed class RewrapSession(ClientKey client) : IDisposable
{
    private static readonly byte[] SaltTdf = SHA256.HashData("TDF"u8);
    private ECDiffieHellman? _session;
    private byte[]? _nanoKey;
    private byte[]? _tdfKey;

    public bool IsEc => client.Ec is not null;

    public bool Used => _session is not null;

    public string PublicKeyPem
    {
        get
        {
            Ensure();
            return PemEncoding.WriteString("PUBLIC KEY", _session!.ExportSubjectPublicKeyInfo()) + "\n";
        }
    }

    public byte[] Wrap(ReadOnlySpan<byte> dek, int tagLength)
    {
        Ensure();
        _nanoKey ??= Derive(NanoTdfCrypto.SaltL1L);
        return NanoTdfCrypto.Wrap(_nanoKey, dek, tagLength);
    }

    public byte[] WrapTdf3(byte[] dek)
    {
        if (client.Rsa is { } rsa)
        {
            return rsa.Encrypt(dek, RSAEncryptionPadding.OaepSHA1);
        }

        Ensure();
        _tdfKey ??= Derive(SaltTdf);
        return NanoTdfCrypto.Wrap(_tdfKey, dek, 16);
    }

    public void Dispose()
    {
        foreach (var key in new[] { _nanoKey, _tdfKey })
        {
            if (key is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        _session?.Dispose();
    }

    private void Ensure()
    {
        if (_session is null)
        {
            var parameters = client.Ec!.ExportParameters(false);
            _session = ECDiffieHellman.Create(parameters.Curve);
        }
    }

    private byte[] Derive(byte[] salt)
    {
        var shared = _session!.DeriveRawSecretAgreement(client.Ec!.PublicKey);
        try
        {
            return NanoTdfCrypto.DeriveKey(shared, salt);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }
}
