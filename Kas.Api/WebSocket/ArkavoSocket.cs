using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Keys;
using Catbird.Kas.Api.Messaging;
using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Policy;
using Catbird.Kas.Api.Rewrap;
using Catbird.Kas.Api.Storage;
using Catbird.Redis;

namespace Catbird.Kas.Api.WebSocket;

/// <summary>Message types of the Arkavo binary WebSocket protocol (first byte of each binary frame).</summary>
public static class ArkavoMessageType
{
    /// <summary>Client key → server ephemeral key and salt.</summary>
    public const byte PublicKey = 0x01;

    /// <summary>KAS public key request/answer.</summary>
    public const byte KasPublicKey = 0x02;

    /// <summary>Rewrap of a NanoTDF header.</summary>
    public const byte Rewrap = 0x03;

    /// <summary>Rewrapped key.</summary>
    public const byte RewrappedKey = 0x04;

    /// <summary>NATS passthrough.</summary>
    public const byte Nats = 0x05;

    /// <summary>FlatBuffers event.</summary>
    public const byte Event = 0x06;

    /// <summary>Error (JSON).</summary>
    public const byte Error = 0xFF;
}

/// <summary>
/// One authenticated <c>/ws</c> connection. Frames are handled in order; every failure is answered with
/// <c>[0xFF]{"error_type","message"}</c>. The session secret is the raw ECDH x-coordinate between the client key of
/// 0x01 and a fresh server key; rewrapped DEKs are wrapped with HKDF(secret, SHA256("L1L")) and AES-256-GCM.
/// </summary>
public sealed class ArkavoSocket(
    System.Net.WebSockets.WebSocket socket,
    KasEntity entity,
    KasKeyRing ring,
    NanoKeyAccess keyAccess,
    PolicyDecisionPoint decisions,
    RedisConnection? redis,
    IBlobStore blobs,
    IKasMessaging? messaging,
    string natsSubject,
    ILogger logger)
{
    /// <summary>Largest message (a whole NanoTDF).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>Largest event.</summary>
    public const int MaxEventBytes = 2000;

    private static readonly RedisScript ReadOnceScript = new("""
        local value = redis.call('GET', KEYS[1])
        if value and string.byte(value, 1) == 1 then
          redis.call('DEL', KEYS[1])
        end
        return value
        """);

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly string _connection = Guid.NewGuid().ToString("N")[..8];
    private byte[]? _sessionSecret;

    /// <summary>The per-user NATS subject: <c>profile.&lt;sub&gt;</c>, the subject base58-encoded when it is not a valid token.</summary>
    public static string ProfileSubject(string subject) =>
        "profile." + (subject.Length > 0 && subject.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '-')
            ? subject
            : Base58.Encode(Encoding.UTF8.GetBytes(subject)));

    /// <summary>Runs the receive loop until the client closes or the host stops; NATS forwarding runs alongside and ends with it.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var forwarders = messaging is null
            ? []
            : new[] { ForwardAsync(natsSubject, connection.Token), ForwardAsync(ProfileSubject(entity.Subject), connection.Token) };
        try
        {
            await ReceiveLoopAsync(connection.Token);
        }
        finally
        {
            await connection.CancelAsync();
            await Task.WhenAll(forwarders);
        }
    }

    private async Task ForwardAsync(string subject, CancellationToken ct)
    {
        try
        {
            await foreach (var message in messaging!.SubscribeAsync(subject, ct))
            {
                var type = message.Data.Length >= 3 && message.Data.Span[..3].SequenceEqual("L1L"u8) ? ArkavoMessageType.Nats : ArkavoMessageType.Event;
                await SendAsync([type, .. message.Data.Span], ct);
            }
        }
        catch (Exception error) when (error is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        using var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open && !ct.IsCancellationRequested)
            {
                message.SetLength(0);
                WebSocketReceiveResult result;
                var tooLarge = false;
                do
                {
                    result = await socket.ReceiveAsync(buffer, ct);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ct);
                        KasLog.WebSocketClosed(logger, _connection, "client closed");
                        return;
                    }

                    if (message.Length + result.Count > MaxMessageBytes)
                    {
                        tooLarge = true;
                    }
                    else
                    {
                        message.Write(buffer, 0, result.Count);
                    }
                }
                while (!result.EndOfMessage);

                if (tooLarge)
                {
                    await ErrorAsync("invalid_format", $"message larger than {MaxMessageBytes} bytes", ct);
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Text)
                {
                    await ErrorAsync("invalid_format", "text frames are not part of the protocol; authenticate with a bearer token at upgrade", ct);
                    continue;
                }

                await HandleAsync(message.GetBuffer().AsMemory(0, (int)message.Length), ct);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            KasLog.WebSocketClosed(logger, _connection, error.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (_sessionSecret is not null)
            {
                CryptographicOperations.ZeroMemory(_sessionSecret);
            }
        }
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> frame, CancellationToken ct)
    {
        if (frame.Length == 0)
        {
            await ErrorAsync("invalid_format", "empty frame", ct);
            return;
        }

        var payload = frame[1..];
        switch (frame.Span[0])
        {
            case ArkavoMessageType.PublicKey:
                await KeyExchangeAsync(payload, ct);
                break;
            case ArkavoMessageType.KasPublicKey:
                var key = ring.Current("ec:secp256r1");
                if (key is null)
                {
                    await ErrorAsync("server_error", "this KAS has no P-256 key", ct);
                    return;
                }

                await SendAsync([ArkavoMessageType.KasPublicKey, .. key.CompressedPublicKey], ct);
                break;
            case ArkavoMessageType.Rewrap:
                await RewrapAsync(payload, ct);
                break;
            case ArkavoMessageType.Nats:
                if (messaging is null)
                {
                    await ErrorAsync("server_error", "NATS passthrough is not available on this server", ct);
                    return;
                }

                await PublishAsync(natsSubject, payload.ToArray(), ct);
                break;
            case ArkavoMessageType.Event:
                await EventAsync(payload, ct);
                break;
            default:
                await ErrorAsync("invalid_format", $"unknown message type 0x{frame.Span[0]:x2}", ct);
                break;
        }
    }

    private async Task KeyExchangeAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (_sessionSecret is not null)
        {
            await ErrorAsync("invalid_format", "the session key is already established", ct);
            return;
        }

        var curve = EcCurveInfo.For(NanoTdfCurve.Secp256r1);
        if (payload.Length != curve.CompressedPointSize)
        {
            await ErrorAsync("invalid_format", "public key must be a 33-byte compressed P-256 point", ct);
            return;
        }

        using var server = ECDiffieHellman.Create(curve.DotNetCurve);
        try
        {
            _sessionSecret = NanoTdfCrypto.SharedSecret(server, curve, payload.Span);
        }
        catch (NanoTdfFormatException error)
        {
            await ErrorAsync("invalid_format", error.Message, ct);
            return;
        }

        var salt = RandomNumberGenerator.GetBytes(32);
        await SendAsync([ArkavoMessageType.PublicKey, .. curve.Compress(server.ExportParameters(false).Q), .. salt], ct);
    }

    private async Task RewrapAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (_sessionSecret is null)
        {
            await ErrorAsync("invalid_format", "Session not established: send 0x01 with your public key first", ct);
            return;
        }

        var (opened, failure) = keyAccess.Open(payload.Span, null);
        if (opened is null)
        {
            await ErrorAsync(failure!.Status == 403 ? "policy_denied" : "invalid_format", failure.Error, ct);
            return;
        }

        try
        {
            var decision = await decisions.DecideAsync(entity, opened.Policy, ct);
            KasLog.RewrapDecision(logger, decision.Permit ? "permit" : "deny", entity.Subject, opened.Key.Kid,
                Convert.ToHexStringLower(opened.Header.Policy.Binding), opened.Binding.ToString(), opened.Policy.Uuid ?? "-", decision.Reason + " (ws)");
            if (!decision.Permit)
            {
                await ErrorAsync(decision.DependencyFailed ? "server_error" : "policy_denied", decision.Reason, ct);
                return;
            }

            var wrapKey = NanoTdfCrypto.DeriveKey(_sessionSecret, NanoTdfCrypto.SaltL1L);
            var wrapped = NanoTdfCrypto.Wrap(wrapKey, opened.Dek, 16);
            CryptographicOperations.ZeroMemory(wrapKey);
            await SendAsync([ArkavoMessageType.RewrappedKey, .. opened.Header.EphemeralPublicKey, .. wrapped], ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(opened.Dek);
        }
    }

    private async Task EventAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (payload.Length > MaxEventBytes)
        {
            await ErrorAsync("invalid_format", $"event larger than {MaxEventBytes} bytes", ct);
            return;
        }

        ArkavoEvent arkavoEvent;
        try
        {
            arkavoEvent = ArkavoEvent.Read(payload.Span);
        }
        catch (Exception error) when (error is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            await ErrorAsync("invalid_format", "not an arkavo.Event FlatBuffer: " + error.Message, ct);
            return;
        }

        if (arkavoEvent.Action == ArkavoAction.Store && arkavoEvent.DataType == ArkavoEventData.CacheEvent)
        {
            await StoreAsync(arkavoEvent, ct);
            return;
        }

        if (arkavoEvent.DataType == ArkavoEventData.RouteEvent)
        {
            if (messaging is null || arkavoEvent.TargetId is not { Length: > 0 } target)
            {
                await ErrorAsync(messaging is null ? "server_error" : "invalid_format",
                    messaging is null ? "route events need NATS, which is not available on this server" : "route event has no target_id", ct);
                return;
            }

            await PublishAsync("profile." + Base58.Encode(target), payload.ToArray(), ct);
            return;
        }

        if (redis is null)
        {
            await ErrorAsync("server_error", "events need Redis (ConnectionStrings__redis)", ct);
            return;
        }

        switch (arkavoEvent.DataType)
        {
            case ArkavoEventData.UserEvent when arkavoEvent.TargetId is { Length: > 0 } id:
                var stored = (await redis.EvalAsync(ReadOnceScript, [CacheKey(id)], null, ct)).AsBytes();
                await SendAsync(stored is { Length: > 1 } ? [ArkavoMessageType.Event, .. stored.AsSpan(1)] : [ArkavoMessageType.Event, .. "Event not found"u8], ct);
                break;
            case ArkavoEventData.CacheEvent when arkavoEvent.TargetId is { Length: > 0 } id && arkavoEvent.TargetPayload is { } data:
                byte[] value = [arkavoEvent.OneTimeAccess ? (byte)1 : (byte)0, .. data];
                await redis.ExecuteAsync(arkavoEvent.Ttl > 0
                    ? ["SET", CacheKey(id), value, "EX", (long)arkavoEvent.Ttl]
                    : ["SET", CacheKey(id), value], ct);
                await SendAsync([ArkavoMessageType.Event, .. data], ct);
                break;
            default:
                await ErrorAsync("invalid_format", "event has no usable data (target_id and payload)", ct);
                break;
        }
    }

    private async Task StoreAsync(ArkavoEvent arkavoEvent, CancellationToken ct)
    {
        if (arkavoEvent.TargetId is not { Length: > 0 } id || arkavoEvent.TargetPayload is not { } data)
        {
            await ErrorAsync("invalid_format", "store events need target_id and target_payload", ct);
            return;
        }

        try
        {
            await blobs.PutAsync(Base58.Encode(id) + "/data", data, ct);
        }
        catch (Exception error) when (error is IOException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException or UnauthorizedAccessException)
        {
            await ErrorAsync("server_error", "could not store the object: " + error.Message, ct);
            return;
        }

        await SendAsync([ArkavoMessageType.Event, .. "Successfully stored"u8], ct);
    }

    private async Task PublishAsync(string subject, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        try
        {
            await messaging!.PublishAsync(subject, data, ct);
        }
        catch (Exception error) when (error is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await ErrorAsync("server_error", "could not publish to NATS: " + error.Message, ct);
        }
    }

    private static string CacheKey(byte[] id) => "kas:ws:cache:" + Convert.ToHexStringLower(id);

    private Task ErrorAsync(string type, string message, CancellationToken ct)
    {
        KasLog.WebSocketError(logger, _connection, type, message);
        var json = JsonSerializer.SerializeToUtf8Bytes(new WebSocketError(type, message), KasJsonContext.Default.WebSocketError);
        return SendAsync([ArkavoMessageType.Error, .. json], ct);
    }

    private async Task SendAsync(byte[] data, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct);
        try
        {
            await socket.SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true, ct);
        }
        finally
        {
            _sendLock.Release();
        }
    }
}

/// <summary>The JSON of a 0xFF error frame.</summary>
public sealed record WebSocketError(
    [property: System.Text.Json.Serialization.JsonPropertyName("error_type")] string ErrorType,
    [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message);
