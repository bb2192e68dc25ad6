namespace Catbird.Hosting.ApplicationModel;

/// <summary>The resource names the application's parts agree on; change them only together with ARCHITECTURE.md.</summary>
public static class ResourceNames
{
    /// <summary>The PostgreSQL server.</summary>
    public const string Postgres = "postgres";

    /// <summary>Mls.Api's database.</summary>
    public const string MlsDb = "mlsdb";

    /// <summary>Cloud.Gateway's database.</summary>
    public const string GatewayDb = "gatewaydb";

    /// <summary>The Redis server.</summary>
    public const string Redis = "redis";

    /// <summary>The NATS server (with JetStream).</summary>
    public const string Nats = "nats";

    /// <summary>The MLS Delivery Service.</summary>
    public const string MlsApi = "mls-api";

    /// <summary>The Key Access Service.</summary>
    public const string KasApi = "kas-api";

    /// <summary>The multi-tenant gateway.</summary>
    public const string CloudGateway = "cloud-gateway";

    /// <summary>The membership control plane.</summary>
    public const string MembershipWorker = "membership-worker";
}

/// <summary>Something the application model declares: a server, a database, a parameter or a project.</summary>
public abstract class Resource(string name)
{
    /// <summary>The resource's name, unique in the application; also the key of its connection string.</summary>
    public string Name { get; } = ValidateName(name);

    /// <summary>The resource type as the dashboard shows it (<c>Container</c>, <c>Project</c>, …).</summary>
    public abstract string DisplayType { get; }

    /// <summary>Resources that must be healthy before this one starts.</summary>
    public List<Resource> WaitsFor { get; } = [];

    /// <summary>Resources whose connection information this one receives.</summary>
    public List<Resource> References { get; } = [];

    /// <summary>Extra environment variables, as literal values or parameter references.</summary>
    public Dictionary<string, EnvironmentValue> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The resource that hosts this one (a database's server), or null.</summary>
    public virtual Resource? Parent => null;

    /// <summary>The parameters whose values this resource uses (passwords, environment values).</summary>
    public virtual IEnumerable<ParameterResource> Parameters => Environment.Values.Select(v => v.Parameter).OfType<ParameterResource>();

    private static string ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') || !char.IsAsciiLetterLower(name[0]) || name.Length > 64)
        {
            throw new ArgumentException($"Resource name '{name}' must start with a lowercase letter and use only lowercase letters, digits and '-'.", nameof(name));
        }

        return name;
    }
}

/// <summary>An environment value: a literal, or the value of a parameter resource.</summary>
public sealed record EnvironmentValue(string? Literal, ParameterResource? Parameter)
{
    /// <summary>A literal value.</summary>
    public static implicit operator EnvironmentValue(string literal) => new(literal, null);
}

/// <summary>A resource that other resources reach through a connection string.</summary>
public interface IResourceWithConnectionString
{
    /// <summary>The connection string key (<c>ConnectionStrings__&lt;name&gt;</c>).</summary>
    string Name { get; }

    /// <summary>The connection string for a running application.</summary>
    string GetConnectionString(RunContext context);

    /// <summary>The connection string as an Aspire manifest expression.</summary>
    string ManifestConnectionString { get; }
}

/// <summary>A secret or plain value supplied at run or deploy time; secrets are generated and kept in the state folder.</summary>
public sealed class ParameterResource(string name, bool secret) : Resource(name)
{
    /// <inheritdoc />
    public override string DisplayType => "Parameter";

    /// <summary>Whether the value is a secret (never shown, generated when absent).</summary>
    public bool Secret { get; } = secret;

    /// <summary>Minimum generated length.</summary>
    public int MinLength { get; init; } = 22;
}

/// <summary>A PostgreSQL server run from the machine's postgresql-15 package.</summary>
public sealed class PostgresServerResource(string name, ParameterResource password) : Resource(name), IResourceWithConnectionString
{
    /// <summary>The superuser name.</summary>
    public const string UserName = "postgres";

    /// <inheritdoc />
    public override string DisplayType => "Postgres";

    /// <summary>The superuser password parameter.</summary>
    public ParameterResource Password { get; } = password;

