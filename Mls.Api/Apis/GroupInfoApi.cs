using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Mls;
using Catbird.Mls.Api.Storage;

namespace Catbird.Mls.Api.Apis;

/// <summary>GroupInfo for external joins: updateGroupInfo (members publish it), getGroupInfo (members fetch it).</summary>
public static class GroupInfoApi
{
    /// <summary>Largest GroupInfo accepted (it carries the ratchet tree when clients include it).</summary>
    public const int MaxGroupInfoBytes = 1024 * 1024;

    public static RouteGroupBuilder MapGroupInfoApi(this RouteGroupBuilder xrpc)
    {
        xrpc.MapPost("blue.catbird.mls.updateGroupInfo", UpdateAsync).WithMetadata(new BodyLimit(BodyLimit.MlsMessage));
        xrpc.MapGet("blue.catbird.mls.getGroupInfo", GetAsync);
        return xrpc;
    }

    private static async Task<IResult> UpdateAsync(HttpContext http, ConvoStore convos, GroupInfoStore groupInfos, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.UpdateGroupInfoInput, ct);
        var state = await ConvoApi.RequireMemberAsync(convos, input.ConvoId, caller, ct);
        var bytes = Xrpc.DecodeBase64(input.GroupInfo, "groupInfo");
        if (bytes.Length > MaxGroupInfoBytes)
        {
            throw new XrpcException(413, "GroupInfoTooLarge", "groupInfo exceeds 1 MiB");
        }

        MlsGroupInfo groupInfo;
        try
        {
            groupInfo = MlsDecoder.DecodeMessage(bytes).GroupInfo ?? throw Xrpc.BadRequest("groupInfo is not a GroupInfo", "InvalidGroupInfo");
        }
        catch (MlsFormatException e)
        {
            throw Xrpc.BadRequest($"groupInfo: {e.Message}", "InvalidGroupInfo");
        }

        var context = groupInfo.GroupContext;
        if (!context.GroupId.AsSpan().SequenceEqual(state.GroupId) || context.CipherSuite != state.Suite)
        {
            throw Xrpc.BadRequest("the GroupInfo is not this conversation's (group_id or cipher suite)", "InvalidGroupInfo");
        }

        if (input.Epoch is not { } epoch || (ulong)epoch != context.Epoch)
        {
            throw Xrpc.BadRequest("epoch must equal the GroupInfo's epoch", "InvalidGroupInfo");
        }

        if (epoch != state.Epoch)
        {
            throw new XrpcException(409, "EpochMismatch", $"the conversation is at epoch {state.Epoch}");
        }

        var updated = await groupInfos.UpdateAsync(input.ConvoId!, epoch, bytes, caller, ct);
        return Xrpc.Ok(new UpdateGroupInfoOutput(updated), MlsJsonContext.Default.UpdateGroupInfoOutput);
    }

    private static async Task<IResult> GetAsync(HttpContext http, ConvoStore convos, GroupInfoStore groupInfos, string? convoId, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        await ConvoApi.RequireMemberAsync(convos, convoId, caller, ct);
        var stored = await groupInfos.GetAsync(convoId!, ct) ?? throw new XrpcException(404, "GroupInfoUnavailable", "no GroupInfo has been published for this conversation");
        return Xrpc.Ok(new GetGroupInfoOutput(Convert.ToBase64String(stored.GroupInfo), stored.Epoch), MlsJsonContext.Default.GetGroupInfoOutput);
    }
}
