using System.Text;
using Catbird.Nats;

namespace Catbird.Clients.Tests.Nats;

[Trait("Category", "Unit")]
public sealed class NKeyTests
{
    [Theory]
    [InlineData(NKeyType.User, 'U')]
    [InlineData(NKeyType.Account, 'A')]
    [InlineData(NKeyType.Operator, 'O')]
    public void Seeds_and_public_keys_round_trip_with_their_prefixes(NKeyType type, char prefix)
    {
        var pair = NKeyPair.Create(type);
        Assert.Equal(prefix, pair.PublicKey[0]);
        Assert.Equal("S" + prefix, pair.Seed[..2]);
        Assert.Equal(56, pair.PublicKey.Length);
        var again = NKeyPair.FromSeed(pair.Seed);
        Assert.Equal(pair.PublicKey, again.PublicKey);
        Assert.Equal(type, again.Type);
        Assert.Equal(pair.PublicKeyBytes, NKeyPair.DecodePublicKey(pair.PublicKey, out var decodedType));
        Assert.Equal(type, decodedType);
    }

    [Fact]
    public void Signatures_verify_and_tampering_is_detected()
    {
        var pair = NKeyPair.Create(NKeyType.User);
        var nonce = Encoding.ASCII.GetBytes("a1b2c3d4e5");
        var signature = pair.Sign(nonce);
        Assert.Equal(64, signature.Length);
        Assert.True(NKeyPair.Verify(pair.PublicKey, nonce, signature));
        signature[0] ^= 1;
        Assert.False(NKeyPair.Verify(pair.PublicKey, nonce, signature));
    }

    [Fact]
    public void Corrupted_keys_are_rejected()
    {
        var pair = NKeyPair.Create(NKeyType.User);
        var chars = pair.PublicKey.ToCharArray();
        chars[10] = chars[10] == 'A' ? 'B' : 'A';
        Assert.Throws<FormatException>(() => NKeyPair.DecodePublicKey(new string(chars), out _));
        Assert.Throws<FormatException>(() => NKeyPair.FromSeed(pair.PublicKey));
        Assert.Throws<FormatException>(() => NKeyPair.FromSeed("SU!!"));
    }

    [Fact]
    public void Crc16_is_xmodem() => Assert.Equal(0x31C3, NKeyPair.Crc16("123456789"u8));

    [Fact]
    public void Connection_strings_parse_like_aspire_injects_them()
    {
        var options = NatsOpts.FromUrl("nats://nats:p%40ss%2Fword@127.0.0.1:4333");
        Assert.Equal("nats", options.User);
        Assert.Equal("p@ss/word", options.Password);
        Assert.Equal("tok", NatsOpts.FromUrl("nats://tok@host:1").Token);
        var servers = NatsServerAddress.ParseList("nats://a:1, tls://b:2,c");
        Assert.Equal(["nats://a:1", "tls://b:2", "nats://c:4222"], servers.Select(s => s.ToString()));
        Assert.Throws<FormatException>(() => NatsServerAddress.ParseList("http://x:1"));
    }
}
