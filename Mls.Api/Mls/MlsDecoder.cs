namespace Catbird.Mls.Api.Mls;

/// <summary>
/// Decodes RFC 9420 wire structures without any group keys. Every structure is read to its end, so a message that
/// parses is well formed throughout (proposals, commits and update paths included); anything else raises
/// <see cref="MlsFormatException"/>.
/// </summary>
public static class MlsDecoder
{
    /// <summary>ProtocolVersion mls10.</summary>
    public const ushort Mls10 = 1;

    /// <summary>Decodes a complete MLSMessage.</summary>
    public static MlsMessage DecodeMessage(ReadOnlySpan<byte> bytes) => DecodeMessage(bytes, allowZeroPadding: false);

    /// <summary>
    /// Decodes an MLSMessage that may be followed by zero bytes up to the lexicon's padded size (sendMessage); any
    /// non-zero byte after the message is an error.
    /// </summary>
    public static MlsMessage DecodePaddedMessage(ReadOnlySpan<byte> bytes) => DecodeMessage(bytes, allowZeroPadding: true);

    private static MlsMessage DecodeMessage(ReadOnlySpan<byte> bytes, bool allowZeroPadding)
    {
        var reader = new MlsReader(bytes);
        var version = reader.ReadUInt16();
        if (version != Mls10)
        {
            throw new MlsFormatException($"unsupported protocol version {version}");
        }
        var wireFormat = reader.ReadUInt16();
        MlsMessage message = wireFormat switch
        {
            (ushort)MlsWireFormat.PublicMessage => new(version, MlsWireFormat.PublicMessage, ReadPublicMessage(ref reader), null, null, null),
            (ushort)MlsWireFormat.PrivateMessage => new(version, MlsWireFormat.PrivateMessage, ReadPrivateMessage(ref reader), null, null, null),
            (ushort)MlsWireFormat.Welcome => new(version, MlsWireFormat.Welcome, null, ReadWelcome(ref reader), null, null),
            (ushort)MlsWireFormat.GroupInfo => new(version, MlsWireFormat.GroupInfo, null, null, ReadGroupInfo(ref reader), null),
            (ushort)MlsWireFormat.KeyPackage => new(version, MlsWireFormat.KeyPackage, null, null, null, ReadKeyPackage(ref reader)),
            _ => throw new MlsFormatException($"unknown wire format {wireFormat}"),
        };
        if (allowZeroPadding && bytes[reader.Position..].IndexOfAnyExcept((byte)0) < 0)
        {
            return message;
        }

        reader.EnsureEnd("MLSMessage");
        return message;
    }

    /// <summary>
    /// Decodes a key package given either bare (as OpenMLS serialises it) or wrapped in an MLSMessage
    /// (version 1, wire format 5, as ts-mls does).
    /// </summary>
    public static MlsKeyPackage DecodeKeyPackage(ReadOnlySpan<byte> bytes)
    {
        // A bare KeyPackage starts with version 0x0001 then a cipher suite; a wrapped one with 0x0001 0x0005 then the suite.
        // Suite 5 makes the first four bytes ambiguous, so try the wrapped form first and fall back to bare.
        if (bytes.Length >= 4 && bytes[0] == 0 && bytes[1] == 1 && bytes[2] == 0 && bytes[3] == (byte)MlsWireFormat.KeyPackage)
        {
            try
            {
                var message = DecodeMessage(bytes);
                return message.KeyPackage!;
            }
            catch (MlsFormatException)
            {
                // Not a wrapped key package: fall through to the bare form (a suite-5 KeyPackage starts the same way).
            }
        }
        var reader = new MlsReader(bytes);
        var keyPackage = ReadKeyPackage(ref reader);
        reader.EnsureEnd("KeyPackage");
        return keyPackage;
    }

    /// <summary>Decodes a bare Welcome (not wrapped in MLSMessage).</summary>
    public static MlsWelcome DecodeBareWelcome(ReadOnlySpan<byte> bytes)
    {
        var reader = new MlsReader(bytes);
        var welcome = ReadWelcome(ref reader);
        reader.EnsureEnd("Welcome");
        return welcome;
    }

