using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Catbird.Redis.Internal;

/// <summary>An open, authenticated connection to one server: the socket, its stream and the pipes over it.</summary>
internal sealed class RedisTransport : IAsyncDisposable
{
    private const int MinimumReadSize = 16 * 1024;

    private readonly Socket _socket;
    private readonly Stream _stream;

    private RedisTransport(RedisEndPoint endPoint, Socket socket, Stream stream)
    {
        EndPoint = endPoint;
        _socket = socket;
        _stream = stream;
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: MinimumReadSize, minimumReadSize: 4096, leaveOpen: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 8192, leaveOpen: true));
    }

    public RedisEndPoint EndPoint { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>Connects (TCP, then TLS if asked), then runs the handshake; fails within <see cref="RedisOptions.ConnectTimeout"/>.</summary>
    /// <param name="options">Connection options.</param>
    /// <param name="endPoint">The server.</param>
    /// <param name="selectDatabase">Whether to send <c>SELECT</c> (not needed on a pub/sub connection).</param>
    /// <param name="ct">Cancels the attempt.</param>
    public static async Task<RedisTransport> ConnectAsync(RedisOptions options, RedisEndPoint endPoint, bool selectDatabase, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        RedisTransport? transport = null;
        try
        {
            await socket.ConnectAsync(endPoint.Host, endPoint.Port, timeout.Token);
            stream = new NetworkStream(socket, ownsSocket: false);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(CreateTlsOptions(options, endPoint), timeout.Token);
            }

            transport = new RedisTransport(endPoint, socket, stream);
            await RedisHandshake.RunAsync(transport, options, selectDatabase, timeout.Token);
            return transport;
        }
        catch (Exception e)
        {
            if (transport is not null)
            {
                await transport.DisposeAsync();
            }
            else
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync();
                }

                socket.Dispose();
            }

            if (e is OperationCanceledException && timeout.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                throw new RedisConnectionException($"Connecting to Redis at {endPoint} timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms.", e);
            }

            throw e switch
            {
                RedisConnectionException or OperationCanceledException => e,
                AuthenticationException => new RedisConnectionException($"The TLS handshake with Redis at {endPoint} failed: {e.Message}", e),
                RedisServerException server => new RedisConnectionException($"Redis at {endPoint} refused the connection handshake: {server.Message}", e),
                _ => new RedisConnectionException($"Could not connect to Redis at {endPoint}: {e.Message}", e),
            };
        }
    }

    /// <summary>Closes the socket; pending reads and writes fail.</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the peer.
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        // The socket is closed: completing the writer cannot flush what is left, and the TLS close_notify cannot be sent.
        await Input.CompleteAsync();
        try
        {
            await Output.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }

        try
        {
            await _stream.DisposeAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }

    private static SslClientAuthenticationOptions CreateTlsOptions(RedisOptions options, RedisEndPoint endPoint)
    {
        var tls = new SslClientAuthenticationOptions
        {
            TargetHost = options.SslHost ?? endPoint.Host,
            EnabledSslProtocols = SslProtocols.None,
        };
        if (options.ClientCertificate is not null)
        {
            tls.ClientCertificates = [options.ClientCertificate];
        }

        if (options.RemoteCertificateValidation is not null)
        {
            tls.RemoteCertificateValidationCallback = options.RemoteCertificateValidation;
        }
        else if (options.TrustedCertificateAuthority is { } authority)
        {
            tls.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsSignedBy(certificate, errors, authority);
        }

        return tls;
    }

    private static bool IsSignedBy(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 authority)
    {
        // Name mismatches and missing certificates stay fatal; only the chain is checked against the pinned authority.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = new X509Certificate2(certificate);
        return chain.Build(server);
    }
}

/// <summary>
/// Pipelines <c>AUTH</c>, <c>SELECT</c>, <c>CLIENT SETNAME</c> and a <c>PING</c> on a fresh connection and checks the
/// replies before the connection carries any caller's command.
/// </summary>
internal static class RedisHandshake
{
    public static async Task RunAsync(RedisTransport transport, RedisOptions options, bool selectDatabase, CancellationToken ct)
    {
        var steps = new List<string>(4);
        var buffer = new CommandBuffer();
        if (options.Password is not null)
        {
            if (options.User is not null)
            {
                buffer.WriteArrayHeader(3);
                buffer.WriteBulk("AUTH"u8);
                buffer.WriteBulk(options.User);
            }
            else
            {
                buffer.WriteArrayHeader(2);
                buffer.WriteBulk("AUTH"u8);
            }

            buffer.WriteBulk(options.Password);
            steps.Add("AUTH");
        }

        if (selectDatabase && options.Database != 0)
        {
            buffer.WriteArrayHeader(2);
            buffer.WriteBulk("SELECT"u8);
            buffer.WriteBulk(options.Database);
            steps.Add("SELECT");
        }

        if (options.ClientName is not null)
        {
            buffer.WriteArrayHeader(3);
            buffer.WriteBulk("CLIENT"u8);
            buffer.WriteBulk("SETNAME"u8);
            buffer.WriteBulk(options.ClientName);
            steps.Add("CLIENT SETNAME");
        }

        buffer.WriteArrayHeader(1);
        buffer.WriteBulk("PING"u8);
        steps.Add("PING");

        await transport.Output.WriteAsync(buffer.Written.ToArray(), ct);
        var limits = RespLimits.From(options);
        var failures = new List<(string Step, string Message)>();
        foreach (var step in steps)
        {
            var reply = await ReadReplyAsync(transport.Input, limits, ct);
            if (reply.IsError)
            {
                failures.Add((step, reply.AsString()!));
            }
        }

        if (failures.Count == 0)
        {
            return;
        }

        var (failedStep, message) = failures[0];
        if (failedStep == "AUTH" || message.StartsWith("NOAUTH", StringComparison.Ordinal) || message.StartsWith("WRONGPASS", StringComparison.Ordinal))
        {
            var hint = options.Password is null
                ? "the server requires a password and none is configured (set password=… in the connection string)"
                : options.User is null ? "check the password" : $"check user '{options.User}' and its password";
            throw new RedisAuthenticationException($"Redis at {transport.EndPoint} refused authentication: {message} ({hint}).");
        }

        throw new RedisConnectionException($"Redis at {transport.EndPoint} rejected {failedStep} during the connection handshake: {message}");
    }

    /// <summary>Reads one whole reply from <paramref name="input"/> (used before the read loop runs).</summary>
    public static async ValueTask<RedisReply> ReadReplyAsync(PipeReader input, RespLimits limits, CancellationToken ct)
    {
        while (true)
        {
            var result = await input.ReadAsync(ct);
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (RespReader.TrySkipFrame(ref reader, limits))
            {
                var frameReader = new SequenceReader<byte>(buffer.Slice(0, reader.Position));
                var reply = RespReader.ReadReply(ref frameReader);
                input.AdvanceTo(reader.Position);
                return reply;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new RedisConnectionException("The server closed the connection during the handshake.");
            }
        }
    }
}
