using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Catbird.Identity.Crypto;

namespace Catbird.Identity.Did;

/// <summary>Resolves the signing key of a DID.</summary>
public interface IDidKeyResolver
{
    /// <summary>The <c>#atproto</c> key of <paramref name="did"/>; <paramref name="forceRefresh"/> bypasses every cache.
    /// Throws <see cref="DidResolutionException"/> when the document cannot be fetched or has no usable key.</summary>
    Task<AtprotoPublicKey> ResolveSigningKeyAsync(string did, bool forceRefresh, CancellationToken ct);
}

/// <summary>A shared second-level cache of DID documents (for example Redis), so replicas fetch a document once.</summary>
public interface IDidDocumentCache
{
    /// <summary>The cached document JSON, or null.</summary>
    Task<string?> GetAsync(string did, CancellationToken ct);

    /// <summary>Stores the document JSON for <paramref name="ttl"/>.</summary>
    Task SetAsync(string did, string documentJson, TimeSpan ttl, CancellationToken ct);
}

/// <summary>A DID could not be resolved to a signing key.</summary>
public sealed class DidResolutionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Options of <see cref="DidResolver"/>.</summary>
public sealed record DidResolverOptions
{
    /// <summary>Base URL of the PLC directory; documents are at <c>{base}/{did}</c>.</summary>
    public Uri PlcDirectoryUrl { get; init; } = new("https://plc.directory");

    /// <summary>How long a resolved document is reused.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Timeout of one document fetch.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest document accepted.</summary>
    public int MaxDocumentBytes { get; init; } = 64 * 1024;

    /// <summary>Allow did:web hosts that resolve to loopback, private, link-local or other non-public addresses (development only).</summary>
    public bool AllowPrivateNetworkHosts { get; init; }

    /// <summary>Fetch did:web documents of <c>localhost</c> over plain HTTP (development only).</summary>
    public bool AllowHttpLocalhost { get; init; }
}

/// <summary>
/// Resolves did:plc through the configured PLC directory and did:web through HTTPS, caching documents in memory and
/// optionally in a shared <see cref="IDidDocumentCache"/>. did:web fetches go through a connection guard that refuses
/// non-public addresses after DNS resolution (so DNS rebinding cannot reach the internal network).
/// </summary>
public sealed class DidResolver : IDidKeyResolver, IDisposable
{
    private readonly DidResolverOptions _options;
    private readonly HttpClient _plcClient;
    private readonly HttpClient _webClient;
    private readonly IDidDocumentCache? _sharedCache;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (AtprotoPublicKey Key, DateTimeOffset Expires)> _memory = new(StringComparer.Ordinal);

    /// <summary>Creates a resolver; <paramref name="plcClient"/> is used as given for the (trusted, configured) PLC directory.</summary>
    public DidResolver(DidResolverOptions options, HttpClient plcClient, IDidDocumentCache? sharedCache = null, TimeProvider? time = null)
    {
        _options = options;
        _plcClient = plcClient;
        _sharedCache = sharedCache;
        _time = time ?? TimeProvider.System;
        _webClient = new HttpClient(CreateGuardedHandler(options.AllowPrivateNetworkHosts)) { Timeout = options.FetchTimeout };
    }

    /// <inheritdoc />
    public async Task<AtprotoPublicKey> ResolveSigningKeyAsync(string did, bool forceRefresh, CancellationToken ct)
    {
        if (!DidSyntax.IsValid(did))
        {
            throw new DidResolutionException("not a valid DID");
        }
        var now = _time.GetUtcNow();
        if (!forceRefresh && _memory.TryGetValue(did, out var cached) && cached.Expires > now)
        {
            return cached.Key;
        }
        string? json = null;
        if (!forceRefresh && _sharedCache is not null)
        {
            json = await _sharedCache.GetAsync(did, ct).ConfigureAwait(false);
        }
        var fetched = false;
        if (json is null)
        {
            json = await FetchAsync(did, ct).ConfigureAwait(false);
            fetched = true;
        }
        AtprotoPublicKey key;
        try
        {
            using var document = JsonDocument.Parse(json);
            key = DidDocumentKeys.FindSigningKey(document.RootElement, did);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new DidResolutionException($"DID document of {did} has no usable signing key: {e.Message}", e);
        }
        if (fetched && _sharedCache is not null)
        {
            await _sharedCache.SetAsync(did, json, _options.CacheTtl, ct).ConfigureAwait(false);
        }
        _memory[did] = (key, now + _options.CacheTtl);
        return key;
    }

    /// <summary>The URL a DID document is fetched from.</summary>
    public Uri DocumentUrl(string did)
    {
        if (did.StartsWith("did:plc:", StringComparison.Ordinal))
        {
            return new Uri(_options.PlcDirectoryUrl.ToString().TrimEnd('/') + "/" + did);
        }
        if (did.StartsWith("did:web:", StringComparison.Ordinal))
        {
            var host = Uri.UnescapeDataString(did["did:web:".Length..]);
            if (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith("localhost:", StringComparison.Ordinal))
            {
                throw new DidResolutionException("did:web must be a bare hostname (ports only for localhost)");
            }
            if (host.Contains('/', StringComparison.Ordinal) || Uri.CheckHostName(host.Split(':')[0]) != UriHostNameType.Dns)
            {
                throw new DidResolutionException("did:web host is not a DNS name");
            }
            var local = host == "localhost" || host.StartsWith("localhost:", StringComparison.Ordinal);
            var scheme = local && _options.AllowHttpLocalhost ? "http" : "https";
            return new Uri($"{scheme}://{host}/.well-known/did.json");
        }
        throw new DidResolutionException("only did:plc and did:web are supported");
    }

    /// <inheritdoc />
    public void Dispose() => _webClient.Dispose();

    private async Task<string> FetchAsync(string did, CancellationToken ct)
    {
        var url = DocumentUrl(did);
        var client = did.StartsWith("did:plc:", StringComparison.Ordinal) ? _plcClient : _webClient;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.FetchTimeout);
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new DidResolutionException($"DID document fetch for {did} returned {(int)response.StatusCode}");
            }
            if (response.Content.Headers.ContentLength > _options.MaxDocumentBytes)
            {
                throw new DidResolutionException("DID document too large");
            }
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var buffer = new byte[_options.MaxDocumentBytes + 1];
            var total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(total), timeout.Token).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > _options.MaxDocumentBytes)
                {
                    throw new DidResolutionException("DID document too large");
                }
            }
            return System.Text.Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new DidResolutionException($"DID document fetch for {did} failed: {e.Message}", e);
        }
    }

    private static SocketsHttpHandler CreateGuardedHandler(bool allowPrivate) => new()
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, ct) =>
        {
            var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct).ConfigureAwait(false);
            var address = addresses.FirstOrDefault(a => allowPrivate || IsPublic(a))
                ?? throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves only to non-public addresses");
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>False for loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast, unspecified and mapped forms of those.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 10 || b[0] == 0 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xC0) == 64) || b[0] >= 224);
        }
        return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast);
    }
}
