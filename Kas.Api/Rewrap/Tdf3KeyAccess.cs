using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Catbird.Kas.Api.Keys;

namespace Catbird.Kas.Api.Rewrap;

/// <summary>An opened TDF3 key access: the key split, the RSA key that opened it and the policy.</summary>
public sealed record OpenedTdf3KeyAccess(byte[] Dek, KasKey Key, OpenTdfPolicy Policy);

/// <summary>
/// TDF3 (ZIP manifest) key access objects wrapped for the KAS RSA key: RSA-OAEP (SHA-1, as OpenTDF clients use;
/// SHA-256 also tried) unwraps the key split, the policy binding is base64 of the hex HMAC-SHA256(split, base64 policy)
/// (the raw HMAC is accepted too), compared in constant time.
/// </summary>
public sealed class Tdf3KeyAccess(KasKeyRing ring)
{
    /// <summary>Opens a wrapped key access object against the base64 policy of its request.</summary>
    public (OpenedTdf3KeyAccess? Opened, KeyAccessFailure? Failure) Open(KeyAccess kao, string? policyBase64)
    {
        byte[] wrapped;
        try
        {
            wrapped = Convert.FromBase64String(kao.WrappedKey ?? "");
        }
        catch (FormatException)
        {
            return (null, new KeyAccessFailure(400, "wrappedKey is not base64"));
        }

        if (string.IsNullOrWhiteSpace(policyBase64))
        {
            return (null, new KeyAccessFailure(400, "TDF3 key access needs the request's policy"));
        }

        var candidates = kao.Kid is { Length: > 0 } kid
            ? ring.Find(kid) is { Rsa: not null } found ? [found] : []
            : ring.ForAlgorithm("rsa").ToList();
        if (candidates.Count == 0)
        {
            return (null, new KeyAccessFailure(400, kao.Kid is null ? "this KAS has no RSA key" : $"no RSA KAS key with kid '{kao.Kid}'"));
        }

        byte[]? dek = null;
        KasKey? opener = null;
        foreach (var key in candidates)
        {
            foreach (var padding in new[] { RSAEncryptionPadding.OaepSHA1, RSAEncryptionPadding.OaepSHA256 })
            {
                try
                {
                    dek = key.Rsa!.Decrypt(wrapped, padding);
                    opener = key;
                    break;
                }
                catch (CryptographicException)
                {
                }
            }

            if (dek is not null)
            {
                break;
            }
        }

        if (dek is null || opener is null)
        {
            return (null, new KeyAccessFailure(400, "wrappedKey does not open with this KAS's RSA key"));
        }

        if (!BindingMatches(kao.PolicyBinding, dek, policyBase64))
        {
            CryptographicOperations.ZeroMemory(dek);
            return (null, new KeyAccessFailure(403, "forbidden: policy binding does not verify"));
        }

        OpenTdfPolicy? policy;
        try
        {
            policy = JsonSerializer.Deserialize(Convert.FromBase64String(policyBase64), KasJsonContext.Default.OpenTdfPolicy);
        }
        catch (Exception error) when (error is JsonException or FormatException)
        {
            policy = null;
        }

        if (policy?.Body is null)
        {
            CryptographicOperations.ZeroMemory(dek);
            return (null, new KeyAccessFailure(403, "forbidden: the policy is not OpenTDF policy JSON"));
        }

        return (new OpenedTdf3KeyAccess(dek, opener, policy), null);
    }

    /// <summary>The TDF3 binding of a policy: base64 of the lower-case hex HMAC-SHA256(key, ASCII of the base64 policy).</summary>
    public static string Binding(ReadOnlySpan<byte> dek, string policyBase64) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(dek, Encoding.ASCII.GetBytes(policyBase64)))));

    private static bool BindingMatches(JsonElement? binding, byte[] dek, string policyBase64)
    {
        var text = binding switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Object } o when o.TryGetProperty("hash", out var hash) && hash.ValueKind == JsonValueKind.String => hash.GetString(),
            _ => null,
        };
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return false;
        }

        var mac = HMACSHA256.HashData(dek, Encoding.ASCII.GetBytes(policyBase64));
        var hex = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac));
        var asHex = presented.Length == hex.Length && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(presented).ToLowerInvariant()), hex);
        var asRaw = presented.Length == mac.Length && CryptographicOperations.FixedTimeEquals(presented, mac);
        return asHex || asRaw;
    }
}
