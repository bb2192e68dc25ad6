using System.Text.Json;
using System.Text.Json.Serialization;

namespace Catbird.Mls.Api.Apis;

/// <summary>The XRPC error body.</summary>
public sealed record XrpcError(string Error, string Message);

/// <summary>An atproto <c>bytes</c> value: <c>{"$bytes": base64}</c>.</summary>
public sealed record BytesValue([property: JsonPropertyName("$bytes")] string Bytes)
{
    public static BytesValue From(byte[] data) => new(Convert.ToBase64String(data));
}

public sealed record KeyPackageHashInput(string? Did, string? Hash);

public sealed record ConvoMetadata(string? Name, string? Description);

public sealed record CreateConvoInput(string? GroupId, string? CipherSuite, string? IdempotencyKey, string[]? InitialMembers,
    string? WelcomeMessage, KeyPackageHashInput[]? KeyPackageHashes, ConvoMetadata? Metadata, long? CurrentEpoch);

public sealed record MemberView(string Did, DateTimeOffset JoinedAt, int? LeafIndex);

public sealed record ConvoView(string Id, string GroupId, string Creator, IReadOnlyList<MemberView> Members, long Epoch,
    string CipherSuite, DateTimeOffset CreatedAt, DateTimeOffset? LastMessageAt, ConvoMetadata? Metadata);

public sealed record GetConvosOutput(IReadOnlyList<ConvoView> Conversations, string? Cursor);

public sealed record PublishKeyPackageInput(string? KeyPackage, string? CipherSuite, DateTimeOffset? Expires, string? IdempotencyKey);

public sealed record PublishKeyPackageOutput(string KeyPackageHash);

public sealed record KeyPackageRefView(string Did, string KeyPackage, string CipherSuite, string KeyPackageHash);

public sealed record GetKeyPackagesOutput(IReadOnlyList<KeyPackageRefView> KeyPackages, IReadOnlyList<string>? Missing);

/// <summary>sendMessage input; <c>ciphertext</c> may be <c>{"$bytes":…}</c> or a bare base64 string.</summary>
public sealed record SendMessageInput(string? ConvoId, string? MsgId, string? IdempotencyKey, JsonElement Ciphertext, long? Epoch,
    long? DeclaredSize, long? PaddedSize);

public sealed record SendMessageOutput(string MessageId, DateTimeOffset ReceivedAt, long Seq, long Epoch);

public sealed record MessageView(string Id, string ConvoId, string Sender, BytesValue Ciphertext, long Epoch, long Seq,
    DateTimeOffset CreatedAt, string MessageType);

public sealed record GetMessagesOutput(IReadOnlyList<MessageView> Messages, string? Cursor);

public sealed record GetEpochOutput(string ConvoId, long CurrentEpoch);

public sealed record AddMembersInput(string? ConvoId, string[]? DidList, string? IdempotencyKey, string? Commit, string? WelcomeMessage,
    KeyPackageHashInput[]? KeyPackageHashes);

public sealed record LeaveConvoInput(string? ConvoId, string? TargetDid, string? Commit);

public sealed record EpochChangeOutput(bool Success, long NewEpoch);

public sealed record CommitItem(long Epoch, string Sender, BytesValue CommitData, DateTimeOffset CreatedAt, long Seq);

public sealed record GetCommitsOutput(string ConvoId, IReadOnlyList<CommitItem> Commits);

public sealed record GetWelcomeOutput(string ConvoId, string Welcome);

public sealed record ConfirmWelcomeInput(string? ConvoId, bool? Success, string? ErrorDetails);

public sealed record ConfirmWelcomeOutput(bool Confirmed);

/// <summary>The SSE <c>messageEvent</c>: <c>cursor</c> is the message's seq, usable as the next <c>cursor</c>.</summary>
public sealed record MessageEventView(string Type, string Cursor, MessageView Message);

public sealed record SuiteStats(string CipherSuite, long Available, long Consumed);

public sealed record KeyPackageStatsOutput(long Available, int Threshold, bool NeedsReplenish, string? OldestExpiresIn, IReadOnlyList<SuiteStats> ByCipherSuite);

public sealed record UpdateCursorInput(string? ConvoId, string? Cursor);

public sealed record SuccessOutput(bool Success);

public sealed record DidDocumentService(string Id, string Type, string ServiceEndpoint);

public sealed record DidDocument([property: JsonPropertyName("@context")] string[] Context, string Id, IReadOnlyList<DidDocumentService> Service);

public sealed record MessageEvent(string Type, string ConvoId, long Seq, long Epoch, string MessageType, string MsgId);

public sealed record ConvoEvent(string Type, string ConvoId, long Epoch, string[] Members);

public sealed record UpdateGroupInfoInput(string? ConvoId, string? GroupInfo, long? Epoch);

public sealed record UpdateGroupInfoOutput(bool Updated);

public sealed record GetGroupInfoOutput(string GroupInfo, long Epoch);

public sealed record UploadBlobOutput(string Cid, long Size);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(XrpcError))]
[JsonSerializable(typeof(CreateConvoInput))]
[JsonSerializable(typeof(ConvoView))]
[JsonSerializable(typeof(GetConvosOutput))]
[JsonSerializable(typeof(PublishKeyPackageInput))]
[JsonSerializable(typeof(PublishKeyPackageOutput))]
[JsonSerializable(typeof(GetKeyPackagesOutput))]
[JsonSerializable(typeof(SendMessageInput))]
[JsonSerializable(typeof(SendMessageOutput))]
[JsonSerializable(typeof(GetMessagesOutput))]
[JsonSerializable(typeof(GetEpochOutput))]
[JsonSerializable(typeof(DidDocument))]
[JsonSerializable(typeof(KeyPackageStatsOutput))]
[JsonSerializable(typeof(UpdateCursorInput))]
[JsonSerializable(typeof(SuccessOutput))]
[JsonSerializable(typeof(MessageEventView))]
[JsonSerializable(typeof(AddMembersInput))]
[JsonSerializable(typeof(LeaveConvoInput))]
[JsonSerializable(typeof(EpochChangeOutput))]
[JsonSerializable(typeof(GetCommitsOutput))]
[JsonSerializable(typeof(GetWelcomeOutput))]
[JsonSerializable(typeof(ConfirmWelcomeInput))]
[JsonSerializable(typeof(ConfirmWelcomeOutput))]
[JsonSerializable(typeof(MessageEvent))]
[JsonSerializable(typeof(ConvoEvent))]
[JsonSerializable(typeof(UpdateGroupInfoInput))]
[JsonSerializable(typeof(UpdateGroupInfoOutput))]
[JsonSerializable(typeof(GetGroupInfoOutput))]
[JsonSerializable(typeof(UploadBlobOutput))]
public sealed partial class MlsJsonContext : JsonSerializerContext;
