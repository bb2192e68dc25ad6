using Catbird.Hosting.ApplicationModel;

namespace Catbird.Hosting;

/// <summary>Declares the resources of a distributed application, in the shape of Aspire's <c>IDistributedApplicationBuilder</c>.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> _resources = [];

    internal DistributedApplicationBuilder(AppHostOptions options, string appHostDirectory)
    {
        Options = options;
        AppHostDirectory = appHostDirectory;
    }

    /// <summary>The command-line options the AppHost was started with.</summary>
    public AppHostOptions Options { get; }

    /// <summary>The AppHost project's directory; project paths are relative to it.</summary>
    public string AppHostDirectory { get; }

    /// <summary>The declared resources, in declaration order.</summary>
    public IReadOnlyList<Resource> Resources => _resources;

    /// <summary>Adds a parameter; a secret one is generated on first run and kept in the state folder.</summary>
    public ResourceBuilder<ParameterResource> AddParameter(string name, bool secret = false) => AddResource(new ParameterResource(name, secret));

    /// <summary>Adds a PostgreSQL server with a generated superuser password.</summary>
    public ResourceBuilder<PostgresServerResource> AddPostgres(string name) =>
        AddResource(new PostgresServerResource(name, AddParameter($"{name}-password", secret: true).Resource));

    /// <summary>Adds a Redis server with a generated password.</summary>
    public ResourceBuilder<RedisResource> AddRedis(string name) =>
        AddResource(new RedisResource(name, AddParameter($"{name}-password", secret: true).Resource));

    /// <summary>Adds a NATS server with user/password authentication and a generated password.</summary>
    public ResourceBuilder<NatsResource> AddNats(string name) =>
        AddResource(new NatsResource(name, AddParameter($"{name}-password", secret: true).Resource));

    /// <summary>Adds a .NET project, run from its build output; <paramref name="projectPath"/> is relative to the AppHost project.</summary>
    public ResourceBuilder<ProjectResource> AddProject(string name, string projectPath) => AddResource(new ProjectResource(name, projectPath));

    /// <summary>Adds any resource (used by the typed <c>Add…</c> methods).</summary>
    public ResourceBuilder<T> AddResource<T>(T resource) where T : Resource
    {
        if (_resources.Any(r => r.Name == resource.Name))
        {
            throw new InvalidOperationException($"A resource named '{resource.Name}' already exists.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(this, resource);
    }

    /// <summary>Validates the model (no cycles, no dangling references) and returns the runnable application.</summary>
    public DistributedApplication Build() => new(this, StartupOrder.Compute(_resources));
}
