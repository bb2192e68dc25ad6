using Catbird.Hosting;
using Catbird.Hosting.ApplicationModel;
using Catbird.Hosting.Orchestration;

namespace Catbird.Hosting.Tests;

[Trait("Category", "Unit")]
public sealed class ModelTests
{
    private static DistributedApplicationBuilder NewBuilder() => DistributedApplication.CreateBuilder(new AppHostOptions(), "/repo/AppHost");

    [Fact]
    public void Resources_start_after_what_they_wait_for_reference_or_live_on()
    {
        var builder = NewBuilder();
        var api = builder.AddProject("api", "../Api/Api.csproj");
        var postgres = builder.AddPostgres("postgres");
        var db = postgres.AddDatabase("db");
        var nats = builder.AddNats("nats");
        api.WithReference(db).WaitFor(db).WithReference(nats);
        var gateway = builder.AddProject("gateway", "../Gw/Gw.csproj").WithReference(api).WaitFor(api);

        var order = builder.Build().StartupOrder.Select(r => r.Name).ToList();
        Assert.True(order.IndexOf("postgres") < order.IndexOf("db"));
        Assert.True(order.IndexOf("db") < order.IndexOf("api"));
        Assert.True(order.IndexOf("nats") < order.IndexOf("api"));
        Assert.True(order.IndexOf("api") < order.IndexOf("gateway"));
        Assert.True(order.IndexOf("postgres-password") < order.IndexOf("postgres"));
        Assert.Equal(order.Count, order.Distinct().Count());
        Assert.NotNull(gateway);
    }

    [Fact]
    public void A_dependency_cycle_is_refused_with_its_path()
    {
        var builder = NewBuilder();
        var a = builder.AddProject("a", "../A/A.csproj");
        var b = builder.AddProject("b", "../B/B.csproj");
        var c = builder.AddProject("c", "../C/C.csproj");
        a.WaitFor(b);
        b.WaitFor(c);
        c.WaitFor(a);
        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("Dependency cycle: a -> b -> c -> a", error.Message);
    }

    [Fact]
    public void Names_are_validated_and_unique()
    {
        var builder = NewBuilder();
        builder.AddRedis("redis");
        Assert.Throws<InvalidOperationException>(() => builder.AddRedis("redis"));
        Assert.Throws<ArgumentException>(() => builder.AddProject("Bad_Name", "../x.csproj"));
        Assert.Throws<ArgumentException>(() => builder.AddProject("api", "../x.csproj").WaitFor(builder.AddParameter("p")).WithReference(builder.AddParameter("q")));
    }

    [Fact]
    public void Projects_receive_connection_strings_endpoints_and_telemetry_settings_exactly()
    {
        var builder = NewBuilder();
        var postgres = builder.AddPostgres("postgres");
        var mlsdb = postgres.AddDatabase("mlsdb");
        var redis = builder.AddRedis("redis");
        var nats = builder.AddNats("nats").WithJetStream();
        var mls = builder.AddProject("mls-api", "../Mls.Api/Mls.Api.csproj").WithReference(mlsdb).WithReference(redis).WithReference(nats);
        var secret = builder.AddParameter("livekit-secret", secret: true);
        var gateway = builder.AddProject("cloud-gateway", "../Cloud.Gateway/Cloud.Gateway.csproj").WithReference(mls)
            .WithEnvironment("LIVEKIT_API_SECRET", secret).WithEnvironment("PUBLIC_URL", "http://localhost");
        builder.Build();

        var context = new RunContext("/state", new Uri("http://127.0.0.1:18888"));
        context.SetPort(postgres.Resource, 5433);
        context.SetPort(redis.Resource, 6380);
        context.SetPort(nats.Resource, 4223);
        context.SetPort(mls.Resource, 5101);
        context.SetPort(gateway.Resource, 5102);
        context.SetValue(postgres.Resource.Password, "pgpw");
        context.SetValue(redis.Resource.Password, "redispw");
        context.SetValue(nats.Resource.Password, "nats/pw");
        context.SetValue(secret.Resource, "s3cr3t");

        var env = ProjectEnvironment.Build(mls.Resource, context);
        Assert.Equal("Host=127.0.0.1;Port=5433;Username=postgres;Password=pgpw;Database=mlsdb", env["ConnectionStrings__mlsdb"]);
        Assert.Equal("127.0.0.1:6380,password=redispw", env["ConnectionStrings__redis"]);
        Assert.Equal("nats://nats:nats%2Fpw@127.0.0.1:4223", env["ConnectionStrings__nats"]);
        Assert.Equal("http://127.0.0.1:5101", env["ASPNETCORE_URLS"]);
        Assert.Equal("http://127.0.0.1:18888", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("mls-api", env["OTEL_SERVICE_NAME"]);
        Assert.Equal("service.instance.id=mls-api", env["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("/state/data/mls-api", env["CATBIRD_STATE_DIR"]);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("services__", StringComparison.Ordinal));

        var gatewayEnv = ProjectEnvironment.Build(gateway.Resource, context);
        Assert.Equal("http://127.0.0.1:5101", gatewayEnv["services__mls-api__http__0"]);
        Assert.Equal("s3cr3t", gatewayEnv["LIVEKIT_API_SECRET"]);
        Assert.Equal("http://localhost", gatewayEnv["PUBLIC_URL"]);
        Assert.DoesNotContain(gatewayEnv.Keys, k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "--fresh", "--state-dir", "/tmp/x", "--dashboard-url", "http://127.0.0.1:19999" }, true, "/tmp/x", "http://127.0.0.1:19999/")]
    [InlineData(new string[0], false, null, "http://127.0.0.1:18888/")]
    public void Command_line_options_parse(string[] args, bool fresh, string? stateDirectory, string dashboard)
    {
        var options = AppHostOptions.Parse(args);
        Assert.Equal(fresh, options.Fresh);
        Assert.Equal(stateDirectory ?? AppHostOptions.DefaultStateDirectory(), options.StateDirectory);
        Assert.Equal(dashboard, options.DashboardUrl.ToString());
    }

    [Theory]
    [InlineData("--bogus", "Unknown option '--bogus'")]
    [InlineData("--state-dir", "Option --state-dir needs a value")]
    [InlineData("--dashboard-url ftp://x", "is not an http:// URL")]
    [InlineData("--publisher manifest", "--publisher needs --output-path")]
    [InlineData("--publisher helm --output-path x", "Unknown publisher 'helm'")]
    public void Bad_command_lines_are_explained(string commandLine, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => AppHostOptions.Parse(commandLine.Split(' ')));
        Assert.Contains(message, error.Message);
    }
}
