using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Kas.Api.Keys;
using Catbird.Kas.Api.NanoTdf;

namespace Catbird.Kas.Api.Rewrap;

/// <summary>A key access failure: the HTTP status it maps to for v1 requests and the error text.</summary>
public sealed record KeyAccessFailure(int Status, string Error);

/// <summary>An opened NanoTDF key access: the DEK, the key that opened it, the verified binding and the policy.</summary>
public sealed record OpenedKeyAccess(byte[] Dek, KasKey Key, PolicyBindingKind Binding, NanoTdfHeader Header, OpenTdfPolicy Policy);

/// <summary>
/// The cryptographic half of a NanoTDF rewrap: chooses the KAS key (locator kid, then the request kid, else each key
/// of the curve, current first), derives the DEK, extracts the policy (plaintext, or decrypted with the DEK), and
/// verifies the binding. No authorization here; see <see cref="RewrapService"/>.
/// </summary>
public sealed class NanoKeyAccess(KasKeyRing ring)
{
    /// <summary>Parses a base64 header and opens it.</summary>
    public (OpenedKeyAccess? Opened, KeyAccessFailure? Failure) Open(string? headerBase64, string? kidHint)
    {
        if (string.IsNullOrWhiteSpace(headerBase64))
        {
            return (null, new KeyAccessFailure(400, "key access object has no NanoTDF header (only NanoTDF is supported)"));
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(headerBase64);
        }
        catch (FormatException)
        {
            return (null, new KeyAccessFailure(400, "header is not base64"));
        }

        return Open(bytes, kidHint);
    }

    /// <summary>Parses header bytes (trailing payload ignored) and opens them.</summary>
    public (OpenedKeyAccess? Opened, KeyAccessFailure? Failure) Open(ReadOnlySpan<byte> headerBytes, string? kidHint)
    {
        NanoTdfHeader header;
        try
        {
            header = NanoTdfHeader.Parse(headerBytes);
        }
        catch (NanoTdfFormatException error)
        {
            return (null, new KeyAccessFailure(400, "invalid NanoTDF header: " + error.Message));
        }

        return Open(header, kidHint);
    }

    /// <summary>Opens a parsed header.</summary>
    public (OpenedKeyAccess? Opened, KeyAccessFailure? Failure) Open(NanoTdfHeader header, string? kidHint)
    {
        switch (header.Policy.Type)
        {
            case NanoTdfPolicyType.Remote:
                return (null, new KeyAccessFailure(400,
                    $"remote policy ({header.Policy.RemoteLocator!.Url}) cannot be decided here: embed the policy (plaintext or encrypted)"));
            case NanoTdfPolicyType.EmbeddedEncryptedWithKeyAccess:
                return (null, new KeyAccessFailure(400, "policies encrypted with a separate Policy Key Access are not supported"));
        }

        var curve = header.CurveInfo;
        IEnumerable<KasKey> candidates;
        var kid = header.Kas.Identifier ?? (string.IsNullOrWhiteSpace(kidHint) ? null : kidHint);
        if (kid is not null)
        {
            var key = ring.Find(kid);
            if (key is null || key.Ec is null || key.Curve!.Curve != header.Curve)
            {
                return (null, new KeyAccessFailure(400, $"no {curve.Algorithm} KAS key with kid '{kid}'"));
            }

            candidates = [key];
        }
        else
        {
            candidates = ring.ForAlgorithm(curve.Algorithm).ToList();
            if (!candidates.Any())
            {
                return (null, new KeyAccessFailure(400, $"this KAS has no {curve.Algorithm} key"));
            }
        }

        KeyAccessFailure? failure = null;
        foreach (var key in candidates)
        {
            var dek = NanoTdfCrypto.DeriveDek(key.Ec!, header);
            var (opened, problem) = TryKey(header, key, dek);
            if (opened is not null)
            {
                return (opened, null);
            }

            CryptographicOperations.ZeroMemory(dek);
            failure ??= problem;
        }

        return (null, failure);
    }

    private static (OpenedKeyAccess?, KeyAccessFailure?) TryKey(NanoTdfHeader header, KasKey key, byte[] dek)
    {
        byte[] policyBytes;
        if (header.Policy.Type == NanoTdfPolicyType.EmbeddedEncrypted)
        {
            var decrypted = NanoTdfCrypto.DecryptPolicy(dek, header);
            if (decrypted is null)
            {
                return (null, new KeyAccessFailure(403, "forbidden: the encrypted policy does not open (tampered policy or another KAS key)"));
            }

            policyBytes = decrypted;
        }
        else
        {
            policyBytes = header.Policy.Body;
        }

        var binding = NanoTdfCrypto.VerifyBinding(header, dek);
        if (binding is null)
        {
            return (null, new KeyAccessFailure(403, "forbidden: policy binding does not verify"));
        }

        OpenTdfPolicy? policy;
        try
        {
            policy = JsonSerializer.Deserialize(policyBytes, KasJsonContext.Default.OpenTdfPolicy);
        }
        catch (JsonException)
        {
            policy = null;
        }

        if (policy?.Body is null)
        {
            return (null, new KeyAccessFailure(403, "forbidden: the embedded policy is not OpenTDF policy JSON"));
        }

        return (new OpenedKeyAccess(dek, key, binding.Value, header, policy), null);
    }
}
