using System.Diagnostics.Metrics;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Rewrap;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Policy;

/// <summary>The outcome of a policy decision.</summary>
public sealed record PolicyDecision(bool Permit, string Reason, bool DependencyFailed = false)
{
    /// <summary>Access granted.</summary>
    public static readonly PolicyDecision Granted = new(true, "permitted");
}

/// <summary>
/// Decides access to a NanoTDF policy, failing closed: a non-empty <c>dissem</c> must name the entity; every data
/// attribute must be satisfied, conversation attributes (under <c>KAS_CONVO_ATTRIBUTE_PREFIX</c>) by membership
/// asked of the membership directory, every other attribute by the entity's entitlements.
/// </summary>
public sealed class PolicyDecisionPoint(IMembershipDirectory membership, IOptions<KasOptions> options, ILogger<PolicyDecisionPoint> logger)
{
    private readonly string? _convoPrefix = NormalizePrefix(options.Value.ConvoAttributePrefix);

    /// <summary>Decides for an entity and a parsed policy.</summary>
    public async Task<PolicyDecision> DecideAsync(KasEntity entity, OpenTdfPolicy policy, CancellationToken ct)
    {
        var body = policy.Body;
        if (body is null)
        {
            return new PolicyDecision(false, "policy has no body");
        }

        if (body.Dissem is { Count: > 0 } dissem && !dissem.Any(entity.IsNamed))
        {
            return new PolicyDecision(false, "entity is not in the policy's dissemination list");
        }

        foreach (var attribute in body.DataAttributes ?? [])
        {
            var fqn = attribute.Attribute;
            if (string.IsNullOrWhiteSpace(fqn))
            {
                return new PolicyDecision(false, "policy has an empty data attribute");
            }

            if (ConvoId(fqn) is { } convoId)
            {
                if (convoId.Length == 0)
                {
                    return new PolicyDecision(false, "conversation attribute names no conversation");
                }

                var answer = await membership.CheckAsync(convoId, entity.Subject, ct);
                if (!answer.Answered)
                {
                    KasLog.MembershipUnanswered(logger, entity.Subject, convoId, answer.Problem ?? "no answer");
                    return new PolicyDecision(false, $"membership of conversation {convoId} could not be confirmed", DependencyFailed: true);
                }

                if (!answer.Member)
                {
                    return new PolicyDecision(false, $"entity is not a member of conversation {convoId}");
                }

                continue;
            }

            if (!entity.Entitlements.Any(e => string.Equals(e.TrimEnd('/'), fqn.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)))
            {
                return new PolicyDecision(false, $"entity lacks entitlement {fqn}");
            }
        }

        return PolicyDecision.Granted;
    }

    /// <summary>The conversation id of a conversation attribute, or null when the attribute is not one.</summary>
    public string? ConvoId(string attribute)
    {
        if (_convoPrefix is null || !attribute.StartsWith(_convoPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Uri.UnescapeDataString(attribute[_convoPrefix.Length..].Trim('/'));
    }

    private static string? NormalizePrefix(string? prefix) =>
        string.IsNullOrWhiteSpace(prefix) ? null : prefix.TrimEnd('/') + "/";
}

/// <summary>Kas.Api metrics (meter <c>Catbird.Kas</c>).</summary>
public sealed class KasMetrics : IDisposable
{
    /// <summary>Meter name.</summary>
    public const string MeterName = "Catbird.Kas";

    private readonly Meter _meter;

    /// <summary>Creates the instruments.</summary>
    public KasMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        Decisions = _meter.CreateCounter<long>("kas.rewrap.decisions", description: "Key access decisions by outcome");
        RewrapDuration = _meter.CreateHistogram<double>("kas.rewrap.duration", "ms", "Rewrap request duration");
        MediaSessions = _meter.CreateCounter<long>("kas.media.sessions", description: "Media session events");
    }

    /// <summary>Decisions, tagged <c>outcome</c> and <c>reason</c> class.</summary>
    public Counter<long> Decisions { get; }

    /// <summary>Request durations.</summary>
    public Histogram<double> RewrapDuration { get; }

    /// <summary>Media session events, tagged <c>event</c>.</summary>
    public Counter<long> MediaSessions { get; }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
