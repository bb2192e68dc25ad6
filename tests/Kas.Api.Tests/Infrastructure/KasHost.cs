using Catbird.Kas.Api.Apis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Catbird.Kas.Api.Tests.Infrastructure;

/// <summary>Kas.Api on a real Kestrel socket (127.0.0.1, random port), built the way Program.cs builds it.</summary>
internal sealed class KasHost : IAsyncDisposable
{
    private KasHost(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<KasHost> StartAsync(IDictionary<string, string?> configuration, CancellationToken ct,
        string environment = "Production", Action<IServiceCollection>? services = null)
    {
        var contentRoot = Directory.CreateTempSubdirectory("kas-host-").FullName;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = environment,
            ContentRootPath = contentRoot,
            Args = [],
        });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.AddApplicationServices();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseKasPipeline();
        app.MapDefaultEndpoints();
        app.MapKasApi();
        app.MapMediaApi();
        app.MapWebSocketApi();
        await app.StartAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        var address = new Uri(app.Urls.First());
        return new KasHost(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await App.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            try
            {
                await App.DisposeAsync();
            }
            catch (ObjectDisposedException)
            {
                // The NATS client as of this writing flushes inside DisposeAsync after marking itself disposed
                // (reported to its owner); the host is down either way.
            }
        }
    }
}
