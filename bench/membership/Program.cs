// catbird.membership.check round trips per second at 32 concurrent callers, against a bare NATS request/reply echo
// responder on the same server in the same run. usage: dotnet run -c Release --project bench/membership -- [seconds]
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Catbird.Nats;
using Catbird.Nats.JetStream;
using Catbird.Testing;

const int Callers = 32;
var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5;
await using var nats = await NatsServer.StartAsync();
var state = ServerBinaries.NewTempDirectory("membench");
var dll = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "membership-worker-path.txt")).Trim();
Environment.SetEnvironmentVariable("ConnectionStrings__nats", nats.Url);
Environment.SetEnvironmentVariable("MEMBERSHIP_DB", Path.Combine(state, "membership.db"));
Environment.SetEnvironmentVariable("ASPNETCORE_URLS", $"http://127.0.0.1:{ServerProcess.FreePort()}");
Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
await using var worker = ServerProcess.Start("membership-worker", "dotnet", [dll], Path.GetDirectoryName(dll));

await using var connection = new NatsConnection(NatsOpts.FromUrl(nats.Url) with { RequestTimeout = TimeSpan.FromSeconds(10) });
var js = new NatsJSContext(connection);
for (var attempt = 0; ; attempt++)
{
    try
    {
        for (var r = 0; r < 100; r++)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new { type = "created", convoId = $"room{r}", epoch = 1, members = new[] { $"did:plc:member{r}", "did:plc:everyone" } });
            await js.PublishAsync($"catbird.events.mls.convo.room{r}.created", body, new NatsJSPubOpts { MsgId = $"room{r}:created" });
        }

        break;
    }
    catch (NatsException) when (attempt < 200)
    {
        await Task.Delay(100); // the worker creates the stream when it starts
    }
}

var probe = JsonSerializer.SerializeToUtf8Bytes(new { room = "room99", subject = "did:plc:everyone" });
var deadline = Stopwatch.StartNew();
while (!Encoding.UTF8.GetString((await TryRequest(connection, "catbird.membership.check", probe)).Span).Contains("\"member\":true", StringComparison.Ordinal))
{
    if (deadline.Elapsed > TimeSpan.FromSeconds(60))
    {
        throw new TimeoutException("the worker never answered for room99:\n" + worker.RecentOutput);
    }

    await Task.Delay(100);
}

await using var echo = await connection.SubscribeAsync("bench.echo");
_ = Task.Run(async () =>
{
    await foreach (var msg in echo.ReadAllAsync())
    {
        await msg.ReplyAsync(msg.Data);
    }
});
await connection.FlushAsync();

var requests = Enumerable.Range(0, 100).Select(r => JsonSerializer.SerializeToUtf8Bytes(new { room = $"room{r}", subject = r % 2 == 0 ? "did:plc:everyone" : "did:plc:stranger" })).ToArray();
var checkRate = await Measure("catbird.membership.check", i => requests[i % requests.Length]);
var echoRate = await Measure("bench.echo", i => requests[i % requests.Length]);
Console.WriteLine($"membership.check: {checkRate:N0} rt/s; echo responder: {echoRate:N0} rt/s; ratio {checkRate / echoRate:0.00}x ({Callers} callers, {seconds} s each)");
ServerBinaries.DeleteDirectory(state);

async Task<double> Measure(string subject, Func<int, byte[]> body)
{
    long count = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Callers).Select(async c =>
    {
        var i = c;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            await connection.RequestAsync(subject, body(i));
            i += Callers;
            Interlocked.Increment(ref count);
        }
    }));
    return count / clock.Elapsed.TotalSeconds;
}

static async Task<ReadOnlyMemory<byte>> TryRequest(NatsConnection connection, string subject, byte[] body)
{
    try
    {
        return (await connection.RequestAsync(subject, body, timeout: TimeSpan.FromSeconds(2))).Data;
    }
    catch (NatsException)
    {
        return ReadOnlyMemory<byte>.Empty;
    }
}
