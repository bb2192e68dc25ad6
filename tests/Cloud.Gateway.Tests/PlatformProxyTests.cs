using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Catbird.Cloud.Gateway.Tests;

/// <summary>A real backend on a loopback port, standing in for mls-api and kas-api.</summary>
public sealed class Backend : IAsyncLifetime
{
    private WebApplication? _app;

    public Uri Url { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/xrpc/{nsid}", (HttpContext context, string nsid) => Results.Json(new Dictionary<string, string?>
        {
            ["nsid"] = nsid,
            ["query"] = context.Request.QueryString.Value,
            ["forwardedFor"] = context.Request.Headers["X-Forwarded-For"],
            ["forwardedProto"] = context.Request.Headers["X-Forwarded-Proto"],
            ["forwardedHost"] = context.Request.Headers["X-Forwarded-Host"],
            ["custom"] = context.Request.Headers["X-Custom"],
            ["kept"] = context.Request.Headers["X-Kept"],
            ["authorization"] = context.Request.Headers.Authorization,
        }));
        _app.MapPost("/kas/v2/rewrap", async (HttpContext context) =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                total += read;
            }

            context.Response.Headers["X-Backend"] = "kas";
            context.Response.Headers.Connection = "X-Secret-Hop";
            context.Response.Headers["X-Secret-Hop"] = "must not pass";
            return Results.Json(new Dictionary<string, string> { ["length"] = total.ToString(), ["sha256"] = Convert.ToHexString(sha.GetHashAndReset()) }, statusCode: 201);
        });
        _app.MapGet("/media/slow", async (CancellationToken ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
            return Results.Ok();
        });
        await _app.StartAsync();
        Url = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

[Trait("Category", "Service")]
public sealed class PlatformProxyTests(Backend backend) : IClassFixture<Backend>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private WebApplicationFactory<Program> Gateway(string? kasUrl = null) => new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
    {
        web.UseSetting("ConnectionStrings:gatewaydb", "Host=127.0.0.1;Port=1;Username=x;Password=x;Database=gatewaydb");
        web.UseSetting("ConnectionStrings:redis", "127.0.0.1:1");
        web.UseSetting("services:mls-api:http:0", backend.Url.ToString());
        web.UseSetting("services:kas-api:http:0", kasUrl ?? backend.Url.ToString());
        web.UseSetting("GATEWAY_BACKEND_TIMEOUT_SECONDS", "1");
    });

    [Fact]
    public async Task Mls_xrpc_calls_reach_mls_api_with_forwarding_headers_and_without_hop_by_hop_headers()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/xrpc/blue.catbird.mls.getConvos?limit=5&cursor=abc");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "token-123");
        request.Headers.Connection.Add("X-Custom");
        request.Headers.Add("X-Custom", "hop-only");
        request.Headers.Add("X-Kept", "end-to-end");
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var seen = body.RootElement;
        Assert.Equal("blue.catbird.mls.getConvos", seen.GetProperty("nsid").GetString());
        Assert.Equal("?limit=5&cursor=abc", seen.GetProperty("query").GetString());
        Assert.Equal("Bearer token-123", seen.GetProperty("authorization").GetString());
        Assert.Equal("end-to-end", seen.GetProperty("kept").GetString());
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("custom").ValueKind);
        Assert.Equal("http", seen.GetProperty("forwardedProto").GetString());
        Assert.Equal("localhost", seen.GetProperty("forwardedHost").GetString());
    }

    [Fact]
    public async Task Large_bodies_stream_through_to_kas_and_response_headers_come_back_filtered()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        var payload = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 17);
        using var response = await client.PostAsync("/kas/v2/rewrap", new ByteArrayContent(payload), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(payload.Length.ToString(), body.RootElement.GetProperty("length").GetString());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(payload)), body.RootElement.GetProperty("sha256").GetString());
        Assert.Equal("kas", response.Headers.GetValues("X-Backend").Single());
        Assert.False(response.Headers.Contains("X-Secret-Hop"));
    }

    [Fact]
    public async Task A_down_backend_is_502_and_a_slow_one_504_as_problem_details()
    {
        int closedPort;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await using (var gateway = Gateway(kasUrl: $"http://127.0.0.1:{closedPort}/"))
        {
            using var client = gateway.CreateClient();
            using var down = await client.GetAsync("/kas/v2/kas_public_key", Ct);
            Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
            Assert.Equal("application/problem+json", down.Content.Headers.ContentType?.MediaType);
            Assert.Contains(Catbird.Proxy.HttpForwarder.BadGatewayType, await down.Content.ReadAsStringAsync(Ct));
        }

        await using (var gateway = Gateway())
        {
            using var client = gateway.CreateClient();
            using var slow = await client.GetAsync("/media/slow", Ct);
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
            Assert.Contains(Catbird.Proxy.HttpForwarder.GatewayTimeoutType, await slow.Content.ReadAsStringAsync(Ct));
        }
    }

    [Fact]
    public async Task Other_xrpc_namespaces_are_not_forwarded()
    {
        await using var gateway = Gateway();
        using var client = gateway.CreateClient();
        using var response = await client.GetAsync("/xrpc/com.atproto.server.describeServer", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("\"error\":\"MethodNotImplemented\"", await response.Content.ReadAsStringAsync(Ct));
    }
}
