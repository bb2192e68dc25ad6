using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Catbird.Kas.Api.Tests.Infrastructure;
using Catbird.Kas.Api.WebSocket;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>The WebSocket NATS passthrough: 0x05 publishes, <c>nanotdf.messages</c> and <c>profile.&lt;sub&gt;</c> are forwarded.</summary>
[Trait("Category", "Service")]
public sealed class WebSocketNatsTests(MembershipFixture fixture) : IClassFixture<MembershipFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Passthrough_publishes_and_forwards_both_subjects()
    {
        var subject = "ws-" + Guid.NewGuid().ToString("N")[..8];
        await using var published = await fixture.Client.SubscribeAsync("nanotdf.messages", ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await fixture.Client.FlushAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + fixture.Identity.AccessToken(subject));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.Host.Address.Port}/ws"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var readers = new List<Task>();
        var inbox = StartReader(socket, readers);

        await socket.SendAsync((byte[])[ArkavoMessageType.Nats, .. "L1L-from-client"u8], WebSocketMessageType.Binary, true, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var fromClient = await ReadUntilAsync(published, m => Encoding.UTF8.GetString(m.Span) == "L1L-from-client");
        var nanoForward = await PublishUntilReceivedAsync(inbox, "nanotdf.messages", "L1L-to-client"u8.ToArray());
        var profileForward = await PublishUntilReceivedAsync(inbox, ArkavoSocket.ProfileSubject(subject), "profile-note"u8.ToArray());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.True(fromClient);
        Assert.Equal([ArkavoMessageType.Nats, .. "L1L-to-client"u8], nanoForward);
        Assert.Equal([ArkavoMessageType.Event, .. "profile-note"u8], profileForward);
    }

    [Fact]
    public async Task Route_events_go_to_the_target_profile()
    {
        var target = new byte[] { 1, 2, 3, 4, 5 };
        await using var profile = await fixture.Client.SubscribeAsync("profile." + Base58.Encode(target), ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await fixture.Client.FlushAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + fixture.Identity.AccessToken("router"));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.Host.Address.Port}/ws"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var routeEvent = new ArkavoEvent(ArkavoAction.Share, 9, 0, ArkavoEventData.RouteEvent, target, "hi"u8.ToArray(), 0, false).Write();

        await socket.SendAsync((byte[])[ArkavoMessageType.Event, .. routeEvent], WebSocketMessageType.Binary, true, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var message = await profile.Msgs.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(routeEvent, message.Data.ToArray());
        Assert.Equal(target, ArkavoEvent.Read(message.Data.Span).TargetId);
    }

    private static async Task<bool> ReadUntilAsync(Catbird.Nats.NatsSubscription subscription, Func<ReadOnlyMemory<byte>, bool> match)
    {
        while (true)
        {
            var message = await subscription.Msgs.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
            if (match(message.Data))
            {
                return true;
            }
        }
    }

    private async Task<byte[]> PublishUntilReceivedAsync(ChannelReader<byte[]> inbox, string subject, byte[] payload)
    {
        // The server subscribes when the connection opens; publish until the forward arrives (skipping repeats of
        // earlier attempts and of earlier payloads).
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await fixture.Client.PublishAsync(subject, payload, ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
            var until = DateTime.UtcNow.AddMilliseconds(150);
            while (DateTime.UtcNow < until)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                wait.CancelAfter(until - DateTime.UtcNow + TimeSpan.FromMilliseconds(1));
                try
                {
                    var frame = await inbox.ReadAsync(wait.Token);
                    if (frame.AsSpan(1).SequenceEqual(payload))
                    {
                        return frame;
                    }
                }
                catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
                {
                }
            }
        }

        throw new TimeoutException($"nothing forwarded from {subject}");
    }

    private static ChannelReader<byte[]> StartReader(ClientWebSocket socket, List<Task> readers)
    {
        var frames = Channel.CreateUnbounded<byte[]>();
        readers.Add(Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    frames.Writer.TryWrite(buffer[..result.Count]);
                }
            }
            catch (WebSocketException)
            {
            }
            finally
            {
                frames.Writer.TryComplete();
            }
        }));
        return frames.Reader;
    }
}
