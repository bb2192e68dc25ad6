using System.Text;

namespace Catbird.Mls.Api.Mls;

/// <summary>Why a key package was refused; <see cref="Message"/> is safe to return to the client.</summary>
public sealed record KeyPackageProblem(string Message);

/// <summary>
/// The checks a DS can make on a KeyPackage without group state (RFC 9420 §10.1): version, known cipher suite,
/// key_package leaf source and lifetime, both signatures (LeafNodeTBS, KeyPackageTBS), distinct init and
/// encryption keys, and — when the basic credential's identity is a DID — that it names the publisher.
/// </summary>
public static class KeyPackageValidator
{
    /// <summary>Clock skew tolerated on the lifetime's not_before.</summary>
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(5);

    /// <summary>Returns null when the key package is acceptable for <paramref name="publisherDid"/> at <paramref name="now"/>.</summary>
    public static KeyPackageProblem? Validate(MlsKeyPackage keyPackage, string publisherDid, DateTimeOffset now)
    {
        if (keyPackage.Version != MlsDecoder.Mls10)
        {
            return new($"unsupported protocol version {keyPackage.Version}");
        }
        var suite = MlsCipherSuite.FromId(keyPackage.CipherSuite);
        if (suite is null)
        {
            return new($"unknown cipher suite {keyPackage.CipherSuite}");
        }
        var leaf = keyPackage.LeafNode;
        if (leaf.Source != MlsLeafNode.SourceKeyPackage || leaf.Lifetime is null)
        {
            return new("leaf node source must be key_package");
        }
        var seconds = (ulong)Math.Max(0, now.ToUnixTimeSeconds());
        var skew = (ulong)AllowedSkew.TotalSeconds;
        if (leaf.Lifetime.NotBefore > seconds + skew)
        {
            return new("key package is not yet valid");
        }
        if (leaf.Lifetime.NotAfter < seconds)
        {
            return new("key package lifetime has expired");
        }
        if (keyPackage.InitKey.AsSpan().SequenceEqual(leaf.EncryptionKey))
        {
            return new("init_key and leaf encryption_key must differ");
        }
        if (!MlsCrypto.VerifyWithLabel(suite, leaf.SignatureKey, "LeafNodeTBS", leaf.TbsWithoutContext, leaf.Signature))
        {
            return new("leaf node signature is invalid");
        }
        if (!MlsCrypto.VerifyWithLabel(suite, leaf.SignatureKey, "KeyPackageTBS", keyPackage.Tbs, keyPackage.Signature))
        {
            return new("key package signature is invalid");
        }
        if (CredentialDid(leaf.Credential) is { } credentialDid && !SameAccount(credentialDid, publisherDid))
        {
            return new("credential identity names a different DID than the publisher");
        }
        return null;
    }

    /// <summary>The DID a basic credential names, when its identity is UTF-8 text starting with <c>did:</c>.</summary>
    public static string? CredentialDid(MlsCredential credential)
    {
        if (credential.CredentialType != MlsCredential.Basic || credential.Identity.Length < 5)
        {
            return null;
        }
        try
        {
            var text = new UTF8Encoding(false, true).GetString(credential.Identity);
            return text.StartsWith("did:", StringComparison.Ordinal) ? text : null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    // A device credential "did:plc:x#device" belongs to account "did:plc:x".
    private static bool SameAccount(string credentialDid, string publisherDid)
    {
        var hash = credentialDid.IndexOf('#', StringComparison.Ordinal);
        var account = hash < 0 ? credentialDid : credentialDid[..hash];
        return string.Equals(account, publisherDid, StringComparison.Ordinal);
    }
}
