namespace Catbird.Hosting.ApplicationModel;

/// <summary>What a running application has decided: ports, parameter values, the state folder and the dashboard address.</summary>
public sealed class RunContext(string stateDirectory, Uri dashboardUrl)
{
    private readonly Dictionary<string, int> _ports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    /// <summary>The folder holding data, secrets, logs and pid files.</summary>
    public string StateDirectory { get; } = stateDirectory;

    /// <summary>The dashboard's address, also the OTLP endpoint given to projects.</summary>
    public Uri DashboardUrl { get; } = dashboardUrl;

    /// <summary>The primary port assigned to <paramref name="resource"/> (a database uses its server's).</summary>
    public int PortOf(Resource resource) => resource switch
    {
        PostgresDatabaseResource database => PortOf(database.Server),
        _ => _ports.TryGetValue(resource.Name, out var port) ? port : throw new InvalidOperationException($"No port was assigned to '{resource.Name}'."),
    };

    /// <summary>A secondary port (for example NATS monitoring) assigned under <paramref name="key"/>.</summary>
    public int PortOf(Resource resource, string key) =>
        _ports.TryGetValue($"{resource.Name}:{key}", out var port) ? port : throw new InvalidOperationException($"No '{key}' port was assigned to '{resource.Name}'.");

    /// <summary>Assigns the primary port of <paramref name="resource"/>.</summary>
    public void SetPort(Resource resource, int port) => _ports[resource.Name] = port;

    /// <summary>Assigns a secondary port of <paramref name="resource"/>.</summary>
    public void SetPort(Resource resource, string key, int port) => _ports[$"{resource.Name}:{key}"] = port;

    /// <summary>The value of a parameter.</summary>
    public string ValueOf(ParameterResource parameter) =>
        _values.TryGetValue(parameter.Name, out var value) ? value : throw new InvalidOperationException($"Parameter '{parameter.Name}' has no value.");

    /// <summary>Sets the value of a parameter.</summary>
    public void SetValue(ParameterResource parameter, string value) => _values[parameter.Name] = value;

    /// <summary>The base URL of a project's HTTP endpoint.</summary>
    public string HttpUrlOf(ProjectResource project) => $"http://127.0.0.1:{PortOf(project)}";

    /// <summary>The folder a resource keeps its data in.</summary>
    public string DataDirectoryOf(Resource resource) => Path.Combine(StateDirectory, "data", resource.Name);
}
