using System.Buffers;
using System.Buffers.Binary;
using Catbird.Mls.Api.Mls;

namespace Catbird.Mls.Api.Tests;

[Trait("Category", "Unit")]
public sealed class MlsWireFormatTests
{
    [Fact]
    public void Varint_headers_from_deserialization_vectors_decode_and_reencode()
    {
        var cases = Vectors.Load("mls", "deserialization.json");
        Assert.True(cases.GetArrayLength() > 10);
        foreach (var item in cases.EnumerateArray())
        {
            var header = item.Hex("vlbytes_header");
            var length = item.GetProperty("length").GetUInt32();
            var reader = new MlsReader(header);
            Assert.Equal(length, reader.ReadVarint());
            Assert.True(reader.AtEnd);
            var writer = new ArrayBufferWriter<byte>();
            MlsWriter.WriteVarint(writer, length);
            Assert.Equal(header, writer.WrittenSpan.ToArray());
        }
    }

    [Theory]
    [InlineData("4000")] // 0 in two bytes
    [InlineData("403f")] // 63 in two bytes
    [InlineData("80000001")] // 1 in four bytes
    [InlineData("80003fff")] // 16383 in four bytes
    [InlineData("c0")] // reserved prefix
    [InlineData("40")] // truncated
    public void Varint_rejects_non_minimal_reserved_and_truncated(string hex)
    {
        Assert.Throws<MlsFormatException>(() => new MlsReader(Convert.FromHexString(hex)).ReadVarint());
    }

    [Fact]
    public void Every_message_in_messages_vectors_parses_to_its_end()
    {
        var cases = Vectors.Load("mls", "messages.json");
        Assert.Equal(300, cases.GetArrayLength());
        foreach (var item in cases.EnumerateArray())
        {
            Assert.Equal(MlsWireFormat.Welcome, MlsDecoder.DecodeMessage(item.Hex("mls_welcome")).WireFormat);
            var groupInfo = MlsDecoder.DecodeMessage(item.Hex("mls_group_info")).GroupInfo!;
            Assert.Equal(MlsDecoder.Mls10, groupInfo.GroupContext.Version);
            var keyPackage = MlsDecoder.DecodeMessage(item.Hex("mls_key_package")).KeyPackage!;
            Assert.NotEmpty(keyPackage.Signature);

            var application = MlsDecoder.DecodeMessage(item.Hex("public_message_application")).Framed!;
            Assert.Equal(MlsContentType.Application, application.ContentType);
            Assert.Equal(groupInfo.GroupContext.GroupId, application.GroupId);
            Assert.Equal(MlsContentType.Proposal, MlsDecoder.DecodeMessage(item.Hex("public_message_proposal")).Framed!.ContentType);
            Assert.Equal(MlsContentType.Commit, MlsDecoder.DecodeMessage(item.Hex("public_message_commit")).Framed!.ContentType);
            var privateMessage = MlsDecoder.DecodeMessage(item.Hex("private_message"));
            Assert.Equal(MlsWireFormat.PrivateMessage, privateMessage.WireFormat);
            Assert.Equal(groupInfo.GroupContext.GroupId, privateMessage.Framed!.GroupId);

            MlsDecoder.Validate(item.Hex("commit"), MlsStructure.Commit);
            MlsDecoder.Validate(item.Hex("ratchet_tree"), MlsStructure.RatchetTree);
            MlsDecoder.Validate(item.Hex("group_secrets"), MlsStructure.GroupSecrets);
            string[] proposals = ["add_proposal", "update_proposal", "remove_proposal", "pre_shared_key_proposal",
                "re_init_proposal", "external_init_proposal", "group_context_extensions_proposal"];
            for (var i = 0; i < proposals.Length; i++)
            {
                MlsDecoder.Validate([0, (byte)(i + 1), .. item.Hex(proposals[i])], MlsStructure.Proposal);
            }
        }
    }

    [Fact]
    public void Key_packages_parse_bare_and_wrapped_identically()
    {
        foreach (var item in Vectors.Load("mls", "messages.json").EnumerateArray().Take(40))
        {
            var wrapped = item.Hex("mls_key_package");
            var fromWrapped = MlsDecoder.DecodeKeyPackage(wrapped);
            var fromBare = MlsDecoder.DecodeKeyPackage(wrapped.AsSpan(4));
            Assert.Equal(wrapped.AsSpan(4).ToArray(), fromWrapped.Encoded);
            Assert.Equal(fromWrapped.Encoded, fromBare.Encoded);
            Assert.Equal(fromWrapped.CipherSuite, fromBare.CipherSuite);
        }
    }

    [Fact]
    public void Every_truncation_and_any_trailing_byte_is_a_format_error()
    {
        foreach (var item in Vectors.Load("mls", "messages.json").EnumerateArray().Take(6))
        {
            foreach (var field in new[] { "mls_welcome", "mls_group_info", "mls_key_package", "public_message_commit", "private_message" })
            {
                var bytes = item.Hex(field);
                for (var length = 0; length < bytes.Length; length++)
                {
                    Assert.Throws<MlsFormatException>(() => MlsDecoder.DecodeMessage(bytes.AsSpan(0, length)));
                }
                Assert.Throws<MlsFormatException>(() => MlsDecoder.DecodeMessage([.. bytes, 0]));
            }
        }
    }

    [Fact]
    public void Corrupted_bytes_either_parse_or_fail_with_a_format_error()
    {
        var random = new Random(9420);
        foreach (var item in Vectors.Load("mls", "messages.json").EnumerateArray().Take(10))
        {
            foreach (var field in new[] { "mls_welcome", "mls_group_info", "mls_key_package", "public_message_proposal", "private_message" })
            {
                var original = item.Hex(field);
                for (var round = 0; round < 200; round++)
                {
                    var bytes = (byte[])original.Clone();
                    for (var flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    }
                    try
                    {
                        MlsDecoder.DecodeMessage(bytes);
                        MlsDecoder.DecodeKeyPackage(bytes);
                    }
                    catch (MlsFormatException)
                    {
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("0002000300010000")] // version 2
    [InlineData("0000000300010000")] // version 0
    [InlineData("0001000600010000")] // unknown wire format
    [InlineData("00010001")] // public message with no content
    [InlineData("000100027fffffff")] // group_id length beyond the buffer
    [InlineData("")]
    public void Hostile_headers_are_format_errors(string hex)
    {
        Assert.Throws<MlsFormatException>(() => MlsDecoder.DecodeMessage(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Oversized_vector_length_is_a_format_error_not_an_allocation()
    {
        // PrivateMessage whose group_id claims 2^30-1 bytes.
        byte[] bytes = [0, 1, 0, 2, 0xBF, 0xFF, 0xFF, 0xFF, 1, 2, 3];
        var error = Assert.Throws<MlsFormatException>(() => MlsDecoder.DecodeMessage(bytes));
        Assert.Contains("exceeds", error.Message);
    }

    [Fact]
    public void Private_message_routing_fields_are_read_without_keys()
    {
        byte[] bytes = [0, 1, 0, 2, 3, (byte)'a', (byte)'b', (byte)'c', .. BigEndian(7UL), 1, 0, 2, 0xAA, 0xBB, 1, 0xCC];
        var message = MlsDecoder.DecodeMessage(bytes);
        Assert.Equal("abc"u8.ToArray(), message.Framed!.GroupId);
        Assert.Equal(7UL, message.Framed.Epoch);
        Assert.Equal(MlsContentType.Application, message.Framed.ContentType);
    }

    private static byte[] BigEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }
}