    /// <inheritdoc />
    public override IEnumerable<ParameterResource> Parameters => [Password];

    /// <summary>The databases created on this server once it is ready.</summary>
    public List<PostgresDatabaseResource> Databases { get; } = [];

    /// <inheritdoc />
    public string GetConnectionString(RunContext context) =>
        $"Host=127.0.0.1;Port={context.PortOf(this)};Username={UserName};Password={context.ValueOf(Password)}";

    /// <inheritdoc />
    public string ManifestConnectionString =>
        $"Host={{{Name}.bindings.tcp.host}};Port={{{Name}.bindings.tcp.port}};Username={UserName};Password={{{Password.Name}.value}}";
}

/// <summary>A database on a <see cref="PostgresServerResource"/>.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource server) : Resource(name), IResourceWithConnectionString
{
    /// <inheritdoc />
    public override string DisplayType => "PostgresDatabase";

    /// <summary>The database name on the server.</summary>
    public string DatabaseName { get; } = databaseName;

    /// <summary>The server.</summary>
    public PostgresServerResource Server { get; } = server;

    /// <inheritdoc />
    public override Resource Parent => Server;

    /// <inheritdoc />
    public string GetConnectionString(RunContext context) => $"{Server.GetConnectionString(context)};Database={DatabaseName}";

    /// <inheritdoc />
    public string ManifestConnectionString => $"{{{Server.Name}.connectionString}};Database={DatabaseName}";
}

/// <summary>A Redis server run from the machine's redis-server package.</summary>
public sealed class RedisResource(string name, ParameterResource password) : Resource(name), IResourceWithConnectionString
{
    /// <inheritdoc />
    public override string DisplayType => "Redis";

    /// <summary>The password parameter (<c>requirepass</c>).</summary>
    public ParameterResource Password { get; } = password;

    /// <inheritdoc />
    public override IEnumerable<ParameterResource> Parameters => [Password];

    /// <inheritdoc />
    public string GetConnectionString(RunContext context) => $"127.0.0.1:{context.PortOf(this)},password={context.ValueOf(Password)}";

    /// <inheritdoc />
    public string ManifestConnectionString => $"{{{Name}.bindings.tcp.host}}:{{{Name}.bindings.tcp.port}},password={{{Password.Name}.value}}";
}

/// <summary>A NATS server run from the machine's nats-server package, with user/password auth.</summary>
public sealed class NatsResource(string name, ParameterResource password) : Resource(name), IResourceWithConnectionString
{
    /// <summary>The user name clients authenticate with.</summary>
    public const string UserName = "nats";

    /// <inheritdoc />
    public override string DisplayType => "Nats";

    /// <summary>The password parameter.</summary>
    public ParameterResource Password { get; } = password;

    /// <inheritdoc />
    public override IEnumerable<ParameterResource> Parameters => [Password];

    /// <summary>Whether JetStream is enabled.</summary>
    public bool JetStream { get; internal set; }

    /// <inheritdoc />
    public string GetConnectionString(RunContext context) =>
        $"nats://{UserName}:{Uri.EscapeDataString(context.ValueOf(Password))}@127.0.0.1:{context.PortOf(this)}";

    /// <inheritdoc />
    public string ManifestConnectionString =>
        $"nats://{UserName}:{{{Password.Name}-uri-encoded.value}}@{{{Name}.bindings.tcp.host}}:{{{Name}.bindings.tcp.port}}";
}

/// <summary>A .NET project of this repository, run with <c>dotnet</c> from its build output.</summary>
public sealed class ProjectResource(string name, string projectPath) : Resource(name)
{
    /// <inheritdoc />
    public override string DisplayType => "Project";

    /// <summary>The path of the .csproj, relative to the AppHost project directory (as written in Program.cs).</summary>
    public string ProjectPath { get; } = projectPath;

    /// <summary>The HTTP path probed for health.</summary>
    public string HealthPath { get; internal set; } = "/health";

    /// <summary>Whether the HTTP endpoint is exposed outside the application when deployed.</summary>
    public bool ExternalHttpEndpoints { get; internal set; }
}
