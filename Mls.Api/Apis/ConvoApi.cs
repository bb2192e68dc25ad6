using System.Globalization;
using System.Text;
using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Mls;
using Catbird.Mls.Api.Storage;
using Catbird.Identity.Did;

namespace Catbird.Mls.Api.Apis;

/// <summary>Conversations: createConvo, getConvos, getEpoch.</summary>
public static class ConvoApi
{
    public static RouteGroupBuilder MapConvoApi(this RouteGroupBuilder xrpc)
    {
        xrpc.MapPost("blue.catbird.mls.createConvo", CreateConvoAsync).WithMetadata(new BodyLimit(BodyLimit.MlsMessage));
        xrpc.MapGet("blue.catbird.mls.getConvos", GetConvosAsync);
        xrpc.MapGet("blue.catbird.mls.getEpoch", GetEpochAsync);
        return xrpc;
    }

    private static async Task<IResult> CreateConvoAsync(HttpContext http, ConvoStore convos, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.CreateConvoInput, ct);
        if (string.IsNullOrEmpty(input.GroupId) || input.GroupId.Length > 128 || input.GroupId.Length % 2 != 0
            || !input.GroupId.All(Uri.IsHexDigit))
        {
            throw Xrpc.BadRequest("groupId must be hex, at most 128 characters");
        }
        var suite = MlsCipherSuite.FromName(input.CipherSuite ?? "")
            ?? throw Xrpc.BadRequest("unknown cipherSuite", "InvalidCipherSuite");
        if (input.IdempotencyKey is { Length: > 64 })
        {
            throw Xrpc.BadRequest("idempotencyKey is at most 64 characters");
        }
        if (input.Metadata is { Name.Length: > 128 } or { Description.Length: > 512 })
        {
            throw Xrpc.BadRequest("metadata name ≤ 128, description ≤ 512 characters");
        }
        var initial = (input.InitialMembers ?? []).Distinct(StringComparer.Ordinal).Where(d => d != caller).ToList();
        if (initial.Count > 100)
        {
            throw Xrpc.BadRequest("at most 100 initial members", "TooManyMembers");
        }
        if (initial.Any(d => !DidSyntax.IsValid(d)))
        {
            throw Xrpc.BadRequest("initialMembers must be DIDs");
        }
        MlsWelcome? welcome = null;
        byte[]? welcomeBytes = null;
        var hashes = input.KeyPackageHashes ?? [];
        if (initial.Count > 0)
        {
            (welcome, welcomeBytes) = GroupApi.ParseWelcome(input.WelcomeMessage, suite, initial, hashes);
        }
        else if (input.WelcomeMessage is not null)
        {
            throw Xrpc.BadRequest("welcomeMessage without initialMembers");
        }
        var groupId = Convert.FromHexString(input.GroupId);
        var epoch = input.CurrentEpoch ?? (initial.Count > 0 ? 1 : 0);
        if (epoch < 0)
        {
            throw Xrpc.BadRequest("currentEpoch must be ≥ 0");
        }
        var view = await convos.CreateAsync(new ConvoStore.NewConvo(Convert.ToHexStringLower(groupId), groupId, caller, suite.Id, epoch,
            input.IdempotencyKey, input.Metadata, [caller, .. initial], welcome, welcomeBytes, hashes), ct);
        return Xrpc.Ok(view, MlsJsonContext.Default.ConvoView);
    }

    private static async Task<IResult> GetConvosAsync(HttpContext http, ConvoStore convos, int? limit, string? cursor, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var take = limit ?? 50;
        if (take is < 1 or > 100)
        {
            throw Xrpc.BadRequest("limit must be 1..100");
        }
        (DateTimeOffset, string)? after = null;
        if (cursor is not null)
        {
            after = DecodeConvoCursor(cursor) ?? throw Xrpc.BadRequest("invalid cursor", "InvalidCursor");
        }
        var page = await convos.ListAsync(caller, after, take + 1, null, ct);
        string? next = null;
        if (page.Count > take)
        {
            page.RemoveAt(take);
            var last = page[^1];
            next = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{last.CreatedAt.UtcTicks}|{last.Id}"));
        }
        return Xrpc.Ok(new GetConvosOutput(page, next), MlsJsonContext.Default.GetConvosOutput);
    }

    private static async Task<IResult> GetEpochAsync(HttpContext http, ConvoStore convos, string? convoId, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var state = await RequireMemberAsync(convos, convoId, caller, ct);
        return Xrpc.Ok(new GetEpochOutput(convoId!, state.Epoch), MlsJsonContext.Default.GetEpochOutput);
    }

    /// <summary>404 ConvoNotFound when the conversation is unknown, 403 NotMember when the caller is not an active member.</summary>
    public static async Task<(byte[] GroupId, long Epoch, ushort Suite)> RequireMemberAsync(ConvoStore convos, string? convoId, string caller, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(convoId) || convoId.Length > 256)
        {
            throw Xrpc.BadRequest("convoId is required");
        }
        if (await convos.GetStateForMemberAsync(convoId, caller, ct) is { } state)
        {
            return state;
        }
        throw await convos.ExistsAsync(convoId, ct)
            ? new XrpcException(403, "NotMember", "caller is not a member of this conversation")
            : new XrpcException(404, "ConvoNotFound", "conversation not found");
    }

    private static (DateTimeOffset, string)? DecodeConvoCursor(string cursor)
    {
        if (!Catbird.Identity.Crypto.Base64UrlText.TryDecode(cursor, out var bytes))
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(bytes);
        var bar = text.IndexOf('|', StringComparison.Ordinal);
        return bar > 0 && long.TryParse(text[..bar], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? (new DateTimeOffset(ticks, TimeSpan.Zero), text[(bar + 1)..])
            : null;
    }
}
