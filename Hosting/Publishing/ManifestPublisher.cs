using System.Text;
using System.Text.Json;
using Catbird.Hosting.ApplicationModel;

namespace Catbird.Hosting.Publishing;

/// <summary>
/// Writes the application model as an Aspire 8 deployment manifest (what <c>azd</c> consumes): infrastructure as
/// <c>container.v0</c> resources on the official images, databases as <c>value.v0</c>, projects as <c>project.v0</c> with
/// bindings and environment placeholders, and generated secrets as <c>parameter.v0</c>.
/// </summary>
public static class ManifestPublisher
{
    /// <summary>The container images infrastructure is deployed from.</summary>
    public static class Images
    {
        /// <summary>PostgreSQL.</summary>
        public const string Postgres = "docker.io/library/postgres:17.6";

        /// <summary>Redis.</summary>
        public const string Redis = "docker.io/library/redis:7.4";

        /// <summary>NATS.</summary>
        public const string Nats = "docker.io/library/nats:2.10";
    }

    /// <summary>Renders the manifest; project paths are written relative to <paramref name="manifestDirectory"/>.</summary>
    public static string Render(IReadOnlyList<Resource> resources, string appHostDirectory, string manifestDirectory)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("$schema", "https://json.schemastore.org/aspire-8.0.json");
            json.WriteStartObject("resources");
            foreach (var resource in resources)
            {
                json.WriteStartObject(resource.Name);
                switch (resource)
                {
                    case ParameterResource parameter:
                        WriteParameter(json, parameter);
                        break;
                    case PostgresServerResource postgres:
                        WriteContainer(json, postgres.ManifestConnectionString, Images.Postgres, 5432, [],
                            new() { ["POSTGRES_HOST_AUTH_METHOD"] = "scram-sha-256", ["POSTGRES_INITDB_ARGS"] = "--auth-host=scram-sha-256 --auth-local=scram-sha-256",
                                ["POSTGRES_USER"] = PostgresServerResource.UserName, ["POSTGRES_PASSWORD"] = $"{{{postgres.Password.Name}.value}}" });
                        break;
                    case PostgresDatabaseResource database:
                        json.WriteString("type", "value.v0");
                        json.WriteString("connectionString", database.ManifestConnectionString);
                        break;
                    case RedisResource redis:
                        WriteContainer(json, redis.ManifestConnectionString, Images.Redis, 6379,
                            ["--requirepass", $"{{{redis.Password.Name}.value}}", "--appendonly", "yes"], []);
                        break;
                    case NatsResource nats:
                        WriteContainer(json, nats.ManifestConnectionString, Images.Nats, 4222,
                            ["--user", NatsResource.UserName, "--pass", $"{{{nats.Password.Name}.value}}", .. nats.JetStream ? new[] { "-js" } : []], []);
                        break;
                    case ProjectResource project:
                        WriteProject(json, project, appHostDirectory, manifestDirectory);
                        break;
                }

                json.WriteEndObject();

                // NATS puts its password into a URL: Aspire emits a URI-encoded view of it beside the parameter.
                if (resource is NatsResource natsResource)
                {
                    json.WriteStartObject($"{natsResource.Password.Name}-uri-encoded");
                    json.WriteString("type", "annotated.string");
                    json.WriteString("value", $"{{{natsResource.Password.Name}.value}}");
                    json.WriteString("filter", "uri");
                    json.WriteEndObject();
                }
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteParameter(Utf8JsonWriter json, ParameterResource parameter)
    {
        json.WriteString("type", "parameter.v0");
        json.WriteString("value", $"{{{parameter.Name}.inputs.value}}");
        json.WriteStartObject("inputs");
        json.WriteStartObject("value");
        json.WriteString("type", "string");
        if (parameter.Secret)
        {
            json.WriteBoolean("secret", true);
            json.WriteStartObject("default");
            json.WriteStartObject("generate");
            json.WriteNumber("minLength", parameter.MinLength);
            json.WriteBoolean("special", false);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteContainer(Utf8JsonWriter json, string connectionString, string image, int port, string[] args, Dictionary<string, string> env)
    {
        json.WriteString("type", "container.v0");
        json.WriteString("connectionString", connectionString);
        json.WriteString("image", image);
        if (args.Length > 0)
        {
            json.WriteStartArray("args");
            foreach (var arg in args)
            {
                json.WriteStringValue(arg);
            }

            json.WriteEndArray();
        }

        if (env.Count > 0)
        {
            json.WriteStartObject("env");
            foreach (var (key, value) in env)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        }

        json.WriteStartObject("bindings");
        json.WriteStartObject("tcp");
        json.WriteString("scheme", "tcp");
        json.WriteString("protocol", "tcp");
        json.WriteString("transport", "tcp");
        json.WriteNumber("targetPort", port);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteProject(Utf8JsonWriter json, ProjectResource project, string appHostDirectory, string manifestDirectory)
    {
        json.WriteString("type", "project.v0");
        var fullPath = Path.GetFullPath(Path.Combine(appHostDirectory, project.ProjectPath));
        json.WriteString("path", Path.GetRelativePath(manifestDirectory, fullPath).Replace('\\', '/'));
        json.WriteStartObject("env");
        json.WriteString("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES", "true");
        json.WriteString("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES", "true");
        json.WriteString("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true");
        json.WriteString("HTTP_PORTS", $"{{{project.Name}.bindings.http.targetPort}}");
        foreach (var reference in project.References)
        {
            switch (reference)
            {
                case IResourceWithConnectionString withConnectionString:
                    json.WriteString($"ConnectionStrings__{reference.Name}", $"{{{reference.Name}.connectionString}}");
                    break;
                case ProjectResource referenced:
                    json.WriteString($"services__{referenced.Name}__http__0", $"{{{referenced.Name}.bindings.http.url}}");
                    json.WriteString($"services__{referenced.Name}__https__0", $"{{{referenced.Name}.bindings.https.url}}");
                    break;
            }
        }

        foreach (var (name, value) in project.Environment)
        {
            json.WriteString(name, value.Parameter is { } parameter ? $"{{{parameter.Name}.value}}" : value.Literal);
        }

        json.WriteEndObject();
        json.WriteStartObject("bindings");
        foreach (var scheme in new[] { "http", "https" })
        {
            json.WriteStartObject(scheme);
            json.WriteString("scheme", scheme);
            json.WriteString("protocol", "tcp");
            json.WriteString("transport", "http");
            if (project.ExternalHttpEndpoints)
            {
                json.WriteBoolean("external", true);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}
