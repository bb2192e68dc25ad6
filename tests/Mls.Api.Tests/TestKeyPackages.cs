using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Catbird.Mls.Api.Mls;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Catbird.Mls.Api.Tests;

/// <summary>Builds signed suite-1 (Ed25519) key packages and matching Welcome envelopes, for service tests.</summary>
internal static class TestKeyPackages
{
    public static readonly MlsCipherSuite Suite = MlsCipherSuite.FromId(1)!;

    /// <summary>A bare KeyPackage whose basic credential identity is <paramref name="identity"/>, signed with a fresh Ed25519 key.</summary>
    public static byte[] Create(string identity)
    {
        var privateKey = RandomNumberGenerator.GetBytes(32);
        var publicKey = new byte[32];
        Ed25519.GeneratePublicKey(privateKey, 0, publicKey, 0);
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var leaf = new ArrayBufferWriter<byte>();
        MlsWriter.WriteOpaque(leaf, RandomNumberGenerator.GetBytes(32)); // encryption_key
        MlsWriter.WriteOpaque(leaf, publicKey); // signature_key
        leaf.Write<byte>([0, 1]); // basic credential
        MlsWriter.WriteOpaque(leaf, Encoding.UTF8.GetBytes(identity));
        leaf.Write<byte>([2, 0, 1, 2, 0, 1, 0, 0, 2, 0, 1]); // capabilities: versions [1], suites [1], extensions [], proposals [], credentials [1]
        leaf.Write<byte>([1]); // leaf_node_source = key_package
        WriteUInt64(leaf, now - 3600);
        WriteUInt64(leaf, now + 30 * 86400);
        leaf.Write<byte>([0]); // extensions
        var leafTbs = leaf.WrittenSpan.ToArray();
        MlsWriter.WriteOpaque(leaf, Sign(privateKey, "LeafNodeTBS", leafTbs));

        var package = new ArrayBufferWriter<byte>();
        package.Write<byte>([0, 1, 0, 1]); // mls10, suite 1
        MlsWriter.WriteOpaque(package, RandomNumberGenerator.GetBytes(32)); // init_key
        package.Write(leaf.WrittenSpan);
        package.Write<byte>([0]); // extensions
        var tbs = package.WrittenSpan.ToArray();
        MlsWriter.WriteOpaque(package, Sign(privateKey, "KeyPackageTBS", tbs));
        return package.WrittenSpan.ToArray();
    }

    /// <summary>An MLSMessage Welcome whose secrets are addressed to the given key packages (contents random).</summary>
    public static byte[] Welcome(params byte[][] keyPackages)
    {
        var secrets = new ArrayBufferWriter<byte>();
        foreach (var keyPackage in keyPackages)
        {
            MlsWriter.WriteOpaque(secrets, MlsCrypto.KeyPackageRef(Suite, keyPackage));
            MlsWriter.WriteOpaque(secrets, RandomNumberGenerator.GetBytes(32));
            MlsWriter.WriteOpaque(secrets, RandomNumberGenerator.GetBytes(64));
        }
        var welcome = new ArrayBufferWriter<byte>();
        welcome.Write<byte>([0, 1, 0, 3, 0, 1]);
        MlsWriter.WriteOpaque(welcome, secrets.WrittenSpan);
        MlsWriter.WriteOpaque(welcome, RandomNumberGenerator.GetBytes(100));
        return welcome.WrittenSpan.ToArray();
    }

    public static string Hash(byte[] keyPackage) => Convert.ToHexStringLower(SHA256.HashData(keyPackage));

    private static byte[] Sign(byte[] privateKey, string label, byte[] content)
    {
        var message = MlsCrypto.SignContent(label, content);
        var signature = new byte[64];
        Ed25519.Sign(privateKey, 0, message, 0, message.Length, signature, 0);
        return signature;
    }

    private static void WriteUInt64(ArrayBufferWriter<byte> writer, ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(writer.GetSpan(8), value);
        writer.Advance(8);
    }
}
