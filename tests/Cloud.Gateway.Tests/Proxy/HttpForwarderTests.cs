using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Proxy;

namespace Catbird.Cloud.Gateway.Tests.Proxy;

[Trait("Category", "Service")]
public sealed class HttpForwarderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly BackendAllowlist LoopbackAllowed = BackendAllowlist.Parse("http://127.0.0.1,127.0.0.0/8");

    [Fact]
    public async Task Get_strips_hop_by_hop_headers_and_sets_forwarded_and_trace_headers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await TestBackend.StartAsync(ct).WaitAsync(Timeout, ct);
        await using var gateway = await TestGateway.StartAsync(backend.BaseUri, LoopbackAllowed, ct).WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        using var request = new HttpRequestMessage(HttpMethod.Get, "/p/headers");
        request.Headers.Connection.Add("X-Client-Private");
        request.Headers.Add("X-Client-Private", "must-not-pass");
        request.Headers.Add("X-Custom", "passes");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Add("Proxy-Authorization", "Basic abc");
        var traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        request.Headers.Add("traceparent", traceparent);
        using var response = await http.SendAsync(request, ct).WaitAsync(Timeout, ct);
        var seen = await response.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("x-custom: passes", seen);
        Assert.DoesNotContain("x-client-private", seen);
        Assert.DoesNotContain("proxy-authorization", seen);
        Assert.Contains("x-forwarded-for: 127.0.0.1\n", seen);
        Assert.DoesNotContain("6.6.6.6", seen);
        Assert.Contains("x-forwarded-proto: http", seen);
        Assert.Contains($"x-forwarded-host: {gateway.BaseUri.Authority}", seen);
        Assert.Contains($"host: {backend.BaseUri.Authority}", seen);
        // The gateway either continues the caller's trace (same trace id) or passes the header through.
        var forwardedTrace = seen.Split('\n').Single(l => l.StartsWith("traceparent: ", StringComparison.Ordinal));
        Assert.Contains("0af7651916cd43dd8448eb211c80319c", forwardedTrace);
        Assert.Equal("yes", response.Headers.GetValues("X-Backend").Single());
        Assert.False(response.Headers.Contains("X-Backend-Private"));
    }

    [Fact]
    public async Task Large_request_and_response_bodies_stream_through_intact()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await TestBackend.StartAsync(ct).WaitAsync(Timeout, ct);
        await using var gateway = await TestGateway.StartAsync(backend.BaseUri, LoopbackAllowed, ct).WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };
        var body = RandomNumberGenerator.GetBytes(8 * 1024 * 1024 + 17);

        // Chunked (no Content-Length) so neither hop can size a buffer up front.
        using var content = new StreamContent(new MemoryStream(body));
        using var posted = await http.PostAsync("/p/digest", content, ct).WaitAsync(Timeout, ct);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal($"{body.Length}:{Convert.ToHexString(SHA256.HashData(body))}",
            await posted.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct));

        const int length = 8 * 1024 * 1024 + 5;
        var expected = new byte[length];
        for (var i = 0; i < length; i++)
        {
            expected[i] = (byte)(i * 31);
        }
        using var downloaded = await http.GetAsync($"/p/bytes/{length}", ct).WaitAsync(Timeout, ct);
        Assert.Equal(HttpStatusCode.OK, downloaded.StatusCode);
        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(await downloaded.Content.ReadAsByteArrayAsync(ct).WaitAsync(Timeout, ct)));
    }

    [Fact]
    public async Task Response_body_is_streamed_before_the_backend_finishes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await TestBackend.StartAsync(ct).WaitAsync(Timeout, ct);
        await using var gateway = await TestGateway.StartAsync(backend.BaseUri, LoopbackAllowed, ct).WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        using var response = await http.GetAsync("/p/stream", HttpCompletionOption.ResponseHeadersRead, ct).WaitAsync(Timeout, ct);
        await using var stream = await response.Content.ReadAsStreamAsync(ct).WaitAsync(Timeout, ct);
        var buffer = new byte[6];
        await stream.ReadExactlyAsync(buffer, ct).AsTask().WaitAsync(Timeout, ct);
        Assert.Equal("first;", System.Text.Encoding.ASCII.GetString(buffer));
        Assert.False(backend.StreamGate.Task.IsCompleted);

        backend.StreamGate.SetResult();
        using var reader = new StreamReader(stream);
        Assert.Equal("second", await reader.ReadToEndAsync(ct).WaitAsync(Timeout, ct));
    }

    [Fact]
    public async Task Backend_down_answers_502_problem_details()
    {
        var ct = TestContext.Current.CancellationToken;
        var deadBackend = new Uri($"http://127.0.0.1:{FreePort()}/");
        await using var gateway = await TestGateway.StartAsync(deadBackend, LoopbackAllowed, ct).WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        using var response = await http.GetAsync("/p/anything", ct).WaitAsync(Timeout, ct);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await AssertProblemAsync(response, HttpForwarder.BadGatewayType, 502, ct);
    }

    [Fact]
    public async Task Slow_backend_answers_504_problem_details()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await TestBackend.StartAsync(ct).WaitAsync(Timeout, ct);
        await using var gateway = await TestGateway.StartAsync(backend.BaseUri, LoopbackAllowed, ct,
            new HttpForwarderOptions { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(300) }).WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        var started = Stopwatch.StartNew();
        using var response = await http.GetAsync("/p/slow", ct).WaitAsync(Timeout, ct);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), $"took {started.Elapsed}");
        await AssertProblemAsync(response, HttpForwarder.GatewayTimeoutType, 504, ct);
    }

    [Fact]
    public async Task Circuit_opens_after_repeated_failures_and_closes_when_the_backend_recovers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await TestBackend.StartAsync(ct).WaitAsync(Timeout, ct);
        await using var gateway = await TestGateway.StartAsync(backend.BaseUri, LoopbackAllowed, ct,
            new HttpForwarderOptions { CircuitFailureThreshold = 2, CircuitOpenDuration = TimeSpan.FromMilliseconds(500) })
            .WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        for (var i = 0; i < 2; i++)
        {
            using var failing = await http.GetAsync("/p/status/500", ct).WaitAsync(Timeout, ct);
            Assert.Equal(HttpStatusCode.InternalServerError, failing.StatusCode);
        }
        var hitsBefore = backend.Hits;
        using (var open = await http.GetAsync("/p/status/200", ct).WaitAsync(Timeout, ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
            await AssertProblemAsync(open, HttpForwarder.CircuitOpenType, 503, ct);
        }
        Assert.Equal(hitsBefore, backend.Hits);

        await Task.Delay(TimeSpan.FromMilliseconds(600), ct);
        using (var trial = await http.GetAsync("/p/status/200", ct).WaitAsync(Timeout, ct))
        {
            Assert.Equal(HttpStatusCode.OK, trial.StatusCode);
        }
        using var closed = await http.GetAsync("/p/status/204", ct).WaitAsync(Timeout, ct);
        Assert.Equal(HttpStatusCode.NoContent, closed.StatusCode);
    }

    [Fact]
    public async Task Hostname_resolving_to_loopback_is_refused_at_connect_time()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await TestBackend.StartAsync(ct).WaitAsync(Timeout, ct);
        // The host pattern admits "localhost", but no CIDR admits what it resolves to.
        var allowlist = BackendAllowlist.Parse("http://localhost");
        var viaName = new UriBuilder(backend.BaseUri) { Host = "localhost" }.Uri;
        Assert.True(allowlist.IsUriAllowed(viaName));
        await using var gateway = await TestGateway.StartAsync(viaName, allowlist, ct).WaitAsync(Timeout, ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        using var response = await http.GetAsync("/p/headers", ct).WaitAsync(Timeout, ct);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(0, backend.Hits);
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string type, int status, CancellationToken ct)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct));
        Assert.Equal(type, json.RootElement.GetProperty("type").GetString());
        Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
    }
}
