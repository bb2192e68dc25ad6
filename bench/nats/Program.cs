// NATS throughput: Catbird.Nats against the official JavaScript client (@nats-io/transport-node) on the same server,
// in the same run. usage: dotnet run -c Release --project bench/nats -- [messages]
using System.Diagnostics;
using System.Text.Json;
using Catbird.Nats;
using Catbird.Testing;

var messages = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var payload = new byte[16];
await using var server = await NatsServer.StartAsync(new NatsServerOptions { JetStream = false });
Console.WriteLine($"nats-server on {server.Url}, {messages:N0} messages of {payload.Length} bytes");

async Task<double> PublishOnly()
{
    await using var connection = new NatsConnection(server.Url);
    await connection.ConnectAsync();
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < messages; i++)
    {
        await connection.PublishAsync("bench.pub", payload);
    }

    await connection.FlushAsync();
    return messages / watch.Elapsed.TotalSeconds;
}

async Task<double> PublishSubscribe()
{
    await using var subscriber = new NatsConnection(NatsOpts.FromUrl(server.Url) with { SubPendingChannelCapacity = 1_000_000 });
    await using var publisher = new NatsConnection(server.Url);
    await using var subscription = await subscriber.SubscribeAsync("bench.pubsub");
    await subscriber.FlushAsync();
    var received = Task.Run(async () =>
    {
        var count = 0;
        while (count < messages && await subscription.Msgs.WaitToReadAsync())
        {
            while (subscription.Msgs.TryRead(out _))
            {
                count++;
            }
        }
    });
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < messages; i++)
    {
        await publisher.PublishAsync("bench.pubsub", payload);
    }

    await publisher.FlushAsync();
    await received.WaitAsync(TimeSpan.FromMinutes(2));
    return messages / watch.Elapsed.TotalSeconds;
}

async Task<double> RequestReply(int concurrency)
{
    await using var service = new NatsConnection(server.Url);
    await using var client = new NatsConnection(server.Url);
    await using var subscription = await service.SubscribeAsync("bench.echo");
    _ = Task.Run(async () =>
    {
        await foreach (var msg in subscription.ReadAllAsync())
        {
            await msg.ReplyAsync(msg.Data);
        }
    });
    await service.FlushAsync();
    await client.RequestAsync("bench.echo", payload);
    var total = 0L;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (watch.Elapsed < TimeSpan.FromSeconds(3))
        {
            await client.RequestAsync("bench.echo", payload);
            Interlocked.Increment(ref total);
        }
    }));
    return total / watch.Elapsed.TotalSeconds;
}

async Task<double> PublishAllocations()
{
    await using var connection = new NatsConnection(server.Url);
    await connection.ConnectAsync();
    for (var i = 0; i < 10_000; i++)
    {
        await connection.PublishAsync("bench.alloc", payload);
    }

    await connection.FlushAsync();
    var before = GC.GetAllocatedBytesForCurrentThread();
    const int count = 100_000;
    for (var i = 0; i < count; i++)
    {
        await connection.PublishAsync("bench.alloc", payload);
    }

    var perPublish = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)count;
    await connection.FlushAsync();
    return perPublish;
}

Console.WriteLine($"allocated per publish (publishing thread): {await PublishAllocations():0.0} bytes");

var ours = new Dictionary<string, double>
{
    ["publish"] = await PublishOnly(),
    ["pubsub"] = await PublishSubscribe(),
    ["request1"] = await RequestReply(1),
    ["request32"] = await RequestReply(32),
};

var node = await NodeScript.RunAsync("nats/bench.mjs", [server.Url, messages.ToString()], null, TimeSpan.FromMinutes(5), CancellationToken.None);
node.EnsureSuccess("nats/bench.mjs");
var theirs = JsonSerializer.Deserialize<Dictionary<string, double>>(node.StdOut.Trim().Split('\n')[^1])!;

Console.WriteLine($"{"test",-28} {"Catbird.Nats",14} {"nats.js",14} {"ratio",7}");
foreach (var (name, label) in new[] { ("publish", "publish-only msgs/s"), ("pubsub", "pub->sub msgs/s"), ("request1", "request/reply rt/s (1)"), ("request32", "request/reply rt/s (32)") })
{
    Console.WriteLine($"{label,-28} {ours[name],14:N0} {theirs[name],14:N0} {ours[name] / theirs[name],6:0.00}x");
}
