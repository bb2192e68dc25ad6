using System.Net;
using System.Text.Json;
using Catbird.Nats;
using Catbird.Redis;
using Catbird.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Catbird.ServiceDefaults.Tests;

/// <summary>AddRedisClient and AddNatsClient as services use them: clients from connection strings, readiness checks.</summary>
[Trait("Category", "Service")]
public sealed class ClientIntegrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Readiness_follows_redis_and_nats_and_the_clients_work()
    {
        await using var redis = await RedisServer.StartAsync("pw", Ct);
        await using var nats = await NatsServer.StartAsync(new NatsServerOptions { JetStream = false }, Ct);
        await using var app = Build(redis.ConnectionString, nats.Url);
        await app.StartAsync(Ct);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(Address(app)), Timeout = TimeSpan.FromSeconds(15) };
            var ready = await ReadyAsync(http);
            Assert.Equal(HttpStatusCode.OK, ready.Status);
            Assert.Equal("Healthy", ready.Entries["redis"]);
            Assert.Equal("Healthy", ready.Entries["nats"]);

            var client = app.Services.GetRequiredService<RedisConnection>();
            Assert.True(await client.SetAsync("integration", "ok", ct: Ct));
            Assert.Equal("ok", await client.GetStringAsync("integration", Ct));
            var connection = app.Services.GetRequiredService<NatsConnection>();
            await connection.PingAsync(Ct);

            await redis.StopAsync();
            var down = await ReadyAsync(http);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Status);
            Assert.Equal("Unhealthy", down.Entries["redis"]);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("redis", "ConnectionStrings__redis")]
    [InlineData("nats", "ConnectionStrings__nats")]
    public void A_missing_connection_string_is_named(string missing, string variable)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(missing == "redis" ? null : "127.0.0.1:1", missing == "nats" ? null : "nats://127.0.0.1:1"));
        Assert.Contains(variable, error.Message);
    }

    private static WebApplication Build(string? redis, string? nats)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (redis is not null)
        {
            builder.Configuration["ConnectionStrings:redis"] = redis;
        }

        if (nats is not null)
        {
            builder.Configuration["ConnectionStrings:nats"] = nats;
        }

        builder.AddServiceDefaults();
        builder.AddRedisClient("redis");
        builder.AddNatsClient("nats");
        var app = builder.Build();
        app.MapDefaultEndpoints();
        return app;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    private static async Task<(HttpStatusCode Status, Dictionary<string, string> Entries)> ReadyAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/health/ready", Ct);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return (response.StatusCode, json.RootElement.GetProperty("entries").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetProperty("status").GetString()!));
    }
}
