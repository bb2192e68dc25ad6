using System.Text.Json.Serialization;

namespace Catbird.Kas.Api.Media;

/// <summary><c>POST /media/v1/session/start</c> body. The user is the token's subject; a <c>userId</c> that differs is refused.</summary>
public sealed class SessionStartRequest
{
    /// <summary>Optional; must equal the token subject when present.</summary>
    public string? UserId { get; set; }

    /// <summary>The asset being played.</summary>
    public string? AssetId { get; set; }

    /// <summary><c>tdf3</c> (default) or <c>fairplay</c>.</summary>
    public string? Protocol { get; set; }

    /// <summary>Client region hint.</summary>
    public string? GeoRegion { get; set; }

    /// <summary>Client user agent.</summary>
    public string? UserAgent { get; set; }
}

/// <summary>Answer to a session start.</summary>
public sealed record SessionStartResponse(string SessionId, string Status);

/// <summary><c>POST /media/v1/key-request</c> body.</summary>
public sealed class MediaKeyRequest
{
    /// <summary>The session.</summary>
    public string? SessionId { get; set; }

    /// <summary>Optional; must equal the token subject when present.</summary>
    public string? UserId { get; set; }

    /// <summary>Optional; must equal the session's asset when present.</summary>
    public string? AssetId { get; set; }

    /// <summary>Segment being decrypted.</summary>
    public long? SegmentIndex { get; set; }

    /// <summary>The client's EC public key (SPKI PEM) the DEK is wrapped for.</summary>
    public string? ClientPublicKey { get; set; }

    /// <summary>Base64 NanoTDF header (at most 16 KiB decoded).</summary>
    public string? NanotdfHeader { get; set; }

    /// <summary>FairPlay SPC (not supported).</summary>
    public string? SpcData { get; set; }
}

/// <summary>Answer to a key request.</summary>
public sealed record MediaKeyResponse(string SessionPublicKey, string WrappedKey, string Status, MediaKeyMetadata Metadata);

/// <summary>Key request metadata.</summary>
public sealed record MediaKeyMetadata(
    [property: JsonPropertyName("latency_ms")] double LatencyMs,
    [property: JsonPropertyName("segment_index")] long? SegmentIndex);

/// <summary><c>POST /media/v1/session/{id}/heartbeat</c> body.</summary>
public sealed class HeartbeatRequest
{
    /// <summary><c>playing</c>, <c>paused</c> or <c>stopped</c>.</summary>
    public string? State { get; set; }

    /// <summary>Current segment.</summary>
    public long? SegmentIndex { get; set; }
}

/// <summary>Answer to a heartbeat.</summary>
public sealed record HeartbeatResponse(string Status, long LastHeartbeat);

/// <summary>Media API error: <c>{"error": code, "message"}</c>.</summary>
public sealed record MediaError(string Error, string Message);

/// <summary>A playback session as stored in Redis.</summary>
public sealed class PlaybackSession
{
    /// <summary>Session id <c>{user}:{asset}:{uuid}</c>.</summary>
    public string SessionId { get; set; } = "";

    /// <summary>Token subject.</summary>
    public string UserId { get; set; } = "";

    /// <summary>Asset.</summary>
    public string AssetId { get; set; } = "";

    /// <summary>Protocol.</summary>
    public string Protocol { get; set; } = "tdf3";

    /// <summary>Region hint.</summary>
    public string? GeoRegion { get; set; }

    /// <summary>User agent.</summary>
    public string? UserAgent { get; set; }

    /// <summary>Client address.</summary>
    public string? ClientIp { get; set; }

    /// <summary>Start, unix ms.</summary>
    public long StartTimestamp { get; set; }

    /// <summary>Last heartbeat or key request, unix ms.</summary>
    public long LastHeartbeat { get; set; }

    /// <summary>Playback state.</summary>
    public string State { get; set; } = "started";

    /// <summary>Last segment.</summary>
    public long? SegmentIndex { get; set; }

    /// <summary>First "playing" heartbeat, unix ms.</summary>
    public long? FirstPlayTimestamp { get; set; }
}

/// <summary>A media event published to <c>media.metrics.&lt;type&gt;</c>.</summary>
public sealed record MediaEvent(
    string Type,
    string? SessionId,
    string UserId,
    string? AssetId,
    long Timestamp,
    string? Detail = null,
    long? SegmentIndex = null,
    double? LatencyMs = null);
