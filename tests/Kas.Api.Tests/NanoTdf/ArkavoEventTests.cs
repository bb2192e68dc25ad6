using Catbird.Kas.Api.WebSocket;

namespace Catbird.Kas.Api.Tests.NanoTdf;

[Trait("Category", "Unit")]
public sealed class ArkavoEventTests
{
    public static TheoryData<ArkavoEvent> Events() =>
    [
        new ArkavoEvent(ArkavoAction.Cache, 1_700_000_000_123, 2, ArkavoEventData.CacheEvent, [1, 2, 3], [9, 8, 7, 6], 300, true),
        new ArkavoEvent(ArkavoAction.Join, ulong.MaxValue, -1, ArkavoEventData.UserEvent, [0, 0, 5], null, 0, false),
        new ArkavoEvent(ArkavoAction.Share, 7, 1, ArkavoEventData.RouteEvent, [42], [1], 0, false),
        new ArkavoEvent(ArkavoAction.Leave, 0, 0, ArkavoEventData.None, null, null, 0, false),
    ];

    [Theory]
    [MemberData(nameof(Events))]
    public void Written_events_read_back(ArkavoEvent arkavoEvent)
    {
        var bytes = arkavoEvent.Write();
        var read = ArkavoEvent.Read(bytes);

        Assert.Equal(arkavoEvent.Action, read.Action);
        Assert.Equal(arkavoEvent.Timestamp, read.Timestamp);
        Assert.Equal(arkavoEvent.Status, read.Status);
        Assert.Equal(arkavoEvent.DataType, read.DataType);
        Assert.Equal(arkavoEvent.TargetId, read.TargetId);
        Assert.Equal(arkavoEvent.TargetPayload, read.TargetPayload);
        Assert.Equal(arkavoEvent.Ttl, read.Ttl);
        Assert.Equal(arkavoEvent.OneTimeAccess, read.OneTimeAccess);
    }

    [Fact]
    public void Truncated_and_mutated_buffers_only_raise_format_errors()
    {
        var random = new Random(7);
        var seed = new ArkavoEvent(ArkavoAction.Cache, 5, 1, ArkavoEventData.CacheEvent, [1, 2, 3, 4], [5, 6, 7], 10, false).Write();
        for (var length = 0; length < seed.Length; length++)
        {
            Check(seed[..length]);
        }

        for (var i = 0; i < 3000; i++)
        {
            var bytes = seed.ToArray();
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            Check(bytes);
        }

        static void Check(byte[] bytes)
        {
            try
            {
                ArkavoEvent.Read(bytes);
            }
            catch (FormatException)
            {
            }
            catch (OverflowException)
            {
            }
        }
    }

    [Fact]
    public void Base58_matches_known_values()
    {
        Assert.Equal("", Base58.Encode([]));
        Assert.Equal("11", Base58.Encode([0, 0]));
        Assert.Equal("StV1DL6CwTryKyV", Base58.Encode("hello world"u8));
    }
}
