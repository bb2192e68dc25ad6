using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Catbird.Nats.JetStream;

/// <summary>An error answered by the JetStream API.</summary>
public class NatsJSApiException(ApiError error) : NatsException($"JetStream: {error.Description} (code {error.Code}, err_code {error.ErrCode})")
{
    /// <summary>The error.</summary>
    public ApiError Error { get; } = error;
}

/// <summary>Options of a JetStream publish.</summary>
public sealed record NatsJSPubOpts
{
    /// <summary>De-duplication id (<c>Nats-Msg-Id</c>).</summary>
    public string? MsgId { get; init; }

    /// <summary>Store only if the stream's last sequence is this (<c>Nats-Expected-Last-Sequence</c>).</summary>
    public long? ExpectedLastSequence { get; init; }

    /// <summary>Store only if the subject's last sequence is this, 0 = no message yet (<c>Nats-Expected-Last-Subject-Sequence</c>).</summary>
    public long? ExpectedLastSubjectSequence { get; init; }

    /// <summary>Store only in this stream (<c>Nats-Expected-Stream</c>).</summary>
    public string? ExpectedStream { get; init; }
}

/// <summary>JetStream over a <see cref="NatsConnection"/>: streams, consumers and acknowledged publishes.</summary>
public sealed class NatsJSContext(NatsConnection connection, string apiPrefix = "$JS.API")
{
    /// <summary>The core connection.</summary>
    public NatsConnection Connection { get; } = connection;

    /// <summary>Account usage.</summary>
    public Task<AccountInfo> GetAccountInfoAsync(CancellationToken ct = default) =>
        ApiAsync("INFO", null, JetStreamJsonContext.Default.AccountInfo, ct);

    /// <summary>Creates a stream.</summary>
    public Task<StreamInfo> CreateStreamAsync(StreamConfig config, CancellationToken ct = default) =>
        ApiAsync($"STREAM.CREATE.{config.Name}", Serialize(config, JetStreamJsonContext.Default.StreamConfig), JetStreamJsonContext.Default.StreamInfo, ct);

    /// <summary>Updates a stream.</summary>
    public Task<StreamInfo> UpdateStreamAsync(StreamConfig config, CancellationToken ct = default) =>
        ApiAsync($"STREAM.UPDATE.{config.Name}", Serialize(config, JetStreamJsonContext.Default.StreamConfig), JetStreamJsonContext.Default.StreamInfo, ct);

    /// <summary>Creates a stream, or updates it when it exists.</summary>
    public async Task<StreamInfo> CreateOrUpdateStreamAsync(StreamConfig config, CancellationToken ct = default)
    {
        try
        {
            return await CreateStreamAsync(config, ct);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == 10058)
        {
            return await UpdateStreamAsync(config, ct);
        }
    }

    /// <summary>A stream's configuration and state.</summary>
    public Task<StreamInfo> GetStreamAsync(string name, CancellationToken ct = default) =>
        ApiAsync($"STREAM.INFO.{name}", null, JetStreamJsonContext.Default.StreamInfo, ct);

    /// <summary>Deletes a stream.</summary>
    public async Task DeleteStreamAsync(string name, CancellationToken ct = default) =>
        await ApiAsync($"STREAM.DELETE.{name}", null, JetStreamJsonContext.Default.ApiResponse, ct);

    /// <summary>Purges a stream (optionally only one subject).</summary>
    public async Task PurgeStreamAsync(string name, string? filter = null, CancellationToken ct = default) =>
        await ApiAsync($"STREAM.PURGE.{name}", Serialize(new PurgeRequest { Filter = filter }, JetStreamJsonContext.Default.PurgeRequest), JetStreamJsonContext.Default.ApiResponse, ct);

