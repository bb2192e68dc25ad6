using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Catbird.Nats.Internal;

namespace Catbird.Nats;

public sealed partial class NatsConnection
{
    private NatsServerAddress? _current;

    private async Task EstablishAsync(NatsServerAddress server, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposing.Token);
        timeout.CancelAfter(Opts.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream stream;
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, timeout.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            var info = ParseInfo(await ReadLineAsync(stream, timeout.Token));
            if (info.TlsRequired || server.Tls || Opts.Tls.Required)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, ValidateServerCertificate);
                var options = new SslClientAuthenticationOptions { TargetHost = server.Host };
                if (Opts.Tls.CertFile is not null && Opts.Tls.KeyFile is not null)
                {
                    options.ClientCertificates = [X509Certificate2.CreateFromPemFile(Opts.Tls.CertFile, Opts.Tls.KeyFile)];
                }

                await ssl.AuthenticateAsClientAsync(options, timeout.Token);
                stream = ssl;
            }

            await WriteAsync(stream, ConnectLine(info, server), timeout.Token);
            await WriteAsync(stream, "PING\r\n"u8.ToArray(), timeout.Token);
            while (true)
            {
                var line = await ReadLineAsync(stream, timeout.Token);
                if (line.StartsWith("PONG", StringComparison.Ordinal))
                {
                    break;
                }

                if (line.StartsWith("-ERR", StringComparison.Ordinal))
                {
                    var message = line[4..].Trim().Trim('\'');
                    throw message.Contains("Authorization", StringComparison.OrdinalIgnoreCase) || message.Contains("Authentication", StringComparison.OrdinalIgnoreCase)
                        ? new NatsAuthorizationException($"NATS at {server} refused the credentials: {message}")
                        : new NatsServerException(message);
                }

                if (line.StartsWith("INFO", StringComparison.Ordinal))
                {
                    info = ParseInfo(line);
                }
                else if (line.StartsWith("PING", StringComparison.Ordinal))
                {
                    await WriteAsync(stream, "PONG\r\n"u8.ToArray(), timeout.Token);
                }
            }

            ServerInfo = info;
            Discover(info);

            // Subscriptions first, then whatever was published while we were away.
            var resubscribe = new ArrayBufferWriter<byte>();
            foreach (var subscription in _subscriptions.Values.OrderBy(s => s.Sid))
            {
                WriteSub(resubscribe, subscription);
            }

            if (resubscribe.WrittenCount > 0)
            {
                await stream.WriteAsync(resubscribe.WrittenMemory, timeout.Token);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        _stream = stream;
        _current = server;
        _pingsOut = 0;
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024));
        _readLoop = Task.Run(() => ReadLoopAsync(reader, stream));
        SetState(NatsConnectionState.Open);
        _open.TrySetResult();
        ScheduleFlush();
        LogConnected(_logger, server.ToString());
        ConnectionOpened?.Invoke(this, server.ToString());
    }

    private byte[] ConnectLine(NatsServerInfo info, NatsServerAddress server)
    {
        var user = Opts.User;
        var password = Opts.Password;
        var token = Opts.Token;
        if (user is null && token is null && server.UserInfo is { Length: > 0 } userInfo)
        {
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                token = Uri.UnescapeDataString(userInfo);
            }
            else
            {
                user = Uri.UnescapeDataString(userInfo[..colon]);
                password = Uri.UnescapeDataString(userInfo[(colon + 1)..]);
            }
        }

        string? nkey = null, sig = null;
        if (Opts.NKeySeed is { } seed)
        {
            var pair = NKeyPair.FromSeed(seed);
            nkey = Opts.Jwt is null ? pair.PublicKey : null;
            if (info.Nonce is { } nonce)
            {
                sig = Base64Url(pair.Sign(Encoding.ASCII.GetBytes(nonce)));
            }
        }

        var command = new ConnectCommand
        {
            Name = Opts.Name,
            User = user,
            Pass = password,
            AuthToken = token,
            NKey = nkey,
            Jwt = Opts.Jwt,
            Sig = sig,
            TlsRequired = info.TlsRequired || server.Tls || Opts.Tls.Required,
        };
        return Encoding.UTF8.GetBytes("CONNECT " + JsonSerializer.Serialize(command, NatsCoreJsonContext.Default.ConnectCommand) + "\r\n");
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (Opts.Tls.InsecureSkipVerify)
        {
            return true;
        }

        if (Opts.Tls.CaFile is null || certificate is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var pinned = new X509Chain();
        pinned.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        pinned.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        pinned.ChainPolicy.CustomTrustStore.ImportFromPemFile(Opts.Tls.CaFile);
        return pinned.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static NatsServerInfo ParseInfo(string line)
    {
        if (!line.StartsWith("INFO ", StringComparison.Ordinal))
        {
            throw new NatsProtocolException($"expected INFO, got '{Truncate(line)}'");
        }

        try
        {
            return JsonSerializer.Deserialize(line[5..], NatsCoreJsonContext.Default.NatsServerInfo)
                ?? throw new NatsProtocolException("empty INFO");
        }
        catch (JsonException e)
        {
            throw new NatsProtocolException($"malformed INFO: {e.Message}");
        }
    }

    private void Discover(NatsServerInfo info)
    {
        if (info.ConnectUrls is { Length: > 0 } urls)
        {
            var discovered = new List<NatsServerAddress>();
            foreach (var url in urls)
            {
                try
                {
                    discovered.AddRange(NatsServerAddress.ParseList(url));
                }
                catch (FormatException)
                {
                    // Ignore what we cannot use.
                }
            }

            _discovered = discovered;
        }
    }

    // Reads one CRLF-terminated line during the handshake, byte by byte so nothing after it is consumed.
    private static async Task<string> ReadLineAsync(Stream stream, CancellationToken ct)
    {
        var bytes = new List<byte>(512);
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, ct) == 0)
            {
                throw new NatsConnectionException("The server closed the connection during the handshake.");
            }

            if (one[0] == '\n')
            {
                return Encoding.UTF8.GetString(bytes.ToArray()).TrimEnd('\r');
            }

            bytes.Add(one[0]);
            if (bytes.Count > MaxControlLine)
            {
                throw new NatsProtocolException("handshake line longer than 64 KiB");
            }
        }
    }

    private static async Task WriteAsync(Stream stream, byte[] bytes, CancellationToken ct)
    {
        await stream.WriteAsync(bytes, ct);
        await stream.FlushAsync(ct);
    }

    private async Task ReadLoopAsync(PipeReader reader, Stream stream)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_disposing.Token);
                var buffer = result.Buffer;
                while (TryReadCommand(ref buffer))
                {
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    throw new NatsConnectionException("The server closed the connection.");
                }
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            await reader.CompleteAsync();
        }

        if (failure is not null && _disposed == 0 && ReferenceEquals(stream, _stream))
        {
            await OnConnectionLostAsync(failure.Message);
        }
    }

    private bool TryReadCommand(ref ReadOnlySequence<byte> buffer)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            if (buffer.Length > MaxControlLine)
            {
                throw new NatsProtocolException("control line longer than 64 KiB");
            }

            return false;
        }

        var lineSequence = buffer.Slice(0, newline.Value);
        if (lineSequence.Length > MaxControlLine)
        {
            throw new NatsProtocolException("control line longer than 64 KiB");
        }

        var afterLine = buffer.GetPosition(1, newline.Value);
        ReadOnlySpan<byte> lineBytes;
        byte[]? rented = null;
        if (lineSequence.IsSingleSegment)
        {
            lineBytes = lineSequence.FirstSpan;
        }
        else
        {
            rented = ArrayPool<byte>.Shared.Rent((int)lineSequence.Length);
            lineSequence.CopyTo(rented);
            lineBytes = rented.AsSpan(0, (int)lineSequence.Length);
        }

        try
        {
            if (lineBytes.Length > 0 && lineBytes[^1] == '\r')
            {
                lineBytes = lineBytes[..^1];
            }

            if (lineBytes.StartsWith("MSG "u8) || lineBytes.StartsWith("HMSG "u8))
            {
                return TryReadMessage(ref buffer, afterLine, lineBytes);
            }

            return TryReadControl(ref buffer, afterLine, Encoding.ASCII.GetString(lineBytes));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // MSG <subject> <sid> [reply-to] <#bytes> / HMSG <subject> <sid> [reply-to] <#header bytes> <#total bytes>
    private bool TryReadMessage(ref ReadOnlySequence<byte> buffer, SequencePosition afterLine, ReadOnlySpan<byte> line)
    {
        var withHeaders = line[0] == 'H';
        Span<Range> parts = stackalloc Range[7];
        var count = Tokenize(line, parts);
        var expected = withHeaders ? 5 : 4;
        if (count != expected && count != expected + 1)
        {
            throw new NatsProtocolException($"malformed message line '{Truncate(Encoding.ASCII.GetString(line))}'");
        }

        var hasReply = count == expected + 1;
        var sid = ParseNumber(line[parts[2]], "sid");
        var headerLength = withHeaders ? ParseNumber(line[parts[count - 2]], "header size") : 0;
        var totalLength = ParseNumber(line[parts[count - 1]], "size");
        if (totalLength > MaxPayloadHardCap || headerLength > totalLength)
        {
            throw new NatsProtocolException($"message size {totalLength} (headers {headerLength}) is out of bounds");
        }

        var rest = buffer.Slice(afterLine);
        if (rest.Length < totalLength + 2)
        {
            return false;
        }

        var payload = rest.Slice(0, totalLength);
        Span<byte> crlf = stackalloc byte[2];
        rest.Slice(totalLength, 2).CopyTo(crlf);
        if (crlf[0] != '\r' || crlf[1] != '\n')
        {
            throw new NatsProtocolException("message payload not followed by CRLF");
        }

        if (_subscriptions.ContainsKey(sid))
        {
            var subject = Encoding.ASCII.GetString(line[parts[1]]);
            var replyTo = hasReply ? Encoding.ASCII.GetString(line[parts[3]]) : null;
            var headers = withHeaders ? NatsHeaders.Parse(payload.Slice(0, headerLength).ToArray()) : null;
            Deliver(sid, new NatsMsg(subject, replyTo, headers, payload.Slice(headerLength).ToArray(), this));
        }

        buffer = rest.Slice(totalLength + 2);
        return true;
    }

    // Splits on spaces (and tabs), skipping empty tokens; returns how many tokens, or more than the span holds.
    private static int Tokenize(ReadOnlySpan<byte> line, Span<Range> parts)
    {
        var count = 0;
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && (line[i] == ' ' || line[i] == '\t'))
            {
                i++;
            }

            if (i == line.Length)
            {
                break;
            }

            var start = i;
            while (i < line.Length && line[i] != ' ' && line[i] != '\t')
            {
                i++;
            }

            if (count == parts.Length)
            {
                return count + 1;
            }

            parts[count++] = new Range(start, i);
        }

        return count;
    }

    private bool TryReadControl(ref ReadOnlySequence<byte> buffer, SequencePosition afterLine, string line)
    {
        buffer = buffer.Slice(afterLine);
        if (line.StartsWith("PING", StringComparison.Ordinal))
        {
            lock (_writeLock)
            {
                Ascii(_pending, "PONG\r\n");
            }

            ScheduleFlush();
        }
        else if (line.StartsWith("PONG", StringComparison.Ordinal))
        {
            Interlocked.Exchange(ref _pingsOut, 0);
            if (_pings.TryDequeue(out var pong))
            {
                pong.TrySetResult(true);
            }
        }
        else if (line.StartsWith("+OK", StringComparison.Ordinal))
        {
        }
        else if (line.StartsWith("-ERR", StringComparison.Ordinal))
        {
            var message = line[4..].Trim().Trim('\'');
            LogServerError(_logger, message);
            if (message.StartsWith("Permissions Violation", StringComparison.OrdinalIgnoreCase))
            {
                return true; // The server keeps the connection; the offending operation had no effect.
            }

            throw new NatsServerException(message);
        }
        else if (line.StartsWith("INFO ", StringComparison.Ordinal))
        {
            var info = ParseInfo(line);
            ServerInfo = info;
            Discover(info);
            if (info.LameDuckMode)
            {
                throw new NatsConnectionException("The server entered lame duck mode.");
            }
        }
        else
        {
            throw new NatsProtocolException($"unknown operation '{Truncate(line)}'");
        }

        return true;
    }

    private void Deliver(long sid, NatsMsg msg)
    {
        if (!_subscriptions.TryGetValue(sid, out var subscription))
        {
            return; // Unsubscribed meanwhile.
        }

        NatsTelemetry.ReceivedMessages.Add(1);
        if (!subscription.Deliver(msg))
        {
            NatsTelemetry.DroppedMessages.Add(1);
            if (subscription.Dropped == 1 || subscription.Dropped % 1000 == 0)
            {
                LogSlowConsumer(_logger, subscription.Subject);
            }

            SlowConsumerDetected?.Invoke(this, subscription);
        }
    }

    private static int ParseNumber(ReadOnlySpan<byte> text, string what) =>
        Utf8Parser.TryParse(text, out int value, out var consumed) && consumed == text.Length && value >= 0
            ? value
            : throw new NatsProtocolException($"bad {what} '{Truncate(Encoding.ASCII.GetString(text))}'");

    private static string Truncate(string text) => text.Length > 80 ? text[..80] + "…" : text;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task WriteLoopAsync()
    {
        try
        {
            while (await _writeSignal.Reader.WaitToReadAsync(_disposing.Token))
            {
                _writeSignal.Reader.TryRead(out _);
                Volatile.Write(ref _flushScheduled, 0);
                while (true)
                {
                    await Volatile.Read(ref _open).Task.WaitAsync(_disposing.Token);
                    var stream = _stream;
                    if (stream is null)
                    {
                        await Task.Delay(10, _disposing.Token);
                        continue;
                    }

                    ArrayBufferWriter<byte> batch;
                    lock (_writeLock)
                    {
                        if (_pending.WrittenCount == 0)
                        {
                            break;
                        }

                        batch = _pending;
                        _pending = _spare;
                        _spare = batch;
                        _pendingApprox = 0;
                    }

                    try
                    {
                        await stream.WriteAsync(batch.WrittenMemory, _disposing.Token);
                        await stream.FlushAsync(_disposing.Token);
                    }
                    catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                    {
                        // What was in this batch is lost with the connection (at-most-once, as NATS core is).
                        await OnConnectionLostAsync(e.Message);
                    }
                    finally
                    {
                        batch.ResetWrittenCount();
                        if (batch.Capacity > 2 * Opts.PublishBufferBytes)
                        {
                            _spare = new ArrayBufferWriter<byte>(64 * 1024);
                        }

                        // Space was freed: wake publishers waiting for the buffer.
                        Interlocked.Exchange(ref _drained, NewSignal()).TrySetResult();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
        }
    }

    private async Task PingLoopAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(Opts.PingInterval);
            while (await timer.WaitForNextTickAsync(_disposing.Token))
            {
                if (ConnectionState != NatsConnectionState.Open)
                {
                    continue;
                }

                if (Interlocked.Increment(ref _pingsOut) > Opts.MaxPingsOut)
                {
                    await OnConnectionLostAsync("the server stopped answering pings");
                    continue;
                }

                lock (_writeLock)
                {
                    Ascii(_pending, "PING\r\n");
                }

                ScheduleFlush();
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
        }
    }

    private readonly Lock _lossLock = new();
    private Task? _reconnecting;

    private Task OnConnectionLostAsync(string reason)
    {
        lock (_lossLock)
        {
            if (_disposed != 0 || ConnectionState != NatsConnectionState.Open)
            {
                return _reconnecting ?? Task.CompletedTask;
            }

            SetState(NatsConnectionState.Reconnecting);
            _open = NewSignal();
            CloseTransport();
            while (_pings.TryDequeue(out var ping))
            {
                ping.TrySetException(new NatsConnectionException($"The connection was lost: {reason}"));
            }

            LogDisconnected(_logger, _current?.ToString() ?? "?", reason);
            ConnectionDisconnected?.Invoke(this, reason);
            _reconnecting = Task.Run(ReconnectLoopAsync);
            return Task.CompletedTask;
        }
    }

    private void CloseTransport()
    {
        try
        {
            _stream?.Dispose();
            _socket?.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }

        _stream = null;
        _socket = null;
    }

    private async Task ReconnectLoopAsync()
    {
        var attempt = 0;
        var wait = Opts.ReconnectWait;
        while (_disposed == 0)
        {
            var servers = _seeds.Concat(_discovered).Distinct().ToList();
            foreach (var server in servers)
            {
                if (_disposed != 0)
                {
                    return;
                }

                try
                {
                    await EstablishAsync(server, _disposing.Token);
                    NatsTelemetry.Reconnects.Add(1);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !_disposing.IsCancellationRequested)
                {
                    ReconnectFailed?.Invoke(this, e);
                }
            }

            attempt++;
            if (Opts.MaxReconnectRetry >= 0 && attempt > Opts.MaxReconnectRetry)
            {
                SetState(NatsConnectionState.Closed);
                foreach (var subscription in _subscriptions.Values)
                {
                    subscription.Complete(new NatsConnectionException("Gave up reconnecting to NATS."));
                }

                return;
            }

            var jitter = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Opts.ReconnectJitter.TotalMilliseconds);
            try
            {
                await Task.Delay(wait + jitter, _disposing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, Opts.ReconnectWaitMax.Ticks));
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "NATS: server error {Message}")]
    private static partial void LogServerError(Microsoft.Extensions.Logging.ILogger logger, string message);
}
