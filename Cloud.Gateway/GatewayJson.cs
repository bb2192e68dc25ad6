using System.Text.Json;
using System.Text.Json.Serialization;

namespace Catbird.Cloud.Gateway;

/// <summary>An XRPC error body.</summary>
public sealed record XrpcError(string Error, string Message);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(XrpcError))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