    /// <summary>Decodes a bare structure with the given reader function to its end (used for stand-alone proposals, commits, trees).</summary>
    public static void Validate(ReadOnlySpan<byte> bytes, MlsStructure structure)
    {
        var reader = new MlsReader(bytes);
        switch (structure)
        {
            case MlsStructure.Proposal: ReadProposal(ref reader); break;
            case MlsStructure.Commit: ReadCommit(ref reader); break;
            case MlsStructure.RatchetTree: ReadRatchetTree(ref reader); break;
            case MlsStructure.GroupSecrets: ReadGroupSecrets(ref reader); break;
            default: throw new ArgumentOutOfRangeException(nameof(structure));
        }
        reader.EnsureEnd(structure.ToString());
    }

    internal static MlsKeyPackage ReadKeyPackage(ref MlsReader reader)
    {
        var start = reader.Position;
        var version = reader.ReadUInt16();
        var suite = reader.ReadUInt16();
        var initKey = reader.ReadOpaque().ToArray();
        var leaf = ReadLeafNode(ref reader);
        var extensions = ReadExtensions(ref reader);
        var tbsEnd = reader.Position;
        var signature = reader.ReadOpaque().ToArray();
        return new MlsKeyPackage(version, suite, initKey, leaf, extensions,
            reader.Slice(start, tbsEnd).ToArray(), signature, reader.Slice(start, reader.Position).ToArray());
    }

    internal static MlsLeafNode ReadLeafNode(ref MlsReader reader)
    {
        var start = reader.Position;
        var encryptionKey = reader.ReadOpaque().ToArray();
        var signatureKey = reader.ReadOpaque().ToArray();
        var credential = ReadCredential(ref reader);
        var suites = ReadCapabilities(ref reader);
        var source = reader.ReadUInt8();
        MlsLifetime? lifetime = null;
        switch (source)
        {
            case MlsLeafNode.SourceKeyPackage:
                lifetime = new MlsLifetime(reader.ReadUInt64(), reader.ReadUInt64());
                break;
            case MlsLeafNode.SourceUpdate:
                break;
            case MlsLeafNode.SourceCommit:
                reader.ReadOpaque(); // parent_hash
                break;
            default:
                throw new MlsFormatException($"unknown leaf node source {source}");
        }
        var extensions = ReadExtensions(ref reader);
        var tbsEnd = reader.Position;
        var signature = reader.ReadOpaque().ToArray();
        return new MlsLeafNode(encryptionKey, signatureKey, credential, suites, source, lifetime, extensions,
            reader.Slice(start, tbsEnd).ToArray(), signature);
    }

    private static MlsCredential ReadCredential(ref MlsReader reader)
    {
        var type = reader.ReadUInt16();
        switch (type)
        {
            case MlsCredential.Basic:
                return new MlsCredential(type, reader.ReadOpaque().ToArray(), []);
            case MlsCredential.X509:
            {
                var certificates = new List<byte[]>();
                var vector = reader.ReadVector();
                while (!vector.AtEnd)
                {
                    certificates.Add(vector.ReadOpaque().ToArray());
                }
                return new MlsCredential(type, [], certificates);
            }
            default:
                throw new MlsFormatException($"unsupported credential type {type}");
        }
    }

    // Capabilities: versions, cipher_suites, extensions, proposals, credentials, each a vector of uint16.
    private static IReadOnlyList<ushort> ReadCapabilities(ref MlsReader reader)
    {
        ReadUInt16Vector(ref reader);
        var suites = ReadUInt16Vector(ref reader);
        ReadUInt16Vector(ref reader);
        ReadUInt16Vector(ref reader);
        ReadUInt16Vector(ref reader);
        return suites;
    }

