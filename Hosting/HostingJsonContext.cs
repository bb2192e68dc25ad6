using System.Text.Json.Serialization;
using Catbird.Hosting.Dashboard;

namespace Catbird.Hosting;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<ResourceView>))]
[JsonSerializable(typeof(LogPage))]
[JsonSerializable(typeof(List<TelemetrySummary>))]
internal sealed partial class HostingJsonContext : JsonSerializerContext;
