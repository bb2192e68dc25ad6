using System.Text.Json;
using Catbird.Identity.Crypto;

namespace Catbird.Identity.Did;

/// <summary>Finds the AT Protocol signing key (<c>#atproto</c>) in a DID document.</summary>
public static class DidDocumentKeys
{
    /// <summary>
    /// The key of the first verification method whose id is <c>#atproto</c> or <c>&lt;did&gt;#atproto</c>: a
    /// <c>Multikey</c> <c>publicKeyMultibase</c>, the legacy <c>EcdsaSecp256k1VerificationKey2019</c> /
    /// <c>EcdsaSecp256r1VerificationKey2019</c> multibase (with or without multicodec prefix, compressed or
    /// uncompressed), or a <c>publicKeyJwk</c>. Throws <see cref="FormatException"/> when there is none.
    /// </summary>
    public static AtprotoPublicKey FindSigningKey(JsonElement document, string did)
    {
        if (document.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("DID document is not a JSON object");
        }
        if (document.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() != did)
        {
            throw new FormatException("DID document id does not match the DID");
        }
        if (!document.TryGetProperty("verificationMethod", out var methods) || methods.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("DID document has no verificationMethod");
        }
        foreach (var method in methods.EnumerateArray())
        {
            if (method.ValueKind != JsonValueKind.Object || String(method, "id") is not { } methodId
                || (methodId != "#atproto" && methodId != did + "#atproto"))
            {
                continue;
            }
            if (String(method, "controller") is { } controller && controller != did)
            {
                continue;
            }
            var type = String(method, "type");
            if (String(method, "publicKeyMultibase") is { } multibase)
            {
                return type switch
                {
                    "EcdsaSecp256k1VerificationKey2019" => Legacy(AtprotoCurve.Secp256k1, multibase),
                    "EcdsaSecp256r1VerificationKey2019" => Legacy(AtprotoCurve.P256, multibase),
                    _ => AtprotoPublicKey.FromMultikey(multibase),
                };
            }
            if (method.TryGetProperty("publicKeyJwk", out var jwk) && jwk.ValueKind == JsonValueKind.Object)
            {
                return AtprotoPublicKey.FromJwk(String(jwk, "kty"), String(jwk, "crv"), String(jwk, "x"), String(jwk, "y"));
            }
        }
        throw new FormatException("DID document has no #atproto verification method");
    }

    private static AtprotoPublicKey Legacy(AtprotoCurve curve, string multibase)
    {
        // Older PLC documents carry the point without multicodec; newer ones label a prefixed key with the legacy type.
        try
        {
            return AtprotoPublicKey.FromLegacyMultibase(curve, multibase);
        }
        catch (FormatException)
        {
            var key = AtprotoPublicKey.FromMultikey(multibase);
            return key.Curve == curve ? key : throw new FormatException("verification method type and key curve disagree");
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
