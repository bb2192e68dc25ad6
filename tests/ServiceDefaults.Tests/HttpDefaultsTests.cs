using System.Net;
using Catbird.ServiceDefaults.Http;
using Microsoft.Extensions.Configuration;

namespace Catbird.ServiceDefaults.Tests;

[Trait("Category", "Unit")]
public sealed class HttpDefaultsTests
{
    private static readonly IConfiguration Endpoints = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["services:mls-api:http:0"] = "http://127.0.0.1:5101",
        ["services:kas-api:http:0"] = "http://127.0.0.1:5102",
        ["services:kas-api:https:0"] = "https://127.0.0.1:5103",
    }).Build();

    [Theory]
    [InlineData("http://mls-api/xrpc/blue.catbird.mls.getConvos?limit=5", "http://127.0.0.1:5101/xrpc/blue.catbird.mls.getConvos?limit=5")]
    [InlineData("https+http://kas-api/kas/v2/rewrap", "https://127.0.0.1:5103/kas/v2/rewrap")]
    [InlineData("https+http://mls-api/health", "http://127.0.0.1:5101/health")]
    [InlineData("http://unknown-service/x", "http://unknown-service/x")]
    [InlineData("http://example.com/x", "http://example.com/x")]
    public void Service_names_resolve_from_injected_endpoints(string request, string expected) =>
        Assert.Equal(expected, new ServiceEndpointResolver(Endpoints).Rewrite(new Uri(request)).ToString());

    [Fact]
    public async Task Idempotent_requests_are_retried_on_transient_failures()
    {
        var backend = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.BadGateway, HttpStatusCode.OK);
        using var client = new HttpClient(new StandardResilienceHandler(Fast) { InnerHandler = backend });
        using var response = await client.GetAsync("http://backend/x", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, backend.Calls);
    }

    [Fact]
    public async Task Posts_are_not_retried()
    {
        var backend = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        using var client = new HttpClient(new StandardResilienceHandler(Fast) { InnerHandler = backend });
        using var response = await client.PostAsync("http://backend/x", new StringContent("{}"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, backend.Calls);
    }

    [Fact]
    public async Task Client_errors_are_not_retried_and_retries_stop_at_the_limit()
    {
        var notFound = new ScriptedHandler(HttpStatusCode.NotFound, HttpStatusCode.OK);
        using (var client = new HttpClient(new StandardResilienceHandler(Fast) { InnerHandler = notFound }))
        {
            using var response = await client.GetAsync("http://backend/x", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(1, notFound.Calls);
        var failing = new ScriptedHandler(Enumerable.Repeat(HttpStatusCode.InternalServerError, 10).ToArray());
        using (var client = new HttpClient(new StandardResilienceHandler(Fast with { MaxRetries = 2 }) { InnerHandler = failing }))
        {
            using var response = await client.GetAsync("http://backend/x", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        Assert.Equal(3, failing.Calls);
    }

    [Fact]
    public async Task A_slow_attempt_times_out_and_is_retried()
    {
        var backend = new ScriptedHandler(HttpStatusCode.OK) { FirstDelay = TimeSpan.FromSeconds(5) };
        using var client = new HttpClient(new StandardResilienceHandler(Fast with { AttemptTimeout = TimeSpan.FromMilliseconds(200) }) { InnerHandler = backend });
        using var response = await client.GetAsync("http://backend/x", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, backend.Calls);
    }

    private static ResilienceSettings Fast => new() { RetryDelay = TimeSpan.FromMilliseconds(1), TotalTimeout = TimeSpan.FromSeconds(10) };

    private sealed class ScriptedHandler(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => _calls;

        public TimeSpan FirstDelay { get; init; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            if (call == 1 && FirstDelay > TimeSpan.Zero)
            {
                await Task.Delay(FirstDelay, cancellationToken);
            }

            return new HttpResponseMessage(statuses[Math.Min(call - 1, statuses.Length - 1)]);
        }
    }
}
