using System.Globalization;
using System.Text;
using System.Text.Json;
using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Storage;
using Catbird.Nats;

namespace Catbird.Mls.Api.Apis;

/// <summary>
/// <c>streamConvoEvents</c> (SSE): subscribes to the conversation's NATS subject first, then replays every message
/// after <c>cursor</c> from Postgres, then emits what each NATS event announces, always reading by seq from the
/// database. A reconnecting client that passes its last cursor misses nothing, and every replica serves the same
/// stream because the events come from NATS, not from process memory.
/// </summary>
public static class StreamApi
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static RouteGroupBuilder MapStreamApi(this RouteGroupBuilder xrpc)
    {
        xrpc.MapGet("blue.catbird.mls.streamConvoEvents", StreamAsync);
        return xrpc;
    }

    private static async Task StreamAsync(HttpContext http, ConvoStore convos, NatsConnection nats, string? convoId, string? cursor, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        long after = 0;
        if (cursor is not null && (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
        {
            throw Xrpc.BadRequest("invalid cursor", "InvalidCursor");
        }
        await ConvoApi.RequireMemberAsync(convos, convoId, caller, ct);
        await using var subscription = await nats.SubscribeAsync($"catbird.events.mls.convo.{convoId}.>", ct: ct);

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.Body.FlushAsync(ct);

        after = await EmitAfterAsync(http, convos, convoId!, after, ct);
        while (!ct.IsCancellationRequested)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            idle.CancelAfter(KeepAlive);
            try
            {
                var message = await subscription.Msgs.ReadAsync(idle.Token);
                if (message.Subject.EndsWith(".members-removed", StringComparison.Ordinal)
                    && await convos.GetStateForMemberAsync(convoId!, caller, ct) is null)
                {
                    return; // the caller was removed: end the stream
                }
                after = await EmitAfterAsync(http, convos, convoId!, after, ct);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await http.Response.WriteAsync(": keepalive\n\n", ct);
                await http.Response.Body.FlushAsync(ct);
            }
        }
    }

    private static async Task<long> EmitAfterAsync(HttpContext http, ConvoStore convos, string convoId, long after, CancellationToken ct)
    {
        while (true)
        {
            var page = await convos.ReadMessagesAsync(convoId, after, 100, ct);
            foreach (var message in page)
            {
                var json = JsonSerializer.Serialize(new MessageEventView("messageEvent", message.Seq.ToString(CultureInfo.InvariantCulture), message),
                    MlsJsonContext.Default.MessageEventView);
                await http.Response.WriteAsync($"id: {message.Seq}\ndata: {json}\n\n", Encoding.UTF8, ct);
                after = message.Seq;
            }
            await http.Response.Body.FlushAsync(ct);
            if (page.Count < 100)
            {
                return after;
            }
        }
    }
}
