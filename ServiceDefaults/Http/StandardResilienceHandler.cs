using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Catbird.ServiceDefaults.Http;

/// <summary>Limits of the standard resilience handler.</summary>
public sealed record ResilienceSettings
{
    /// <summary>The whole call, retries included.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>One attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after the first attempt (idempotent methods only).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Base delay of the jittered exponential backoff.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Failure ratio over <see cref="BreakerSamplingDuration"/> that opens the circuit.</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;

    /// <summary>Window in which the breaker counts failures.</summary>
    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Calls needed in the window before the breaker may open.</summary>
    public int BreakerMinimumThroughput { get; init; } = 20;

    /// <summary>How long an open circuit rejects calls.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The standard resilience handler on Polly.Core: total timeout, retry with jittered exponential backoff (idempotent
/// methods only, honouring <c>Retry-After</c>), circuit breaker, and a per-attempt timeout.
/// </summary>
public sealed class StandardResilienceHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("catbird.request");
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    /// <summary>Creates the handler with <paramref name="settings"/>.</summary>
    public StandardResilienceHandler(ResilienceSettings settings)
    {
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(new TimeoutStrategyOptions { Timeout = settings.TotalTimeout })
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(RequestKey, out var request) && IsRetryable(request.Method) && IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = settings.BreakerFailureRatio,
                SamplingDuration = settings.BreakerSamplingDuration,
                MinimumThroughput = settings.BreakerMinimumThroughput,
                BreakDuration = settings.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            })
            .AddTimeout(new TimeoutStrategyOptions { Timeout = settings.AttemptTimeout })
            .Build();
    }

    /// <summary>True for methods that may be sent twice (RFC 9110 §9.2.2).</summary>
    public static bool IsRetryable(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Put
        || method == HttpMethod.Delete || method == HttpMethod.Trace;

    /// <summary>True for outcomes worth retrying: connection failures, timeouts, 408, 429 and 5xx.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500,
        _ => false,
    };

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RequestKey, request);
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (ctx, state) =>
                {
                    var (handler, message) = state;
                    return await handler.SendOnceAsync(message, ctx.CancellationToken);
                },
                context,
                (this, request));
        }
        catch (BrokenCircuitException e)
        {
            throw new HttpRequestException($"The circuit to {request.RequestUri?.GetLeftPart(UriPartial.Authority)} is open after repeated failures.", e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new TaskCanceledException($"The request to {request.RequestUri?.GetLeftPart(UriPartial.Authority)} timed out.", e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var retryAfter = response?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta <= TimeSpan.FromSeconds(30) ? delta : null;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero && wait <= TimeSpan.FromSeconds(30) ? wait : TimeSpan.Zero;
        }

        return null;
    }
}

/// <summary>Registration of the standard resilience handler.</summary>
public static class ResilienceExtensions
{
    /// <summary>Adds <see cref="StandardResilienceHandler"/> to an HttpClient.</summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder, ResilienceSettings? settings = null) =>
        builder.AddHttpMessageHandler(() => new StandardResilienceHandler(settings ?? new ResilienceSettings()));
}
