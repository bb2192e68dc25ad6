using Catbird.Identity.Did;
using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Mls;
using Catbird.Mls.Api.Storage;

namespace Catbird.Mls.Api.Apis;

/// <summary>Epoch changes and joining: addMembers, leaveConvo, getCommits, getWelcome, confirmWelcome.</summary>
public static class GroupApi
{
    public static RouteGroupBuilder MapGroupApi(this RouteGroupBuilder xrpc)
    {
        xrpc.MapPost("blue.catbird.mls.addMembers", AddMembersAsync).WithMetadata(new BodyLimit(BodyLimit.MlsMessage));
        xrpc.MapPost("blue.catbird.mls.leaveConvo", LeaveAsync).WithMetadata(new BodyLimit(BodyLimit.MlsMessage));
        xrpc.MapGet("blue.catbird.mls.getCommits", GetCommitsAsync);
        xrpc.MapGet("blue.catbird.mls.getWelcome", GetWelcomeAsync);
        xrpc.MapPost("blue.catbird.mls.confirmWelcome", ConfirmWelcomeAsync);
        return xrpc;
    }

    /// <summary>Parses a Welcome (MLSMessage) and checks it against the suite and one key-package hash per new member.</summary>
    public static (MlsWelcome Welcome, byte[] Bytes) ParseWelcome(string? base64, MlsCipherSuite suite, IReadOnlyList<string> newMembers,
        IReadOnlyList<KeyPackageHashInput> hashes)
    {
        var bytes = Xrpc.DecodeBase64(base64, "welcomeMessage");
        MlsWelcome welcome;
        try
        {
            welcome = MlsDecoder.DecodeMessage(bytes).Welcome ?? throw Xrpc.BadRequest("welcomeMessage is not a Welcome");
        }
        catch (MlsFormatException e)
        {
            throw Xrpc.BadRequest($"welcomeMessage: {e.Message}");
        }
        if (welcome.CipherSuite != suite.Id)
        {
            throw Xrpc.BadRequest("Welcome cipher suite differs from the conversation's", "InvalidCipherSuite");
        }
        if (hashes.Any(h => h.Did is null || h.Hash is not { Length: 64 } || !h.Hash.All(Uri.IsHexDigit))
            || !hashes.Select(h => h.Did).Order(StringComparer.Ordinal).SequenceEqual(newMembers.Order(StringComparer.Ordinal)))
        {
            throw Xrpc.BadRequest("keyPackageHashes must name one key package (hex SHA-256) per new member");
        }
        return (welcome, bytes);
    }

    /// <summary>Parses a commit (PublicMessage or PrivateMessage with content type commit) of this group; returns its epoch.</summary>
    public static (byte[] Bytes, long Epoch) ParseCommit(string? base64, byte[] groupId)
    {
        var bytes = Xrpc.DecodeBase64(base64, "commit");
        if (bytes.Length > MessageApi.MaxCiphertext)
        {
            throw new XrpcException(413, "MessageTooLarge", "commit exceeds 10 MiB");
        }
        MlsFramedRouting routing;
        try
        {
            routing = MlsDecoder.DecodeMessage(bytes).Framed ?? throw Xrpc.BadRequest("commit must be a PublicMessage or PrivateMessage");
        }
        catch (MlsFormatException e)
        {
            throw Xrpc.BadRequest($"commit: {e.Message}", "InvalidCommit");
        }
        if (routing.ContentType != MlsContentType.Commit)
        {
            throw Xrpc.BadRequest("commit does not carry a Commit", "InvalidCommit");
        }
        if (!routing.GroupId.AsSpan().SequenceEqual(groupId))
        {
            throw Xrpc.BadRequest("the commit's group_id is not this conversation's", "InvalidCommit");
        }
        return (bytes, (long)Math.Min(routing.Epoch, long.MaxValue - 1));
    }

    private static async Task<IResult> AddMembersAsync(HttpContext http, ConvoStore convos, CommitStore commits, IdempotencyStore idempotency, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.AddMembersInput, ct);
        var requestHash = IdempotencyStore.Hash(input, MlsJsonContext.Default.AddMembersInput);
        if (input.IdempotencyKey is { } key && await idempotency.ReplayAsync(caller, key, "addMembers", requestHash, ct) is { } remembered)
        {
            return Results.Content(remembered, "application/json");
        }

