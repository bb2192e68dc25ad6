using Catbird.Identity.Crypto;

namespace Catbird.Mls.Api.Tests;

/// <summary>DID documents in the two shapes PLC directories serve.</summary>
internal static class DidDocuments
{
    /// <summary>The current plc.directory shape: Multikey, absolute id, compressed key with multicodec.</summary>
    public static string Multikey(string did, AtprotoPublicKey key) =>
        $$$"""{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"id":"{{{did}}}","alsoKnownAs":["at://test.example"],"verificationMethod":[{"id":"{{{did}}}#atproto","type":"Multikey","controller":"{{{did}}}","publicKeyMultibase":"{{{key.Multikey}}}"}],"service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"http://localhost"}]}""";

    /// <summary>The older shape (@did-plc/server 0.0.1): relative id, legacy type, uncompressed key without multicodec.</summary>
    public static string LegacyPlc(string did, AtprotoPublicKey key)
    {
        var type = key.Curve == AtprotoCurve.P256 ? "EcdsaSecp256r1VerificationKey2019" : "EcdsaSecp256k1VerificationKey2019";
        return $$$"""{"@context":["https://www.w3.org/ns/did/v1"],"id":"{{{did}}}","verificationMethod":[{"id":"#atproto","type":"{{{type}}}","controller":"{{{did}}}","publicKeyMultibase":"z{{{Base58Btc.Encode(key.Uncompressed)}}}"}]}""";
    }
}
