using System.Text.Json;
using System.Text.Json.Serialization;
using Catbird.Membership.Worker.Storage;

namespace Catbird.Membership.Worker.Messaging;

/// <summary>A <c>catbird.membership.check</c> request.</summary>
public sealed record MembershipCheckRequest(string? Room, string? Subject);

/// <summary>The answer: membership and the room's epoch (0 for an unknown room).</summary>
public sealed record MembershipCheckResponse(bool Member, long Epoch, string? Error = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MembershipCheckRequest))]
[JsonSerializable(typeof(MembershipCheckResponse))]
[JsonSerializable(typeof(ConvoEvent))]
internal sealed partial class MembershipJsonContext : JsonSerializerContext;