    /// <summary>Publishes and waits for the stream's acknowledgement.</summary>
    /// <exception cref="NatsJSApiException">The stream refused the message (for example 10071, wrong last sequence).</exception>
    /// <exception cref="NatsNoRespondersException">No stream stores <paramref name="subject"/>.</exception>
    public async Task<PubAckResponse> PublishAsync(string subject, ReadOnlyMemory<byte> data, NatsJSPubOpts? opts = null, NatsHeaders? headers = null, CancellationToken ct = default)
    {
        if (opts is not null)
        {
            headers ??= new NatsHeaders();
            if (opts.MsgId is not null)
            {
                headers.Set("Nats-Msg-Id", opts.MsgId);
            }

            if (opts.ExpectedLastSequence is { } lastSequence)
            {
                headers.Set("Nats-Expected-Last-Sequence", lastSequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (opts.ExpectedLastSubjectSequence is { } lastSubjectSequence)
            {
                headers.Set("Nats-Expected-Last-Subject-Sequence", lastSubjectSequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (opts.ExpectedStream is not null)
            {
                headers.Set("Nats-Expected-Stream", opts.ExpectedStream);
            }
        }

        var reply = await Connection.RequestAsync(subject, data, headers, null, ct);
        return Parse(reply.Data, JetStreamJsonContext.Default.PubAckResponse);
    }

    /// <summary>Creates (or, for a durable, updates) a pull consumer.</summary>
    public async Task<NatsJSConsumer> CreateOrUpdateConsumerAsync(string stream, ConsumerConfig config, CancellationToken ct = default)
    {
        var subject = config.DurableName is { } durable ? $"CONSUMER.DURABLE.CREATE.{stream}.{durable}" : $"CONSUMER.CREATE.{stream}";
        var info = await ApiAsync(subject, Serialize(new CreateConsumerRequest { StreamName = stream, Config = config }, JetStreamJsonContext.Default.CreateConsumerRequest),
            JetStreamJsonContext.Default.ConsumerInfo, ct);
        return new NatsJSConsumer(this, stream, info);
    }

    /// <summary>An existing consumer.</summary>
    public async Task<NatsJSConsumer> GetConsumerAsync(string stream, string name, CancellationToken ct = default) =>
        new(this, stream, await ApiAsync($"CONSUMER.INFO.{stream}.{name}", null, JetStreamJsonContext.Default.ConsumerInfo, ct));

    /// <summary>Deletes a consumer.</summary>
    public async Task DeleteConsumerAsync(string stream, string name, CancellationToken ct = default) =>
        await ApiAsync($"CONSUMER.DELETE.{stream}.{name}", null, JetStreamJsonContext.Default.ApiResponse, ct);

    internal Task<StreamMsgGetResponse> GetMessageAsync(string stream, StreamMsgGetRequest request, CancellationToken ct) =>
        ApiAsync($"STREAM.MSG.GET.{stream}", Serialize(request, JetStreamJsonContext.Default.StreamMsgGetRequest), JetStreamJsonContext.Default.StreamMsgGetResponse, ct);

    /// <summary>Direct Get of the last message on <paramref name="subject"/>; null when there is none.</summary>
    internal async Task<NatsMsg?> DirectGetLastAsync(string stream, string subject, CancellationToken ct)
    {
        var reply = await Connection.RequestAsync($"{apiPrefix}.DIRECT.GET.{stream}.{subject}", default, null, null, ct);
        if (reply.Headers is { Code: 404 })
        {
            return null;
        }

        if (reply.Headers is { Code: >= 400 } failed)
        {
            throw new NatsJSApiException(new ApiError { Code = failed.Code, Description = failed.Description ?? "direct get failed" });
        }

        return reply;
    }

    internal async Task<T> ApiAsync<T>(string operation, byte[]? payload, JsonTypeInfo<T> type, CancellationToken ct)
    {
        NatsMsg reply;
        try
        {
            reply = await Connection.RequestAsync($"{apiPrefix}.{operation}", payload ?? default(ReadOnlyMemory<byte>), null, null, ct);
        }
        catch (NatsNoRespondersException)
        {
            throw new NatsException("JetStream is not enabled on this server (no responders on the API).");
        }

        return Parse(reply.Data, type);
    }

    internal static byte[] Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    private static T Parse<T>(ReadOnlyMemory<byte> data, JsonTypeInfo<T> type)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize(data.Span, JetStreamJsonContext.Default.ApiResponse);
            if (envelope?.Error is { } error)
            {
                throw new NatsJSApiException(error);
            }

            return JsonSerializer.Deserialize(data.Span, type) ?? throw new NatsException("JetStream answered with an empty body.");
        }
        catch (JsonException e)
        {
            throw new NatsException($"JetStream answered with malformed JSON: {e.Message}");
        }
    }
}
