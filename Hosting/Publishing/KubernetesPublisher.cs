using System.Security.Cryptography;
using Catbird.Hosting.ApplicationModel;
using YamlDotNet.Serialization;

namespace Catbird.Hosting.Publishing;

/// <summary>
/// Writes the application model as Kubernetes manifests: a Secret with generated passwords, StatefulSets with volumes
/// for PostgreSQL (databases created by an init script) and NATS (JetStream store), a Deployment for Redis, and a
/// Deployment plus Service per project with the same <c>ConnectionStrings__*</c> and <c>services__*</c> variables the
/// AppHost injects, readiness on <c>/health/ready</c> and liveness on <c>/alive</c>.
/// </summary>
public static class KubernetesPublisher
{
    /// <summary>The port projects listen on inside their containers.</summary>
    public const int ProjectPort = 8080;

    /// <summary>The Secret holding the generated parameters.</summary>
    public const string SecretName = "catbird-parameters";

    /// <summary>Renders one multi-document YAML file; <paramref name="imagePrefix"/> names the project images (<c>&lt;prefix&gt;/&lt;name&gt;:latest</c>).</summary>
    public static string Render(IReadOnlyList<Resource> resources, string imagePrefix = "catbird", Func<ParameterResource, string>? valueOf = null)
    {
        valueOf ??= p => RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", Math.Max(p.MinLength, 16));
        var documents = new List<object>
        {
            Secret(resources.OfType<ParameterResource>().ToDictionary(p => p.Name, valueOf)),
        };
        foreach (var resource in resources)
        {
            switch (resource)
            {
                case PostgresServerResource postgres:
                    documents.Add(InitScripts(postgres));
                    documents.Add(StatefulSet(postgres.Name, ManifestPublisher.Images.Postgres, 5432, "/var/lib/postgresql/data",
                        [EnvFromSecret("POSTGRES_PASSWORD", postgres.Password), Env("POSTGRES_USER", PostgresServerResource.UserName), Env("PGDATA", "/var/lib/postgresql/data/pgdata")],
                        args: null, extraMount: ("init", "/docker-entrypoint-initdb.d")));
                    documents.Add(Service(postgres.Name, 5432));
                    break;
                case RedisResource redis:
                    documents.Add(Deployment(redis.Name, ManifestPublisher.Images.Redis, 6379, [EnvFromSecret("REDIS_PASSWORD", redis.Password)],
                        ["--requirepass", "$(REDIS_PASSWORD)"], probePath: null));
                    documents.Add(Service(redis.Name, 6379));
                    break;
                case NatsResource nats:
                    documents.Add(StatefulSet(nats.Name, ManifestPublisher.Images.Nats, 4222, "/data", [EnvFromSecret("NATS_PASSWORD", nats.Password)],
                        ["--user", NatsResource.UserName, "--pass", "$(NATS_PASSWORD)", .. nats.JetStream ? new[] { "-js", "-sd", "/data" } : []], extraMount: null));
                    documents.Add(Service(nats.Name, 4222));
                    break;
                case ProjectResource project:
                    documents.Add(Deployment(project.Name, $"{imagePrefix}/{project.Name}:latest", ProjectPort, ProjectEnvironment(project), null, probePath: project.HealthPath));
                    documents.Add(Service(project.Name, ProjectPort, external: project.ExternalHttpEndpoints));
                    break;
            }
        }

        var serializer = new SerializerBuilder().DisableAliases().Build();
        return string.Join("---\n", documents.Select(serializer.Serialize));
    }

    private static List<Dictionary<string, object>> ProjectEnvironment(ProjectResource project)
    {
        var env = new List<Dictionary<string, object>>
        {
            Env("ASPNETCORE_URLS", $"http://+:{ProjectPort}"),
            Env("OTEL_SERVICE_NAME", project.Name),
        };
        var secrets = new HashSet<string>(StringComparer.Ordinal);
        void Secret(ParameterResource parameter, string variable)
        {
            if (secrets.Add(variable))
            {
                env.Add(EnvFromSecret(variable, parameter));
            }
        }

        foreach (var reference in project.References)
        {
            switch (reference)
            {
                case PostgresDatabaseResource database:
                    Secret(database.Server.Password, "POSTGRES_PASSWORD");
                    env.Add(Env($"ConnectionStrings__{database.Name}",
                        $"Host={database.Server.Name};Port=5432;Username={PostgresServerResource.UserName};Password=$(POSTGRES_PASSWORD);Database={database.DatabaseName}"));
                    break;
                case RedisResource redis:
                    Secret(redis.Password, "REDIS_PASSWORD");
                    env.Add(Env($"ConnectionStrings__{redis.Name}", $"{redis.Name}:6379,password=$(REDIS_PASSWORD)"));
                    break;
                case NatsResource nats:
                    Secret(nats.Password, "NATS_PASSWORD");
                    env.Add(Env($"ConnectionStrings__{nats.Name}", $"nats://{NatsResource.UserName}:$(NATS_PASSWORD)@{nats.Name}:4222"));
                    break;
                case ProjectResource referenced:
                    env.Add(Env($"services__{referenced.Name}__http__0", $"http://{referenced.Name}:{ProjectPort}"));
                    break;
            }
        }

        foreach (var (name, value) in project.Environment)
        {
            env.Add(value.Parameter is { } parameter ? EnvFromSecret(name, parameter) : Env(name, value.Literal ?? ""));
        }

        return env;
    }

