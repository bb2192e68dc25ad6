using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Mls;
using Catbird.Mls.Api.Storage;
using Microsoft.Extensions.Options;

namespace Catbird.Mls.Api.Apis;

/// <summary>Application messages: sendMessage, getMessages.</summary>
public static class MessageApi
{
    /// <summary>The lexicon's ciphertext ceiling (10 MiB).</summary>
    public const int MaxCiphertext = 10 * 1024 * 1024;

    public static RouteGroupBuilder MapMessageApi(this RouteGroupBuilder xrpc)
    {
        xrpc.MapPost("blue.catbird.mls.sendMessage", SendAsync).WithMetadata(new BodyLimit(BodyLimit.MlsMessage));
        xrpc.MapGet("blue.catbird.mls.getMessages", GetAsync);
        xrpc.MapPost("blue.catbird.mls.updateCursor", UpdateCursorAsync);
        return xrpc;
    }

    /// <summary>Padded sizes the lexicon allows: 512…8192 powers of two, then multiples of 8192 up to 10 MiB.</summary>
    public static bool IsAllowedPaddedSize(long size) =>
        size is 512 or 1024 or 2048 or 4096 or 8192 || (size > 8192 && size <= MaxCiphertext && size % 8192 == 0);

    private static async Task<IResult> SendAsync(HttpContext http, ConvoStore convos, IdempotencyStore idempotency, IOptions<MlsOptions> options, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.SendMessageInput, ct);
        var requestHash = IdempotencyStore.Hash(input, MlsJsonContext.Default.SendMessageInput);
        if (input.IdempotencyKey is { } key && await idempotency.ReplayAsync(caller, key, "sendMessage", requestHash, ct) is { } remembered)
        {
            return Results.Content(remembered, "application/json");
        }

        if (input.MsgId is not { Length: >= 1 and <= 36 } msgId || !msgId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw Xrpc.BadRequest("msgId must be a ULID or UUID");
        }
        if (input.Epoch is not { } epoch || epoch < 0)
        {
            throw Xrpc.BadRequest("epoch is required");
        }
        if (input.PaddedSize is not { } padded || !IsAllowedPaddedSize(padded))
        {
            throw Xrpc.BadRequest("paddedSize must be 512, 1024, 2048, 4096, 8192 or a multiple of 8192 up to 10 MiB");
        }
        if (input.DeclaredSize is { } declared && (declared < 0 || declared > padded))
        {
            throw Xrpc.BadRequest("declaredSize must be between 0 and paddedSize");
        }
        var ciphertext = Xrpc.DecodeBytes(input.Ciphertext, "ciphertext");
        if (ciphertext.Length > MaxCiphertext)
        {
            throw new XrpcException(413, "MessageTooLarge", "ciphertext exceeds 10 MiB");
        }
        if (ciphertext.Length != padded)
        {
            throw Xrpc.BadRequest("ciphertext length must equal paddedSize");
        }
        MlsFramedRouting routing;
        try
        {
            var message = MlsDecoder.DecodePaddedMessage(ciphertext);
            routing = message.Framed ?? throw Xrpc.BadRequest("ciphertext must be a PublicMessage or PrivateMessage");
        }
        catch (MlsFormatException e)
        {
            throw Xrpc.BadRequest($"ciphertext: {e.Message}");
        }
        if (routing.ContentType != MlsContentType.Application)
        {
            throw Xrpc.BadRequest("sendMessage carries application messages; commits go through addMembers/leaveConvo");
        }
        var state = await ConvoApi.RequireMemberAsync(convos, input.ConvoId, caller, ct);
        if (!routing.GroupId.AsSpan().SequenceEqual(state.GroupId))
        {
            throw Xrpc.BadRequest("the message's group_id is not this conversation's");
        }
        if ((long)routing.Epoch != epoch)
        {
            throw Xrpc.BadRequest("epoch differs from the message's epoch");
        }
        var output = await convos.AppendMessageAsync(input.ConvoId!, caller, msgId, ciphertext, epoch, options.Value.EpochWindow, ct);
        if (input.IdempotencyKey is { } newKey)
        {
            await idempotency.RecordAsync(caller, newKey, "sendMessage", requestHash,
                System.Text.Json.JsonSerializer.Serialize(output, MlsJsonContext.Default.SendMessageOutput), ct);
        }

        return Xrpc.Ok(output, MlsJsonContext.Default.SendMessageOutput);
    }

    private static async Task<IResult> GetAsync(HttpContext http, ConvoStore convos, string? convoId, int? limit, string? cursor, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var take = limit ?? 50;
        if (take is < 1 or > 100)
        {
            throw Xrpc.BadRequest("limit must be 1..100");
        }
        long after = 0;
        if (cursor is not null && (!long.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out after) || after < 0))
        {
            throw Xrpc.BadRequest("invalid cursor", "InvalidCursor");
        }
        await ConvoApi.RequireMemberAsync(convos, convoId, caller, ct);
        var page = await convos.ReadMessagesAsync(convoId!, after, take, ct);
        // The cursor is the last seq returned; reading on from it later also returns messages sent since.
        var next = page.Count > 0 ? page[^1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) : cursor;
        return Xrpc.Ok(new GetMessagesOutput(page, next), MlsJsonContext.Default.GetMessagesOutput);
    }

    private static async Task<IResult> UpdateCursorAsync(HttpContext http, ConvoStore convos, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.UpdateCursorInput, ct);
        if (input.Cursor is null || !long.TryParse(input.Cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var cursor))
        {
            throw Xrpc.BadRequest("cursor must be a cursor returned by getMessages or streamConvoEvents", "InvalidCursor");
        }
        await ConvoApi.RequireMemberAsync(convos, input.ConvoId, caller, ct);
        await convos.UpdateCursorAsync(caller, input.ConvoId!, cursor, ct);
        return Xrpc.Ok(new SuccessOutput(true), MlsJsonContext.Default.SuccessOutput);
    }
}
