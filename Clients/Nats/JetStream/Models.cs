using System.Text.Json.Serialization;

namespace Catbird.Nats.JetStream;

/// <summary>A stream's configuration (fields as the JetStream API names them; null = server default). 2.9-compatible.</summary>
public sealed record StreamConfig
{
    /// <summary>Stream name.</summary>
    public required string Name { get; init; }

    /// <summary>Subjects stored.</summary>
    public string[]? Subjects { get; init; }

    /// <summary><c>limits</c>, <c>interest</c> or <c>workqueue</c>.</summary>
    public string? Retention { get; init; }

    /// <summary>Max consumers (-1 unlimited).</summary>
    public long? MaxConsumers { get; init; }

    /// <summary>Max messages (-1 unlimited).</summary>
    public long? MaxMsgs { get; init; }

    /// <summary>Max bytes (-1 unlimited).</summary>
    public long? MaxBytes { get; init; }

    /// <summary>Max age in nanoseconds (0 unlimited).</summary>
    public long? MaxAge { get; init; }

    /// <summary>Max messages per subject (-1 unlimited).</summary>
    public long? MaxMsgsPerSubject { get; init; }

    /// <summary>Max message size (-1 unlimited).</summary>
    public int? MaxMsgSize { get; init; }

    /// <summary><c>old</c> or <c>new</c>.</summary>
    public string? Discard { get; init; }

    /// <summary><c>file</c> or <c>memory</c>.</summary>
    public string? Storage { get; init; }

    /// <summary>Replicas.</summary>
    public int? NumReplicas { get; init; }

    /// <summary>De-duplication window in nanoseconds.</summary>
    public long? DuplicateWindow { get; init; }

    /// <summary>Allow <c>Nats-Rollup</c> headers.</summary>
    public bool? AllowRollupHdrs { get; init; }

    /// <summary>Deny message deletes through the API.</summary>
    public bool? DenyDelete { get; init; }

    /// <summary>Deny purges through the API.</summary>
    public bool? DenyPurge { get; init; }

    /// <summary>Allow Direct Get.</summary>
    public bool? AllowDirect { get; init; }

    /// <summary>Allow Direct Get on mirrors.</summary>
    public bool? MirrorDirect { get; init; }
}

/// <summary>A stream's state.</summary>
public sealed record StreamState
{
    /// <summary>Messages stored.</summary>
    public long Messages { get; init; }

    /// <summary>Bytes stored.</summary>
    public long Bytes { get; init; }

    /// <summary>First sequence.</summary>
    public long FirstSeq { get; init; }

    /// <summary>Last sequence.</summary>
    public long LastSeq { get; init; }

    /// <summary>Consumers.</summary>
    public long ConsumerCount { get; init; }
}

/// <summary>A stream's configuration and state.</summary>
public sealed record StreamInfo
{
    /// <summary>The configuration.</summary>
    public required StreamConfig Config { get; init; }

    /// <summary>The state.</summary>
    public StreamState State { get; init; } = new();
}

/// <summary>A consumer's configuration.</summary>
public sealed record ConsumerConfig
{
    /// <summary>Durable name (null = ephemeral).</summary>
    public string? DurableName { get; init; }

    /// <summary><c>all</c>, <c>last</c>, <c>new</c>, <c>by_start_sequence</c>, <c>last_per_subject</c>.</summary>
    public string? DeliverPolicy { get; init; }

    /// <summary>Start sequence for <c>by_start_sequence</c>.</summary>
    public long? OptStartSeq { get; init; }

    /// <summary><c>explicit</c>, <c>none</c> or <c>all</c>.</summary>
    public string? AckPolicy { get; init; } = "explicit";

    /// <summary>Ack wait in nanoseconds.</summary>
    public long? AckWait { get; init; }

    /// <summary>Max deliveries (-1 unlimited).</summary>
    public long? MaxDeliver { get; init; }

    /// <summary>Only messages on this subject.</summary>
    public string? FilterSubject { get; init; }

    /// <summary><c>instant</c> or <c>original</c>.</summary>
    public string? ReplayPolicy { get; init; }

    /// <summary>Max unacknowledged messages.</summary>
    public long? MaxAckPending { get; init; }

    /// <summary>Remove an idle ephemeral consumer after this many nanoseconds.</summary>
    public long? InactiveThreshold { get; init; }

    /// <summary>Deliver headers only.</summary>
    public bool? HeadersOnly { get; init; }

