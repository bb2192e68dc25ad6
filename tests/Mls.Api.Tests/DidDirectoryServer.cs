using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Catbird.Mls.Api.Tests;

/// <summary>
/// A did:plc directory stand-in on a random loopback port: <c>GET /{did}</c> returns the registered document, and
/// <c>/.well-known/did.json</c> the document registered under <c>*web*</c>. Counts fetches so tests can see caching.
/// </summary>
public sealed class DidDirectoryServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _documents = new(StringComparer.Ordinal);
    private int _fetches;

    private DidDirectoryServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<DidDirectoryServer> StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new DidDirectoryServer(app);
        app.MapGet("/.well-known/did.json", () => server.Serve("*web*"));
        app.MapGet("/{did}", (string did) => server.Serve(did));
        await app.StartAsync(ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        server.Url = new Uri(app.Urls.First());
        return server;
    }

    public void Register(string did, string documentJson) => _documents[did] = documentJson;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await _app.DisposeAsync();
    }

    private IResult Serve(string did)
    {
        Interlocked.Increment(ref _fetches);
        return _documents.TryGetValue(did, out var json) ? Results.Text(json, "application/did+ld+json") : Results.NotFound();
    }
}
