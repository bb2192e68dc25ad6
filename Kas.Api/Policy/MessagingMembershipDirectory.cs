using System.Text.Json;
using Catbird.Kas.Api.Messaging;
using Catbird.Kas.Api.Rewrap;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Policy;

/// <summary>
/// Asks Membership.Worker over NATS request/reply on <c>catbird.membership.check</c>: <c>{room, subject}</c> →
/// <c>{member, epoch}</c>. A timeout, a transport error or an unreadable reply is "no answer", which denies.
/// </summary>
public sealed class MessagingMembershipDirectory(IKasMessaging messaging, IOptions<KasOptions> options) : IMembershipDirectory
{
    /// <summary>The request/reply subject.</summary>
    public const string Subject = "catbird.membership.check";

    private readonly TimeSpan _timeout = TimeSpan.FromMilliseconds(options.Value.MembershipTimeoutMilliseconds);

    /// <inheritdoc />
    public async Task<MembershipAnswer> CheckAsync(string room, string subject, CancellationToken ct)
    {
        var request = JsonSerializer.SerializeToUtf8Bytes(new MembershipCheckRequest(room, subject), KasJsonContext.Default.MembershipCheckRequest);
        ReadOnlyMemory<byte> reply;
        try
        {
            reply = await messaging.RequestAsync(Subject, request, _timeout, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception error)
        {
            return MembershipAnswer.NoAnswer(error.GetType().Name + ": " + error.Message);
        }

        try
        {
            var answer = JsonSerializer.Deserialize(reply.Span, KasJsonContext.Default.MembershipCheckReply);
            return answer is null ? MembershipAnswer.NoAnswer("empty reply") : new MembershipAnswer(answer.Member, answer.Epoch, Answered: true);
        }
        catch (JsonException error)
        {
            return MembershipAnswer.NoAnswer("unreadable reply: " + error.Message);
        }
    }
}
