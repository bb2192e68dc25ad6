using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Service")]
public sealed class RedisPubSubTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Subscribe_ReceivesPublishedMessages_AndUnsubscribeStopsThem()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        var options = RedisOptions.Parse(server.ConnectionString);
        await using var redis = await RedisConnection.ConnectAsync(options, Ct).WaitAsync(Timeout, Ct);
        await using var subscriber = new RedisSubscriber(options);

        var subscription = await subscriber.SubscribeAsync("news", Ct).WaitAsync(Timeout, Ct);
        var second = await subscriber.SubscribeAsync("news", Ct).WaitAsync(Timeout, Ct);
        var pattern = await subscriber.PatternSubscribeAsync("news.*", Ct).WaitAsync(Timeout, Ct);

        Assert.Equal(1, await redis.PublishAsync("news", "hello", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(1, await redis.PublishAsync("news.sport", new byte[] { 1, 2 }, Ct).AsTask().WaitAsync(Timeout, Ct));

        var message = await subscription.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(("news", "hello", null), (message.Channel, message.Text, message.Pattern));
        Assert.Equal("hello", (await second.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct)).Text);
        var matched = await pattern.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(("news.sport", "news.*"), (matched.Channel, matched.Pattern));
        Assert.Equal([1, 2], matched.Payload);

        // Both local subscriptions share one server subscription; it ends when the last one is disposed.
        await subscription.DisposeAsync();
        Assert.Equal(1, await redis.PublishAsync("news", "still", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("still", (await second.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct)).Text);
        await second.DisposeAsync();
        await pattern.DisposeAsync();
        await WaitUntilAsync(async () => await redis.PublishAsync("news", "gone", Ct) == 0);
        Assert.True(subscription.Reader.Completion.IsCompleted);
    }

    [Fact]
    public async Task Subscription_AsyncEnumerable_YieldsMessagesInOrder()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        var options = RedisOptions.Parse(server.ConnectionString);
        await using var redis = await RedisConnection.ConnectAsync(options, Ct).WaitAsync(Timeout, Ct);
        await using var subscriber = new RedisSubscriber(options);
        await using var subscription = await subscriber.SubscribeAsync("events", Ct).WaitAsync(Timeout, Ct);
        for (var i = 0; i < 100; i++)
        {
            await redis.PublishAsync("events", i.ToString(System.Globalization.CultureInfo.InvariantCulture), Ct).AsTask().WaitAsync(Timeout, Ct);
        }

        var received = new List<string>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        await foreach (var message in subscription.WithCancellation(cts.Token))
        {
            received.Add(message.Text);
            if (received.Count == 100)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), received);
    }

    [Fact]
    public async Task SlowConsumer_FullChannel_DropsAndCounts()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        var options = RedisOptions.Parse(server.ConnectionString) with { SubscriptionCapacity = 10 };
        await using var redis = await RedisConnection.ConnectAsync(options, Ct).WaitAsync(Timeout, Ct);
        await using var subscriber = new RedisSubscriber(options);
        await using var subscription = await subscriber.SubscribeAsync("flood", Ct).WaitAsync(Timeout, Ct);
        for (var i = 0; i < 50; i++)
        {
            await redis.PublishAsync("flood", "x", Ct).AsTask().WaitAsync(Timeout, Ct);
        }

        await WaitUntilAsync(() => Task.FromResult(subscription.DroppedMessages == 40));
        Assert.Equal(10, subscription.Reader.Count);
    }

    [Fact]
    public async Task ServerRestart_SubscriberResubscribes()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        var options = RedisOptions.Parse(server.ConnectionString) with
        {
            ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        };
        await using var redis = new RedisConnection(options);
        await using var subscriber = new RedisSubscriber(options);
        await using var channel = await subscriber.SubscribeAsync("room", Ct).WaitAsync(Timeout, Ct);
        await using var pattern = await subscriber.PatternSubscribeAsync("room*", Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(2, await redis.PublishAsync("room", "before", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("before", (await channel.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct)).Text);
        Assert.Equal("before", (await pattern.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct)).Text);

        server.Kill();
        await server.RestartAsync(Ct);

        // PUBLISH counts receivers: 1 once the subscriber has subscribed again to the channel (the pattern counts too).
        await WaitUntilAsync(async () =>
        {
            try
            {
                return await redis.PublishAsync("other", "probe", Ct) == 0 && await redis.PublishAsync("room", "probe", Ct) == 2;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        });
        Assert.Equal(2, await redis.PublishAsync("room", "after", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("after", await ReadUntilAsync(channel, "after"));
        Assert.Equal("after", await ReadUntilAsync(pattern, "after"));
        Assert.True(subscriber.IsConnected);
    }

    private static async Task<string> ReadUntilAsync(RedisSubscription subscription, string text)
    {
        while (true)
        {
            var message = await subscription.Reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            if (message.Text == text)
            {
                return text;
            }
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition().WaitAsync(Timeout, Ct))
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 20 s");
            await Task.Delay(20, Ct);
        }
    }
}