    private static Dictionary<string, object> Secret(Dictionary<string, string> values) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Secret",
        ["metadata"] = Metadata(SecretName),
        ["type"] = "Opaque",
        ["stringData"] = values,
    };

    private static Dictionary<string, object> InitScripts(PostgresServerResource postgres) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = Metadata($"{postgres.Name}-init"),
        ["data"] = new Dictionary<string, string>
        {
            ["create-databases.sql"] = string.Concat(postgres.Databases.Select(d => $"CREATE DATABASE \"{d.DatabaseName}\";\n")),
        },
    };

    private static Dictionary<string, object> Deployment(string name, string image, int port, List<Dictionary<string, object>> env, string[]? args, string? probePath) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = Metadata(name),
        ["spec"] = new Dictionary<string, object>
        {
            ["replicas"] = 1,
            ["selector"] = new Dictionary<string, object> { ["matchLabels"] = Labels(name) },
            ["template"] = new Dictionary<string, object>
            {
                ["metadata"] = new Dictionary<string, object> { ["labels"] = Labels(name) },
                ["spec"] = new Dictionary<string, object> { ["containers"] = new[] { Container(name, image, port, env, args, probePath, mount: null, extraMount: null) } },
            },
        },
    };

    private static Dictionary<string, object> StatefulSet(string name, string image, int port, string dataPath, List<Dictionary<string, object>> env, string[]? args,
        (string Volume, string Path)? extraMount)
    {
        var podSpec = new Dictionary<string, object> { ["containers"] = new[] { Container(name, image, port, env, args, null, dataPath, extraMount) } };
        if (extraMount is { } mount)
        {
            podSpec["volumes"] = new[] { new Dictionary<string, object> { ["name"] = mount.Volume, ["configMap"] = new Dictionary<string, object> { ["name"] = $"{name}-init" } } };
        }

        return new()
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "StatefulSet",
            ["metadata"] = Metadata(name),
            ["spec"] = new Dictionary<string, object>
            {
                ["serviceName"] = name,
                ["replicas"] = 1,
                ["selector"] = new Dictionary<string, object> { ["matchLabels"] = Labels(name) },
                ["template"] = new Dictionary<string, object>
                {
                    ["metadata"] = new Dictionary<string, object> { ["labels"] = Labels(name) },
                    ["spec"] = podSpec,
                },
                ["volumeClaimTemplates"] = new[]
                {
                    new Dictionary<string, object>
                    {
                        ["metadata"] = new Dictionary<string, object> { ["name"] = "data" },
                        ["spec"] = new Dictionary<string, object>
                        {
                            ["accessModes"] = new[] { "ReadWriteOnce" },
                            ["resources"] = new Dictionary<string, object> { ["requests"] = new Dictionary<string, object> { ["storage"] = "1Gi" } },
                        },
                    },
                },
            },
        };
    }

    private static Dictionary<string, object> Container(string name, string image, int port, List<Dictionary<string, object>> env, string[]? args, string? probePath,
        string? mount, (string Volume, string Path)? extraMount)
    {
        var container = new Dictionary<string, object>
        {
            ["name"] = name,
            ["image"] = image,
            ["ports"] = new[] { new Dictionary<string, object> { ["containerPort"] = port } },
            ["env"] = env,
        };
        if (args is not null)
        {
            container["args"] = args;
        }

        if (probePath is not null)
        {
            container["readinessProbe"] = Probe("/health/ready", port);
            container["livenessProbe"] = Probe("/alive", port);
        }

        var mounts = new List<Dictionary<string, object>>();
        if (mount is not null)
        {
            mounts.Add(new Dictionary<string, object> { ["name"] = "data", ["mountPath"] = mount });
        }

        if (extraMount is { } extra)
        {
            mounts.Add(new Dictionary<string, object> { ["name"] = extra.Volume, ["mountPath"] = extra.Path });
        }

        if (mounts.Count > 0)
        {
            container["volumeMounts"] = mounts;
        }

        return container;
    }

    private static Dictionary<string, object> Probe(string path, int port) => new()
    {
        ["httpGet"] = new Dictionary<string, object> { ["path"] = path, ["port"] = port },
        ["periodSeconds"] = 10,
        ["failureThreshold"] = 3,
    };

    private static Dictionary<string, object> Service(string name, int port, bool external = false) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Service",
        ["metadata"] = Metadata(name),
        ["spec"] = new Dictionary<string, object>
        {
            ["type"] = external ? "LoadBalancer" : "ClusterIP",
            ["selector"] = Labels(name),
            ["ports"] = new[] { new Dictionary<string, object> { ["name"] = "main", ["port"] = port, ["targetPort"] = port } },
        },
    };

    private static Dictionary<string, object> Env(string name, string value) => new() { ["name"] = name, ["value"] = value };

    private static Dictionary<string, object> EnvFromSecret(string name, ParameterResource parameter) => new()
    {
        ["name"] = name,
        ["valueFrom"] = new Dictionary<string, object> { ["secretKeyRef"] = new Dictionary<string, object> { ["name"] = SecretName, ["key"] = parameter.Name } },
    };

    private static Dictionary<string, object> Metadata(string name) => new() { ["name"] = name, ["labels"] = Labels(name) };

    private static Dictionary<string, string> Labels(string name) => new() { ["app.kubernetes.io/name"] = name, ["app.kubernetes.io/part-of"] = "catbird" };
}
