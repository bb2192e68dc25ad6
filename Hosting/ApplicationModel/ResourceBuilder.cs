namespace Catbird.Hosting.ApplicationModel;

/// <summary>Configures one resource of the application model, as Aspire's <c>IResourceBuilder&lt;T&gt;</c> does.</summary>
public sealed class ResourceBuilder<T>(DistributedApplicationBuilder application, T resource) where T : Resource
{
    /// <summary>The resource being configured.</summary>
    public T Resource { get; } = resource;

    /// <summary>The application builder the resource belongs to.</summary>
    public DistributedApplicationBuilder ApplicationBuilder { get; } = application;

    /// <summary>
    /// Gives this resource the connection information of <paramref name="source"/>: <c>ConnectionStrings__&lt;name&gt;</c> for
    /// servers and databases, <c>services__&lt;name&gt;__http__0</c> for projects.
    /// </summary>
    public ResourceBuilder<T> WithReference<TSource>(ResourceBuilder<TSource> source) where TSource : Resource
    {
        if (source.Resource is not IResourceWithConnectionString and not ProjectResource)
        {
            throw new ArgumentException($"'{source.Resource.Name}' has neither a connection string nor endpoints to reference.", nameof(source));
        }

        if (!Resource.References.Contains(source.Resource))
        {
            Resource.References.Add(source.Resource);
        }

        return this;
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> is healthy.</summary>
    public ResourceBuilder<T> WaitFor<TDependency>(ResourceBuilder<TDependency> dependency) where TDependency : Resource
    {
        if (ReferenceEquals(dependency.Resource, Resource))
        {
            throw new ArgumentException($"'{Resource.Name}' cannot wait for itself.", nameof(dependency));
        }

        if (!Resource.WaitsFor.Contains(dependency.Resource))
        {
            Resource.WaitsFor.Add(dependency.Resource);
        }

        return this;
    }

    /// <summary>Sets an environment variable to a literal value.</summary>
    public ResourceBuilder<T> WithEnvironment(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Resource.Environment[name] = value;
        return this;
    }

    /// <summary>Sets an environment variable to a parameter's value.</summary>
    public ResourceBuilder<T> WithEnvironment(string name, ResourceBuilder<ParameterResource> parameter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Resource.Environment[name] = new EnvironmentValue(null, parameter.Resource);
        return this;
    }
}

/// <summary>Resource-specific configuration, in Aspire's names.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>Adds a database to a PostgreSQL server; it is created once the server is ready.</summary>
    public static ResourceBuilder<PostgresDatabaseResource> AddDatabase(this ResourceBuilder<PostgresServerResource> server, string name, string? databaseName = null)
    {
        var database = new PostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database);
    }

    /// <summary>Enables JetStream on a NATS server.</summary>
    public static ResourceBuilder<NatsResource> WithJetStream(this ResourceBuilder<NatsResource> nats)
    {
        nats.Resource.JetStream = true;
        return nats;
    }

    /// <summary>Sets the path probed for the project's health (default <c>/health</c>).</summary>
    public static ResourceBuilder<ProjectResource> WithHttpHealthCheck(this ResourceBuilder<ProjectResource> project, string path = "/health")
    {
        project.Resource.HealthPath = path;
        return project;
    }

    /// <summary>Marks the project's HTTP endpoint as public when deployed.</summary>
    public static ResourceBuilder<ProjectResource> WithExternalHttpEndpoints(this ResourceBuilder<ProjectResource> project)
    {
        project.Resource.ExternalHttpEndpoints = true;
        return project;
    }
}
