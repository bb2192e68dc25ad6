namespace Catbird.Mls.Api.Mls;

/// <summary>RFC 9420 WireFormat values.</summary>
public enum MlsWireFormat : ushort
{
    PublicMessage = 1,
    PrivateMessage = 2,
    Welcome = 3,
    GroupInfo = 4,
    KeyPackage = 5,
}

/// <summary>RFC 9420 ContentType values.</summary>
public enum MlsContentType : byte
{
    Application = 1,
    Proposal = 2,
    Commit = 3,
}

/// <summary>RFC 9420 SenderType values.</summary>
public enum MlsSenderType : byte
{
    Member = 1,
    External = 2,
    NewMemberProposal = 3,
    NewMemberCommit = 4,
}

/// <summary>A TLS-encoded extension (type and opaque data).</summary>
public sealed record MlsExtension(ushort Type, byte[] Data);

/// <summary>A credential: basic (identity bytes) or X.509 (certificate chain); other types are rejected.</summary>
public sealed record MlsCredential(ushort CredentialType, byte[] Identity, IReadOnlyList<byte[]> Certificates)
{
    public const ushort Basic = 1;
    public const ushort X509 = 2;
}

/// <summary>Lifetime of a key package leaf, in seconds since the UNIX epoch.</summary>
public sealed record MlsLifetime(ulong NotBefore, ulong NotAfter);

/// <summary>A LeafNode, with the bytes it signs (for the key_package source the TBS has no group context).</summary>
public sealed record MlsLeafNode(
    byte[] EncryptionKey,
    byte[] SignatureKey,
    MlsCredential Credential,
    IReadOnlyList<ushort> CipherSuites,
    byte Source,
    MlsLifetime? Lifetime,
    IReadOnlyList<MlsExtension> Extensions,
    byte[] TbsWithoutContext,
    byte[] Signature)
{
    public const byte SourceKeyPackage = 1;
    public const byte SourceUpdate = 2;
    public const byte SourceCommit = 3;
}

/// <summary>A KeyPackage and its bare encoding (what KeyPackageRef hashes).</summary>
public sealed record MlsKeyPackage(
    ushort Version,
    ushort CipherSuite,
    byte[] InitKey,
    MlsLeafNode LeafNode,
    IReadOnlyList<MlsExtension> Extensions,
    byte[] Tbs,
    byte[] Signature,
    byte[] Encoded);

/// <summary>The routing fields of a PublicMessage or PrivateMessage.</summary>
public sealed record MlsFramedRouting(
    byte[] GroupId,
    ulong Epoch,
    MlsContentType ContentType,
    MlsSenderType? SenderType,
    uint? SenderIndex);

/// <summary>The GroupContext of a GroupInfo.</summary>
public sealed record MlsGroupContext(ushort Version, ushort CipherSuite, byte[] GroupId, ulong Epoch,
    byte[] TreeHash, byte[] ConfirmedTranscriptHash, IReadOnlyList<MlsExtension> Extensions);

/// <summary>A GroupInfo with its signer and the bytes it signs.</summary>
public sealed record MlsGroupInfo(MlsGroupContext GroupContext, IReadOnlyList<MlsExtension> Extensions,
    byte[] ConfirmationTag, uint Signer, byte[] Tbs, byte[] Signature);

/// <summary>A Welcome: its cipher suite and the KeyPackageRef of each new member.</summary>
public sealed record MlsWelcome(ushort CipherSuite, IReadOnlyList<byte[]> NewMemberKeyPackageRefs, byte[] EncryptedGroupInfo);

/// <summary>A parsed MLSMessage; exactly one of the payload properties is set, as chosen by <see cref="WireFormat"/>.</summary>
public sealed record MlsMessage(
    ushort Version,
    MlsWireFormat WireFormat,
    MlsFramedRouting? Framed,
    MlsWelcome? Welcome,
    MlsGroupInfo? GroupInfo,
    MlsKeyPackage? KeyPackage);