    private static List<ushort> ReadUInt16Vector(ref MlsReader reader)
    {
        var vector = reader.ReadVector();
        var values = new List<ushort>(vector.Remaining / 2);
        while (!vector.AtEnd)
        {
            values.Add(vector.ReadUInt16());
        }
        return values;
    }

    private static List<MlsExtension> ReadExtensions(ref MlsReader reader)
    {
        var vector = reader.ReadVector();
        var extensions = new List<MlsExtension>();
        while (!vector.AtEnd)
        {
            var type = vector.ReadUInt16();
            var data = vector.ReadOpaque().ToArray();
            foreach (var existing in extensions)
            {
                if (existing.Type == type)
                {
                    throw new MlsFormatException($"duplicate extension type {type}");
                }
            }
            extensions.Add(new MlsExtension(type, data));
        }
        return extensions;
    }

    private static MlsFramedRouting ReadPublicMessage(ref MlsReader reader)
    {
        // FramedContent
        var groupId = reader.ReadOpaque().ToArray();
        var epoch = reader.ReadUInt64();
        var (senderType, senderIndex) = ReadSender(ref reader);
        reader.ReadOpaque(); // authenticated_data
        var contentType = ReadContentType(ref reader);
        switch (contentType)
        {
            case MlsContentType.Application: reader.ReadOpaque(); break;
            case MlsContentType.Proposal: ReadProposal(ref reader); break;
            case MlsContentType.Commit: ReadCommit(ref reader); break;
        }
        // FramedContentAuthData
        reader.ReadOpaque(); // signature
        if (contentType == MlsContentType.Commit)
        {
            reader.ReadOpaque(); // confirmation_tag
        }
        if (senderType == MlsSenderType.Member)
        {
            reader.ReadOpaque(); // membership_tag
        }
        return new MlsFramedRouting(groupId, epoch, contentType, senderType, senderIndex);
    }

    private static MlsFramedRouting ReadPrivateMessage(ref MlsReader reader)
    {
        var groupId = reader.ReadOpaque().ToArray();
        var epoch = reader.ReadUInt64();
        var contentType = ReadContentType(ref reader);
        reader.ReadOpaque(); // authenticated_data
        reader.ReadOpaque(); // encrypted_sender_data
        reader.ReadOpaque(); // ciphertext
        return new MlsFramedRouting(groupId, epoch, contentType, null, null);
    }

    private static MlsContentType ReadContentType(ref MlsReader reader)
    {
        var value = reader.ReadUInt8();
        return value is >= 1 and <= 3 ? (MlsContentType)value : throw new MlsFormatException($"unknown content type {value}");
    }

    private static (MlsSenderType Type, uint? Index) ReadSender(ref MlsReader reader)
    {
        var type = reader.ReadUInt8();
        return type switch
        {
            1 => (MlsSenderType.Member, reader.ReadUInt32()),
            2 => (MlsSenderType.External, reader.ReadUInt32()),
            3 => (MlsSenderType.NewMemberProposal, null),
            4 => (MlsSenderType.NewMemberCommit, null),
            _ => throw new MlsFormatException($"unknown sender type {type}"),
        };
    }

    private static MlsWelcome ReadWelcome(ref MlsReader reader)
    {
        var suite = reader.ReadUInt16();
        var refs = new List<byte[]>();
        var secrets = reader.ReadVector();
        while (!secrets.AtEnd)
        {
            refs.Add(secrets.ReadOpaque().ToArray()); // new_member KeyPackageRef
            secrets.ReadOpaque(); // kem_output
            secrets.ReadOpaque(); // ciphertext
        }
        var encryptedGroupInfo = reader.ReadOpaque().ToArray();
        return new MlsWelcome(suite, refs, encryptedGroupInfo);
    }

