using Microsoft.Extensions.Logging;

namespace Catbird.Redis.Internal;

/// <summary>Connection events, logged through source-generated methods.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(1, LogLevel.Information, "Connected to Redis at {EndPoint}")]
    public static partial void Connected(ILogger logger, RedisEndPoint endPoint);

    [LoggerMessage(2, LogLevel.Warning, "Connecting to Redis at {EndPoint} failed (attempt {Attempt}); retrying in {DelayMs} ms")]
    public static partial void ConnectFailed(ILogger logger, Exception exception, RedisEndPoint endPoint, int attempt, long delayMs);

    [LoggerMessage(3, LogLevel.Warning, "The connection to Redis at {EndPoint} was lost; commands in flight failed, reconnecting")]
    public static partial void ConnectionLost(ILogger logger, Exception exception, RedisEndPoint endPoint);

    [LoggerMessage(4, LogLevel.Error, "Redis at {EndPoint} violated the protocol; closing the connection")]
    public static partial void ProtocolViolation(ILogger logger, Exception exception, RedisEndPoint endPoint);

    [LoggerMessage(5, LogLevel.Information, "Redis subscriber connected to {EndPoint}; subscribed again to {Channels} channels and {Patterns} patterns")]
    public static partial void SubscriberConnected(ILogger logger, RedisEndPoint endPoint, int channels, int patterns);

    [LoggerMessage(6, LogLevel.Warning, "The Redis subscriber connection to {EndPoint} was lost")]
    public static partial void SubscriberLost(ILogger logger, Exception exception, RedisEndPoint endPoint);

    [LoggerMessage(7, LogLevel.Warning, "Redis subscription to {Channel} is full; dropped a message (slow consumer)")]
    public static partial void MessageDropped(ILogger logger, string channel);
}