        var dids = (input.DidList ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (dids.Count is < 1 or > 50 || dids.Any(d => !DidSyntax.IsValid(d)))
        {
            throw Xrpc.BadRequest("didList: 1..50 DIDs", dids.Count > 50 ? "TooManyMembers" : "InvalidRequest");
        }
        var state = await ConvoApi.RequireMemberAsync(convos, input.ConvoId, caller, ct);
        var (commit, epoch) = ParseCommit(input.Commit, state.GroupId);
        var (welcome, welcomeBytes) = ParseWelcome(input.WelcomeMessage, MlsCipherSuite.FromId(state.Suite)!, dids, input.KeyPackageHashes ?? []);
        var newEpoch = await commits.ApplyAsync(new CommitStore.CommitChange(input.ConvoId!, caller, commit, epoch, dids, [], welcome, welcomeBytes,
            input.KeyPackageHashes ?? []), ct);
        var output = new EpochChangeOutput(true, newEpoch);
        if (input.IdempotencyKey is { } newKey)
        {
            await idempotency.RecordAsync(caller, newKey, "addMembers", requestHash,
                System.Text.Json.JsonSerializer.Serialize(output, MlsJsonContext.Default.EpochChangeOutput), ct);
        }

        return Xrpc.Ok(output, MlsJsonContext.Default.EpochChangeOutput);
    }

    private static async Task<IResult> LeaveAsync(HttpContext http, ConvoStore convos, CommitStore commits, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.LeaveConvoInput, ct);
        var target = input.TargetDid ?? caller;
        if (!DidSyntax.IsValid(target))
        {
            throw Xrpc.BadRequest("targetDid must be a DID");
        }
        var state = await ConvoApi.RequireMemberAsync(convos, input.ConvoId, caller, ct);
        var (commit, epoch) = ParseCommit(input.Commit, state.GroupId);
        var newEpoch = await commits.ApplyAsync(new CommitStore.CommitChange(input.ConvoId!, caller, commit, epoch, [], [target], null, null, []), ct);
        return Xrpc.Ok(new EpochChangeOutput(true, newEpoch), MlsJsonContext.Default.EpochChangeOutput);
    }

    private static async Task<IResult> GetCommitsAsync(HttpContext http, ConvoStore convos, CommitStore commits, string? convoId, long? fromEpoch,
        long? toEpoch, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var state = await ConvoApi.RequireMemberAsync(convos, convoId, caller, ct);
        var from = fromEpoch ?? 0;
        var to = toEpoch ?? state.Epoch;
        if (from < 0 || to < from)
        {
            throw Xrpc.BadRequest("need 0 ≤ fromEpoch ≤ toEpoch", "InvalidEpochRange");
        }
        var list = await commits.ReadAsync(convoId!, from, to, ct);
        return Xrpc.Ok(new GetCommitsOutput(convoId!, list.Select(c => new CommitItem(c.Epoch, c.Sender, c.CommitData, c.CreatedAt, c.Seq)).ToList()),
            MlsJsonContext.Default.GetCommitsOutput);
    }

    private static async Task<IResult> GetWelcomeAsync(HttpContext http, ConvoStore convos, CommitStore commits, string? convoId, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        await ConvoApi.RequireMemberAsync(convos, convoId, caller, ct);
        var (welcome, consumed) = await commits.TakeWelcomeAsync(convoId!, caller, ct);
        if (welcome is null)
        {
            throw consumed
                ? new XrpcException(410, "WelcomeConsumed", "the welcome was already confirmed")
                : new XrpcException(404, "WelcomeNotFound", "no welcome for the caller");
        }
        return Xrpc.Ok(new GetWelcomeOutput(convoId!, Convert.ToBase64String(welcome)), MlsJsonContext.Default.GetWelcomeOutput);
    }

    private static async Task<IResult> ConfirmWelcomeAsync(HttpContext http, ConvoStore convos, CommitStore commits, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.ConfirmWelcomeInput, ct);
        if (input.Success is not { } success || input.ErrorDetails is { Length: > 1024 })
        {
            throw Xrpc.BadRequest("success is required; errorDetails ≤ 1024 characters");
        }
        await ConvoApi.RequireMemberAsync(convos, input.ConvoId, caller, ct);
        await commits.ConfirmWelcomeAsync(input.ConvoId!, caller, success, ct);
        return Xrpc.Ok(new ConfirmWelcomeOutput(true), MlsJsonContext.Default.ConfirmWelcomeOutput);
    }
}
