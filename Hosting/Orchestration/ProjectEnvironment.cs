using Catbird.Hosting.ApplicationModel;

namespace Catbird.Hosting.Orchestration;

/// <summary>The environment a project receives, with the conventions of ARCHITECTURE.md (the same as .NET Aspire's).</summary>
public static class ProjectEnvironment
{
    /// <summary>Builds the environment of <paramref name="project"/> in a running application.</summary>
    public static SortedDictionary<string, string> Build(ProjectResource project, RunContext context)
    {
        var url = context.HttpUrlOf(project);
        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = url,
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = context.DashboardUrl.GetLeftPart(UriPartial.Authority),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = project.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={project.Name}",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["CATBIRD_STATE_DIR"] = context.DataDirectoryOf(project),
        };
        foreach (var reference in project.References)
        {
            switch (reference)
            {
                case IResourceWithConnectionString withConnectionString:
                    environment[$"ConnectionStrings__{withConnectionString.Name}"] = withConnectionString.GetConnectionString(context);
                    break;
                case ProjectResource referenced:
                    environment[$"services__{referenced.Name}__http__0"] = context.HttpUrlOf(referenced);
                    break;
            }
        }

        foreach (var (name, value) in project.Environment)
        {
            environment[name] = value.Parameter is { } parameter ? context.ValueOf(parameter) : value.Literal ?? "";
        }

        return environment;
    }
}