    /// <summary>Push consumers: where to deliver.</summary>
    public string? DeliverSubject { get; init; }

    /// <summary>Push consumers: flow control.</summary>
    public bool? FlowControl { get; init; }

    /// <summary>Push consumers: heartbeat interval in nanoseconds.</summary>
    public long? IdleHeartbeat { get; init; }

    /// <summary>Keep consumer state in memory.</summary>
    public bool? MemStorage { get; init; }

    /// <summary>Consumer replicas.</summary>
    public int? NumReplicas { get; init; }
}

/// <summary>Delivery positions of a consumer.</summary>
public sealed record SequenceInfo
{
    /// <summary>Consumer sequence.</summary>
    public long ConsumerSeq { get; init; }

    /// <summary>Stream sequence.</summary>
    public long StreamSeq { get; init; }
}

/// <summary>A consumer's configuration and state.</summary>
public sealed record ConsumerInfo
{
    /// <summary>The stream.</summary>
    public string StreamName { get; init; } = "";

    /// <summary>The consumer name.</summary>
    public string Name { get; init; } = "";

    /// <summary>The configuration.</summary>
    public ConsumerConfig Config { get; init; } = new();

    /// <summary>Messages not delivered yet.</summary>
    public long NumPending { get; init; }

    /// <summary>Delivered, not acknowledged.</summary>
    public long NumAckPending { get; init; }

    /// <summary>What was delivered last.</summary>
    public SequenceInfo Delivered { get; init; } = new();
}

/// <summary>The acknowledgement of a JetStream publish.</summary>
public sealed record PubAckResponse
{
    /// <summary>The stream that stored the message.</summary>
    public string Stream { get; init; } = "";

    /// <summary>Its sequence number.</summary>
    public long Seq { get; init; }

    /// <summary>True when the message was a duplicate (same <c>Nats-Msg-Id</c> within the window) and not stored again.</summary>
    public bool Duplicate { get; init; }
}

/// <summary>Account limits and usage.</summary>
public sealed record AccountInfo
{
    /// <summary>Memory used.</summary>
    public long Memory { get; init; }

    /// <summary>Storage used.</summary>
    public long Storage { get; init; }

    /// <summary>Streams.</summary>
    public long Streams { get; init; }

    /// <summary>Consumers.</summary>
    public long Consumers { get; init; }
}

/// <summary>An error from the JetStream API.</summary>
public sealed record ApiError
{
    /// <summary>HTTP-like status code.</summary>
    public int Code { get; init; }

    /// <summary>JetStream error code (10058 stream name in use, 10071 wrong last sequence, 10037 no message found, …).</summary>
    public int ErrCode { get; init; }

    /// <summary>What went wrong.</summary>
    public string Description { get; init; } = "";
}

/// <summary>The envelope of API responses.</summary>
internal sealed record ApiResponse
{
    public ApiError? Error { get; init; }
}

internal sealed record StreamMsgGetRequest
{
    public long? Seq { get; init; }

    public string? LastBySubj { get; init; }
}

internal sealed record StoredMessage
{
    public string Subject { get; init; } = "";

    public long Seq { get; init; }

    public string? Hdrs { get; init; }

    public string? Data { get; init; }

    public DateTimeOffset Time { get; init; }
}

internal sealed record StreamMsgGetResponse
{
    public StoredMessage? Message { get; init; }
}

internal sealed record CreateConsumerRequest
{
    public required string StreamName { get; init; }

    public required ConsumerConfig Config { get; init; }
}

internal sealed record PullRequest
{
    public int Batch { get; init; }

    public long? Expires { get; init; }

    public bool? NoWait { get; init; }
}

internal sealed record PurgeRequest
{
    public string? Filter { get; init; }
}

internal sealed record NakDelay
{
    public long Delay { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StreamConfig))]
[JsonSerializable(typeof(StreamInfo))]
[JsonSerializable(typeof(ConsumerInfo))]
[JsonSerializable(typeof(PubAckResponse))]
[JsonSerializable(typeof(AccountInfo))]
[JsonSerializable(typeof(ApiResponse))]
[JsonSerializable(typeof(StreamMsgGetRequest))]
[JsonSerializable(typeof(StreamMsgGetResponse))]
[JsonSerializable(typeof(CreateConsumerRequest))]
[JsonSerializable(typeof(PullRequest))]
[JsonSerializable(typeof(PurgeRequest))]
[JsonSerializable(typeof(NakDelay))]
internal sealed partial class JetStreamJsonContext : JsonSerializerContext;
