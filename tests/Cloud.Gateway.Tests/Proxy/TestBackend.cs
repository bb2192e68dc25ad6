using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Catbird.Cloud.Gateway.Tests.Proxy;

/// <summary>A real tenant backend on 127.0.0.1:&lt;random&gt; with echo, slow, streaming and WebSocket endpoints.</summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public int Hits;

    /// <summary>Released by a test to let <c>/stream</c> finish its body.</summary>
    public TaskCompletionSource StreamGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<TestBackend> StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.UseWebSockets();
        TestBackend? self = null;
        app.Use((context, next) =>
        {
            Interlocked.Increment(ref self!.Hits);
            return next(context);
        });
        app.MapGet("/headers", (HttpContext context) =>
        {
            var text = new StringBuilder();
            foreach (var (name, values) in context.Request.Headers)
            {
                text.Append(name.ToLowerInvariant()).Append(": ").Append(values.ToString()).Append('\n');
            }
            context.Response.Headers["X-Backend"] = "yes";
            context.Response.Headers["Connection"] = "X-Backend-Private";
            context.Response.Headers["X-Backend-Private"] = "secret";
            return Results.Text(text.ToString());
        });
        app.MapPost("/digest", async (HttpContext context) =>
        {
            using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                total += read;
            }
            return Results.Text($"{total}:{Convert.ToHexString(sha.GetHashAndReset())}");
        });
        app.MapGet("/bytes/{length:int}", async (HttpContext context, int length) =>
        {
            context.Response.ContentType = "application/octet-stream";
            var chunk = new byte[64 * 1024];
            for (var sent = 0; sent < length; sent += chunk.Length)
            {
                var size = Math.Min(chunk.Length, length - sent);
                for (var i = 0; i < size; i++)
                {
                    chunk[i] = (byte)((sent + i) * 31);
                }
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, size), context.RequestAborted);
            }
        });
        app.MapGet("/slow", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
            return Results.Text("late");
        });
        app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
        app.MapGet("/stream", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("first;", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await self!.StreamGate.Task.WaitAsync(TimeSpan.FromSeconds(10), context.RequestAborted);
            await context.Response.WriteAsync("second", context.RequestAborted);
        });
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }
            var protocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault();
            using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol);
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure,
                        socket.CloseStatusDescription, context.RequestAborted);
                    return;
                }
                var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                if (text == "close-me")
                {
                    await socket.CloseAsync((WebSocketCloseStatus)4000, "backend says bye", context.RequestAborted);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
            }
        });
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new TestBackend(app, new Uri(address));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
