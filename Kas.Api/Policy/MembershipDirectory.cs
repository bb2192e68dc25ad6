namespace Catbird.Kas.Api.Policy;

/// <summary>The answer to "is this subject a member of this room": no answer (timeout, error, no directory) is not a member.</summary>
public sealed record MembershipAnswer(bool Member, long Epoch, bool Answered, string? Problem = null)
{
    /// <summary>A failed check, which denies.</summary>
    public static MembershipAnswer NoAnswer(string problem) => new(false, 0, false, problem);
}

/// <summary>Answers membership questions for conversation attributes (Membership.Worker over NATS in production).</summary>
public interface IMembershipDirectory
{
    /// <summary>Asks whether <paramref name="subject"/> is a member of <paramref name="room"/>; never throws for transport problems.</summary>
    Task<MembershipAnswer> CheckAsync(string room, string subject, CancellationToken ct);
}

/// <summary>The directory when NATS is not configured: every conversation attribute is denied, fail closed.</summary>
public sealed class UnavailableMembershipDirectory : IMembershipDirectory
{
    /// <inheritdoc />
    public Task<MembershipAnswer> CheckAsync(string room, string subject, CancellationToken ct) =>
        Task.FromResult(MembershipAnswer.NoAnswer("no membership service is configured (ConnectionStrings__nats)"));
}