    private static MlsGroupInfo ReadGroupInfo(ref MlsReader reader)
    {
        var start = reader.Position;
        var context = new MlsGroupContext(
            reader.ReadUInt16(), reader.ReadUInt16(), reader.ReadOpaque().ToArray(), reader.ReadUInt64(),
            reader.ReadOpaque().ToArray(), reader.ReadOpaque().ToArray(), ReadExtensions(ref reader));
        var extensions = ReadExtensions(ref reader);
        var confirmationTag = reader.ReadOpaque().ToArray();
        var signer = reader.ReadUInt32();
        var tbsEnd = reader.Position;
        var signature = reader.ReadOpaque().ToArray();
        return new MlsGroupInfo(context, extensions, confirmationTag, signer, reader.Slice(start, tbsEnd).ToArray(), signature);
    }

    private static void ReadProposal(ref MlsReader reader)
    {
        var type = reader.ReadUInt16();
        switch (type)
        {
            case 1: ReadKeyPackage(ref reader); break; // add
            case 2: ReadLeafNode(ref reader); break; // update
            case 3: reader.ReadUInt32(); break; // remove
            case 4: ReadPreSharedKeyId(ref reader); break; // psk
            case 5: // reinit
                reader.ReadOpaque();
                reader.ReadUInt16();
                reader.ReadUInt16();
                ReadExtensions(ref reader);
                break;
            case 6: reader.ReadOpaque(); break; // external_init kem_output
            case 7: ReadExtensions(ref reader); break; // group_context_extensions
            default: throw new MlsFormatException($"unsupported proposal type {type}");
        }
    }

    private static void ReadPreSharedKeyId(ref MlsReader reader)
    {
        var type = reader.ReadUInt8();
        switch (type)
        {
            case 1: reader.ReadOpaque(); break; // external psk_id
            case 2: // resumption
                var usage = reader.ReadUInt8();
                if (usage is < 1 or > 3)
                {
                    throw new MlsFormatException($"unknown resumption PSK usage {usage}");
                }
                reader.ReadOpaque();
                reader.ReadUInt64();
                break;
            default: throw new MlsFormatException($"unknown PSK type {type}");
        }
        reader.ReadOpaque(); // psk_nonce
    }

    private static void ReadCommit(ref MlsReader reader)
    {
        var proposals = reader.ReadVector();
        while (!proposals.AtEnd)
        {
            var kind = proposals.ReadUInt8();
            switch (kind)
            {
                case 1: ReadProposal(ref proposals); break;
                case 2: proposals.ReadOpaque(); break; // ProposalRef
                default: throw new MlsFormatException($"unknown ProposalOrRef type {kind}");
            }
        }
        if (reader.ReadPresence())
        {
            ReadLeafNode(ref reader);
            var nodes = reader.ReadVector();
            while (!nodes.AtEnd)
            {
                nodes.ReadOpaque(); // encryption_key
                var secrets = nodes.ReadVector();
                while (!secrets.AtEnd)
                {
                    secrets.ReadOpaque();
                    secrets.ReadOpaque();
                }
            }
        }
    }

    private static void ReadRatchetTree(ref MlsReader reader)
    {
        var nodes = reader.ReadVector();
        while (!nodes.AtEnd)
        {
            if (!nodes.ReadPresence())
            {
                continue;
            }
            var type = nodes.ReadUInt8();
            switch (type)
            {
                case 1: ReadLeafNode(ref nodes); break;
                case 2:
                    nodes.ReadOpaque();
                    nodes.ReadOpaque();
                    var unmerged = nodes.ReadVector();
                    while (!unmerged.AtEnd)
                    {
                        unmerged.ReadUInt32();
                    }
                    break;
                default: throw new MlsFormatException($"unknown node type {type}");
            }
        }
    }

    private static void ReadGroupSecrets(ref MlsReader reader)
    {
        reader.ReadOpaque(); // joiner_secret
        if (reader.ReadPresence())
        {
            reader.ReadOpaque(); // path_secret
        }
        var psks = reader.ReadVector();
        while (!psks.AtEnd)
        {
            ReadPreSharedKeyId(ref psks);
        }
    }
}

/// <summary>Stand-alone structures <see cref="MlsDecoder.Validate"/> can check.</summary>
public enum MlsStructure
{
    Proposal,
    Commit,
    RatchetTree,
    GroupSecrets,
}
