using System.Net;
using Catbird.Hosting.ApplicationModel;

namespace Catbird.System.Tests;

/// <summary>One AppHost run shared by the tests of <see cref="RunningApplicationTests"/>.</summary>
public sealed class RunningApplication : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    public AppHostProcess AppHost { get; private set; } = null!;

    public ResourceInfo[] Healthy { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        AppHost = AppHostProcess.Start();
        using var cts = new CancellationTokenSource(StartTimeout + TimeSpan.FromSeconds(10));
        Healthy = await AppHost.WaitUntilAsync(resources => resources.All(r => r.Health == "Healthy"), StartTimeout, cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (AppHost is not null)
        {
            await AppHost.DisposeAsync();
        }
    }
}

[Trait("Category", "System")]
public sealed class RunningApplicationTests(RunningApplication app) : IClassFixture<RunningApplication>
{
    private static readonly string[] Services = [ResourceNames.MlsApi, ResourceNames.KasApi, ResourceNames.CloudGateway, ResourceNames.MembershipWorker];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Every_declared_resource_is_listed_running_and_healthy()
    {
        string[] expected = [ResourceNames.Postgres, ResourceNames.MlsDb, ResourceNames.GatewayDb, ResourceNames.Redis, ResourceNames.Nats, .. Services];
        Assert.Equal(expected.Order(), app.Healthy.Select(r => r.Name).Order());
        Assert.All(app.Healthy, r => Assert.Equal("Running", r.State));
        Assert.All(app.Healthy.Where(r => Services.Contains(r.Name)), r => Assert.Equal("Project", r.Type));
        Assert.All(app.Healthy.Where(r => Services.Contains(r.Name)), r => Assert.StartsWith("http://127.0.0.1:", Assert.Single(r.Endpoints).Url));
    }

    [Fact]
    public async Task Each_service_reports_ready_on_its_own_endpoint()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var service in app.Healthy.Where(r => Services.Contains(r.Name)))
        {
            using var response = await http.GetAsync(service.Endpoints[0].Url + "/health/ready", Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service.Name}: /health/ready answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(service.Endpoints[0].Url + "/alive", Ct)).StatusCode);
        }
    }

    [Theory]
    [InlineData(ResourceNames.MlsApi, new[] { ResourceNames.MlsDb, ResourceNames.Redis, ResourceNames.Nats })]
    [InlineData(ResourceNames.CloudGateway, new[] { ResourceNames.GatewayDb, ResourceNames.Redis })]
    [InlineData(ResourceNames.MembershipWorker, new[] { ResourceNames.Nats, "membership-store" })]
    [InlineData(ResourceNames.KasApi, new[] { ResourceNames.Redis, ResourceNames.Nats })]
    public async Task Readiness_checks_probe_each_dependency(string service, string[] dependencies)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = app.Healthy.Single(r => r.Name == service).Endpoints[0].Url;
        using var ready = global::System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(url + "/health/ready", Ct));
        var entries = ready.RootElement.GetProperty("entries");
        foreach (var dependency in dependencies)
        {
            Assert.True(entries.TryGetProperty(dependency, out var entry), $"{service} has no readiness check named {dependency}: {ready.RootElement}");
            Assert.Equal("Healthy", entry.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task The_gateway_forwards_xrpc_to_mls_api_whose_own_auth_answers()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var gateway = app.Healthy.Single(r => r.Name == ResourceNames.CloudGateway).Endpoints[0].Url;
        using var response = await http.GetAsync(gateway + "/xrpc/blue.catbird.mls.getConvos", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"error\":\"AuthRequired\"", await response.Content.ReadAsStringAsync(Ct));
        using var kas = await http.GetAsync(gateway + "/kas/v2/kas_public_key?algorithm=ec:secp256r1", Ct);
        Assert.Equal(HttpStatusCode.OK, kas.StatusCode);
        Assert.Contains("BEGIN PUBLIC KEY", await kas.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task The_dashboard_serves_its_page_and_receives_telemetry()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var page = await http.GetStringAsync(app.AppHost.Dashboard, Ct);
        Assert.Contains("Catbird", page);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string telemetry;
        do
        {
            telemetry = await http.GetStringAsync(new Uri(app.AppHost.Dashboard, "/api/telemetry"), Ct);
            if (Services.All(s => telemetry.Contains($"\"service\": \"{s}\"", StringComparison.Ordinal)))
            {
                return;
            }

            await Task.Delay(500, Ct);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"Not every service exported telemetry to the dashboard: {telemetry}");
    }

    [Fact]
    public async Task A_killed_project_is_restarted_and_turns_healthy_again()
    {
        var before = (await app.AppHost.ResourcesAsync(Ct)).Single(r => r.Name == ResourceNames.MembershipWorker);
        Assert.NotNull(before.ProcessId);
        Assert.True(Hosting.Orchestration.Signals.Send(before.ProcessId!.Value, Hosting.Orchestration.Signals.Kill));

        var after = await app.AppHost.WaitUntilAsync(
            resources => resources.Single(r => r.Name == ResourceNames.MembershipWorker) is { Restarts: > 0, Health: "Healthy" } restarted
                && restarted.ProcessId != before.ProcessId,
            TimeSpan.FromSeconds(60), Ct);
        Assert.Equal(before.Restarts + 1, after.Single(r => r.Name == ResourceNames.MembershipWorker).Restarts);
    }
}

[Trait("Category", "System")]
public sealed class LifecycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ctrl_c_stops_every_child_and_a_second_start_reuses_the_data()
    {
        var state = Testing.ServerBinaries.NewTempDirectory("apphost");
        try
        {
            int[] children;
            await using (var first = AppHostProcess.StartOn(state))
            {
                var resources = await first.WaitUntilAsync(r => r.All(x => x.Health == "Healthy"), RunningApplication.StartTimeout, Ct);
                children = resources.Where(r => r.ProcessId is not null).Select(r => r.ProcessId!.Value).ToArray();
                Assert.Equal(7, children.Length); // postgres, redis, nats and the four projects
                Assert.Contains("initdb", await first.LogsAsync(ResourceNames.Postgres, Ct));

                await first.StopAsync();
                Assert.Equal(0, first.Process.ExitCode);
            }

            Assert.All(children, pid => Assert.False(Hosting.Orchestration.Signals.IsAlive(pid), $"process {pid} survived the AppHost"));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(state, "run")));

            // The same state folder again: the cluster and secrets are reused (no initdb), and everything turns healthy.
            var secrets = await File.ReadAllTextAsync(Path.Combine(state, "secrets.json"), Ct);
            await using var second = AppHostProcess.StartOn(state);
            await second.WaitUntilAsync(r => r.All(x => x.Health == "Healthy"), RunningApplication.StartTimeout, Ct);
            Assert.Equal(secrets, await File.ReadAllTextAsync(Path.Combine(state, "secrets.json"), Ct));
            Assert.DoesNotContain("initdb", await second.LogsAsync(ResourceNames.Postgres, Ct));
        }
        finally
        {
            Testing.ServerBinaries.DeleteDirectory(state);
        }
    }
}
