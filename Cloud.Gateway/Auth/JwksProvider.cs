using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Catbird.Cloud.Gateway.Auth;

/// <summary>Where and how often the identity provider's JWKS is fetched.</summary>
public sealed record JwksOptions
{
    /// <summary>The JWKS URL (<c>AUTH_JWKS_URL</c>, or <c>ZBEAM_URL</c> + <c>/.well-known/jwks.json</c>).</summary>
    public required Uri JwksUrl { get; init; }

    /// <summary>Background refresh period.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Retry period while the provider cannot be reached.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Least time between two fetches caused by tokens with an unknown <c>kid</c>.</summary>
    public TimeSpan UnknownKidRefetchInterval { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Keeps the identity provider's signing keys: fetched in the background (startup never waits for the provider), refreshed
/// periodically, refetched when a token names an unknown <c>kid</c> (at most once per
/// <see cref="JwksOptions.UnknownKidRefetchInterval"/>), and kept when the provider is down, so tokens keep verifying
/// against the last good set. Its health check is degraded until a first set arrives and while refreshes fail.
/// </summary>
public sealed partial class JwksProvider(JwksOptions options, HttpClient http, TimeProvider time, ILogger<JwksProvider> logger)
    : BackgroundService, IHealthCheck
{
    private readonly SemaphoreSlim _fetchLock = new(1, 1);
    private volatile SigningKeySet _keys = SigningKeySet.Empty;
    private long _lastUnknownKidFetch = long.MinValue;
    private volatile string? _lastError = "not fetched yet";

    /// <summary>The current key set (possibly empty).</summary>
    public SigningKeySet Keys => _keys;

    /// <summary>
    /// Returns a key set holding <paramref name="kid"/> if one can be had: the current one, or a fresh fetch when the
    /// rate limit allows it.
    /// </summary>
    public async ValueTask<SigningKeySet> GetKeysForAsync(string kid, CancellationToken cancellationToken)
    {
        var keys = _keys;
        if (keys.Contains(kid))
        {
            return keys;
        }
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastUnknownKidFetch);
        if (last != long.MinValue && time.GetElapsedTime(last, now) < options.UnknownKidRefetchInterval)
        {
            return keys;
        }
        if (Interlocked.CompareExchange(ref _lastUnknownKidFetch, now, last) != last)
        {
            return _keys; // another request is refetching
        }
        LogUnknownKid(logger, kid);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return _keys;
    }

    /// <summary>Fetches the JWKS once; on failure the previous set stays in use.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        await _fetchLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await http.GetAsync(options.JwksUrl, timeout.Token).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            if (response.Content.Headers.ContentLength > 1024 * 1024)
            {
                throw new FormatException("JWKS larger than 1 MiB.");
            }
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            var keys = SigningKeySet.Parse(body);
            if (keys.Count == 0)
            {
                throw new FormatException("JWKS holds no usable signing key.");
            }
            _keys = keys;
            _lastError = null;
            LogFetched(logger, keys.Count);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or FormatException or System.Text.Json.JsonException
                                      or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _lastError = e.GetType().Name;
            LogFetchFailed(logger, options.JwksUrl, e.Message);
            return false;
        }
        finally
        {
            _fetchLock.Release();
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var ok = await RefreshAsync(stoppingToken).ConfigureAwait(false);
            await Task.Delay(ok ? options.RefreshInterval : options.RetryInterval, time, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_lastError is null
            ? HealthCheckResult.Healthy($"{_keys.Count} signing keys")
            : HealthCheckResult.Degraded($"JWKS: {_lastError}; serving {_keys.Count} cached keys"));

    [LoggerMessage(Level = LogLevel.Information, Message = "JWKS fetched: {Count} signing keys")]
    private static partial void LogFetched(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "JWKS fetch from {Url} failed: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Token names unknown kid {Kid}; refetching the JWKS")]
    private static partial void LogUnknownKid(ILogger logger, string kid);
}
