using Catbird.Hosting.ApplicationModel;
using Catbird.Hosting.Publishing;
using YamlDotNet.RepresentationModel;

namespace Catbird.Hosting.Tests;

[Trait("Category", "Unit")]
public sealed class KubernetesPublisherTests
{
    [Fact]
    public void The_model_becomes_workloads_services_and_one_secret_with_the_apphost_conventions()
    {
        var builder = DistributedApplication.CreateBuilder(new AppHostOptions(), "/repo/AppHost");
        var postgres = builder.AddPostgres("postgres");
        var db = postgres.AddDatabase("mlsdb");
        var redis = builder.AddRedis("redis");
        var nats = builder.AddNats("nats").WithJetStream();
        var api = builder.AddProject("mls-api", "../Mls.Api/Mls.Api.csproj").WithReference(db).WithReference(redis).WithReference(nats);
        builder.AddProject("cloud-gateway", "../Cloud.Gateway/Cloud.Gateway.csproj").WithReference(api).WithExternalHttpEndpoints();
        var yaml = KubernetesPublisher.Render(builder.Build().StartupOrder, valueOf: p => "pw-" + p.Name);

        var documents = new YamlStream();
        documents.Load(new StringReader(yaml));
        var kinds = documents.Documents.Select(d => (Kind: Scalar(d.RootNode, "kind"), Name: Scalar(d.RootNode, "metadata", "name"))).ToList();
        Assert.Contains(("Secret", KubernetesPublisher.SecretName), kinds);
        Assert.Contains(("StatefulSet", "postgres"), kinds);
        Assert.Contains(("ConfigMap", "postgres-init"), kinds);
        Assert.Contains(("Deployment", "redis"), kinds);
        Assert.Contains(("StatefulSet", "nats"), kinds);
        Assert.Contains(("Deployment", "mls-api"), kinds);
        Assert.Contains(("Service", "cloud-gateway"), kinds);

        Assert.Contains("create-databases.sql: |", yaml.Replace("create-databases.sql: >", "create-databases.sql: |", StringComparison.Ordinal));
        Assert.Contains("CREATE DATABASE \"mlsdb\";", yaml);
        Assert.Contains("postgres-password: pw-postgres-password", yaml);
        Assert.Contains("value: Host=postgres;Port=5432;Username=postgres;Password=$(POSTGRES_PASSWORD);Database=mlsdb", yaml);
        Assert.Contains("value: redis:6379,password=$(REDIS_PASSWORD)", yaml);
        Assert.Contains("value: nats://nats:$(NATS_PASSWORD)@nats:4222", yaml);
        Assert.Contains("value: http://mls-api:8080", yaml);
        Assert.Contains("type: LoadBalancer", yaml);
        Assert.Contains("path: /health/ready", yaml);

        // A variable is referenced only after it is defined (Kubernetes expands $(VAR) from earlier entries).
        var apiEnv = yaml[yaml.IndexOf("kind: Deployment\nmetadata:\n  name: mls-api", StringComparison.Ordinal)..];
        Assert.True(apiEnv.IndexOf("name: POSTGRES_PASSWORD", StringComparison.Ordinal) < apiEnv.IndexOf("$(POSTGRES_PASSWORD)", StringComparison.Ordinal));
    }

    private static string? Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out var child))
            {
                return null;
            }

            node = child;
        }

        return (node as YamlScalarNode)?.Value;
    }
}
