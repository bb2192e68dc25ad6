using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Catbird.Mls.Api;

/// <summary>Configuration of Mls.Api, bound from the environment variable names the issue defines.</summary>
public sealed class MlsOptions
{
    /// <summary>The service's own DID (required): the <c>aud</c> every token must carry.</summary>
    [ConfigurationKeyName("SERVICE_DID")]
    public string ServiceDid { get; set; } = "";

    /// <summary>The public HTTPS endpoint written into <c>/.well-known/did.json</c>; defaults to https://host of a did:web.</summary>
    [ConfigurationKeyName("SERVICE_ENDPOINT")]
    public string? ServiceEndpoint { get; set; }

    /// <summary>Where did:plc documents are resolved.</summary>
    [ConfigurationKeyName("PLC_DIRECTORY_URL")]
    public string PlcDirectoryUrl { get; set; } = "https://plc.directory";

    /// <summary>Require <c>lxm</c> to equal the called NSID.</summary>
    [ConfigurationKeyName("ENFORCE_LXM")]
    public bool EnforceLxm { get; set; } = true;

    /// <summary>Minimum time a jti is remembered (it is always kept until the token expires).</summary>
    [ConfigurationKeyName("JTI_TTL_SECONDS")]
    public int JtiTtlSeconds { get; set; } = 120;

    /// <summary>Allow did:web documents on private-network hosts (development only).</summary>
    [ConfigurationKeyName("DID_WEB_ALLOW_PRIVATE_HOSTS")]
    public bool DidWebAllowPrivateHosts { get; set; }

    /// <summary>How many past epochs an application message may still carry.</summary>
    [ConfigurationKeyName("EPOCH_WINDOW")]
    public int EpochWindow { get; set; }

    /// <summary>Most unconsumed key packages one DID may hold.</summary>
    [ConfigurationKeyName("MAX_KEY_PACKAGES_PER_DID")]
    public int MaxKeyPackagesPerDid { get; set; } = 100;

    /// <summary>How long a fetched key package stays reserved for the fetcher.</summary>
    [ConfigurationKeyName("KEY_PACKAGE_RESERVATION_SECONDS")]
    public int KeyPackageReservationSeconds { get; set; } = 300;

    /// <summary>XRPC requests one DID may make per minute (all replicas together).</summary>
    [ConfigurationKeyName("RATE_LIMIT_PER_DID_PER_MINUTE")]
    public int RateLimitPerDidPerMinute { get; set; } = 1200;

    /// <summary>XRPC requests one client IP may make per minute, counted before authentication.</summary>
    [ConfigurationKeyName("RATE_LIMIT_PER_IP_PER_MINUTE")]
    public int RateLimitPerIpPerMinute { get; set; } = 6000;

    /// <summary>Where blobs are kept (default <c>$CATBIRD_STATE_DIR/blobs</c>, else <c>blobs</c> beside the process).</summary>
    [ConfigurationKeyName("BLOB_DIR")]
    public string? BlobDirectory { get; set; }

    /// <summary>The state folder the AppHost gives each service.</summary>
    [ConfigurationKeyName("CATBIRD_STATE_DIR")]
    public string? StateDirectory { get; set; }

    /// <summary>The folder blobs are written to.</summary>
    public string EffectiveBlobDirectory =>
        BlobDirectory is { Length: > 0 } directory ? directory
        : Path.Combine(StateDirectory is { Length: > 0 } state ? state : AppContext.BaseDirectory, "blobs");

    /// <summary>
    /// Shared secret (≥ 32 characters) for HS256 development tokens. Accepted only in the Development environment with
    /// every binding on loopback; otherwise the process refuses to start.
    /// </summary>
    [ConfigurationKeyName("DEV_TOKEN_SECRET")]
    public string? DevTokenSecret { get; set; }

    /// <summary>The accepted <c>aud</c> values: the DID with and without <c>#atproto_mls</c>.</summary>
    public IReadOnlyCollection<string> Audiences => [ServiceDid, ServiceDid + "#atproto_mls"];
}

/// <summary>Refuses to start with a missing or malformed setting, naming it.</summary>
public sealed class MlsOptionsValidator(IHostEnvironment? environment = null, IConfiguration? configuration = null) : IValidateOptions<MlsOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MlsOptions options)
    {
        var failures = new List<string>();
        if (options.DevTokenSecret is { } secret)
        {
            if (secret.Length < 32)
            {
                failures.Add("DEV_TOKEN_SECRET must be at least 32 characters");
            }

            if (environment?.IsDevelopment() != true)
            {
                failures.Add("DEV_TOKEN_SECRET (HS256 development tokens) is allowed only in the Development environment; unset it");
            }

            if (!BindsOnlyLoopback(configuration))
            {
                failures.Add("DEV_TOKEN_SECRET (HS256 development tokens) requires every binding on loopback (ASPNETCORE_URLS=http://127.0.0.1:…); unset it or bind to loopback");
            }
        }

        if (!Catbird.Identity.Did.DidSyntax.IsValid(options.ServiceDid))
        {
            failures.Add("SERVICE_DID is required and must be a DID such as did:web:mls.example.com");
        }
        if (!Uri.TryCreate(options.PlcDirectoryUrl, UriKind.Absolute, out var plc) || (plc.Scheme != "https" && plc.Scheme != "http"))
        {
            failures.Add("PLC_DIRECTORY_URL must be an absolute http(s) URL");
        }
        if (options.JtiTtlSeconds is < 1 or > 86400)
        {
            failures.Add("JTI_TTL_SECONDS must be between 1 and 86400");
        }
        if (options.EpochWindow is < 0 or > 16)
        {
            failures.Add("EPOCH_WINDOW must be between 0 and 16");
        }
        if (options.RateLimitPerDidPerMinute < 1 || options.RateLimitPerIpPerMinute < 1)
        {
            failures.Add("RATE_LIMIT_PER_DID_PER_MINUTE and RATE_LIMIT_PER_IP_PER_MINUTE must be positive");
        }
        if (options.ServiceEndpoint is { } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            failures.Add("SERVICE_ENDPOINT must be an absolute URL");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>True when every configured URL is on a loopback host (no URLs means Kestrel's default, localhost).</summary>
    public static bool BindsOnlyLoopback(IConfiguration? configuration)
    {
        if (!string.IsNullOrEmpty(configuration?["HTTP_PORTS"] ?? configuration?["HTTPS_PORTS"]))
        {
            return false; // ports alone bind every interface
        }

        var urls = configuration?["urls"] ?? configuration?["ASPNETCORE_URLS"];
        if (string.IsNullOrWhiteSpace(urls))
        {
            return true;
        }

        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var host = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
            host = host.Split('/')[0];
            host = host.StartsWith('[') ? host[1..host.IndexOf(']')] : host.Split(':')[0];
            var loopback = host == "localhost" || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
            if (!loopback)
            {
                return false;
            }
        }

        return true;
    }
}
