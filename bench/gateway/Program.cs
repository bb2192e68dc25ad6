// Through-the-forwarder vs direct, same backend, same run: small GET and 64 KiB POST (requests/s, p50, p99).
// Usage: dotnet run -c Release --project bench/gateway [seconds per case=3] [concurrency=16]
using System.Diagnostics;
using Catbird.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

var seconds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3;
var concurrency = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 16;

await using var backend = await StartAsync(app =>
{
    app.MapGet("/small", () => Results.Text("ok"));
    app.MapPost("/upload", async (HttpContext context) =>
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }
        return Results.Text(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
    });
});
var backendUri = Address(backend);
using var forwarder = new HttpForwarder(new HttpForwarderOptions(), BackendAllowlist.Parse("http://127.0.0.1,127.0.0.0/8"),
    NullLogger<HttpForwarder>.Instance);
await using var gateway = await StartAsync(app =>
    app.Map("/{**rest}", (HttpContext context, string? rest) => forwarder.ForwardAsync(context, new Uri(backendUri, rest ?? ""))));
var gatewayUri = Address(gateway);

var payload = new byte[64 * 1024];
Console.WriteLine($"{seconds}s per case, {concurrency} concurrent clients, {Environment.ProcessorCount} cores");
Console.WriteLine("case                 direct rps  gateway rps  ratio  direct p50/p99 ms  gateway p50/p99 ms");
foreach (var (name, send) in new (string, Func<HttpClient, Task>)[]
{
    ("GET small", async http => { using var r = await http.GetAsync("/small"); await r.Content.ReadAsByteArrayAsync(); }),
    ("POST 64 KiB", async http => { using var r = await http.PostAsync("/upload", new ByteArrayContent(payload)); await r.Content.ReadAsByteArrayAsync(); }),
})
{
    var direct = await RunAsync(backendUri, send);
    var through = await RunAsync(gatewayUri, send);
    Console.WriteLine($"{name,-20} {direct.Rps,10:F0}  {through.Rps,11:F0}  {through.Rps / direct.Rps,5:F2}  {direct.P50,8:F3}/{direct.P99,-8:F3}  {through.P50,8:F3}/{through.P99:F3}");
}

async Task<(double Rps, double P50, double P99)> RunAsync(Uri target, Func<HttpClient, Task> send)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = target };
    for (var i = 0; i < 200; i++)
    {
        await send(http); // warm-up
    }
    var latencies = new List<double>[concurrency];
    var stop = Stopwatch.StartNew();
    var duration = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
    {
        var mine = latencies[worker] = new List<double>(100_000);
        while (stop.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            await send(http);
            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }));
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return (all.Length / stop.Elapsed.TotalSeconds, all[all.Length / 2], all[(int)(all.Length * 0.99)]);
}

static async Task<WebApplication> StartAsync(Action<WebApplication> map)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    var app = builder.Build();
    map(app);
    await app.StartAsync();
    return app;
}

static Uri Address(WebApplication app) =>
    new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
