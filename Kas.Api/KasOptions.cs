using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api;

/// <summary>
/// Kas.Api settings. Names are the environment variables of the original service (also bindable as .NET
/// configuration keys of the same name).
/// </summary>
public sealed class KasOptions
{
    /// <summary>EC (and RSA) private-key PEM files: <c>path</c> or <c>kid=path</c>, several separated by <c>;</c> or <c>,</c>.</summary>
    [ConfigurationKeyName("KAS_KEY_PATH")]
    public string? KeyPath { get; set; }

    /// <summary>Optional RSA private-key PEM (<c>path</c> or <c>kid=path</c>).</summary>
    [ConfigurationKeyName("KAS_RSA_KEY_PATH")]
    public string? RsaKeyPath { get; set; }

    /// <summary>AWS KMS key that wrapped <see cref="KmsEncryptedKeyBase64"/>.</summary>
    [ConfigurationKeyName("KMS_KEY_ID")]
    public string? KmsKeyId { get; set; }

    /// <summary>KMS ciphertext (base64) of a private-key PEM, decrypted at startup.</summary>
    [ConfigurationKeyName("KMS_ENCRYPTED_KEY_BASE64")]
    public string? KmsEncryptedKeyBase64 { get; set; }

    /// <summary>Kid of the KMS-held key (derived from the public key when unset).</summary>
    [ConfigurationKeyName("KMS_KEY_KID")]
    public string? KmsKeyKid { get; set; }

    /// <summary>AWS region for KMS and S3.</summary>
    [ConfigurationKeyName("AWS_REGION")]
    public string? AwsRegion { get; set; }

    /// <summary>AWS access key id (otherwise the SDK's default credential chain).</summary>
    [ConfigurationKeyName("AWS_ACCESS_KEY_ID")]
    public string? AwsAccessKeyId { get; set; }

    /// <summary>AWS secret access key.</summary>
    [ConfigurationKeyName("AWS_SECRET_ACCESS_KEY")]
    public string? AwsSecretAccessKey { get; set; }

    /// <summary>AWS session token for temporary credentials.</summary>
    [ConfigurationKeyName("AWS_SESSION_TOKEN")]
    public string? AwsSessionToken { get; set; }

    /// <summary>Endpoint override for every AWS service (local KMS/S3 such as moto_server).</summary>
    [ConfigurationKeyName("AWS_ENDPOINT_URL")]
    public string? AwsEndpointUrl { get; set; }

    /// <summary>Endpoint override for KMS only.</summary>
    [ConfigurationKeyName("AWS_ENDPOINT_URL_KMS")]
    public string? AwsEndpointUrlKms { get; set; }

    /// <summary>Folder for state such as the development key and local blobs (else <c>CATBIRD_STATE_DIR</c>, else <c>.catbird/kas</c> under the content root).</summary>
    [ConfigurationKeyName("KAS_STATE_DIR")]
    public string? StateDirectory { get; set; }

    /// <summary>The per-service data folder the AppHost injects.</summary>
    [ConfigurationKeyName("CATBIRD_STATE_DIR")]
    public string? CatbirdStateDirectory { get; set; }

    /// <summary>The state folder in effect.</summary>
    public string EffectiveStateDirectory(string contentRoot) =>
        StateDirectory ?? CatbirdStateDirectory ?? Path.Combine(contentRoot, ".catbird", "kas");

    /// <summary>PEM public key(s) of the OIDC issuer whose access tokens are accepted.</summary>
    [ConfigurationKeyName("OAUTH_PUBLIC_KEY_PATH")]
    public string? OAuthPublicKeyPath { get; set; }

    /// <summary>JWKS URL of the OIDC issuer whose access tokens are accepted.</summary>
    [ConfigurationKeyName("OAUTH_JWKS_URL")]
    public string? OAuthJwksUrl { get; set; }

    /// <summary>Expected <c>iss</c> of OIDC access tokens (not checked when unset).</summary>
    [ConfigurationKeyName("OAUTH_ISSUER")]
    public string? OAuthIssuer { get; set; }

    /// <summary>Expected <c>aud</c> of OIDC access tokens (not checked when unset).</summary>
    [ConfigurationKeyName("OAUTH_AUDIENCE")]
    public string? OAuthAudience { get; set; }

    /// <summary>This service's DID: the <c>aud</c> ATProto service JWTs must carry.</summary>
    [ConfigurationKeyName("SERVICE_DID")]
    public string? ServiceDid { get; set; }

    /// <summary>PLC directory for resolving <c>did:plc</c> callers.</summary>
    [ConfigurationKeyName("PLC_DIRECTORY_URL")]
    public string? PlcDirectoryUrl { get; set; }

    /// <summary>Attribute namespace whose values are Catbird conversation ids, decided by membership.</summary>
    [ConfigurationKeyName("KAS_CONVO_ATTRIBUTE_PREFIX")]
    public string? ConvoAttributePrefix { get; set; }

    /// <summary>How long to wait for a membership answer before denying.</summary>
    [ConfigurationKeyName("KAS_MEMBERSHIP_TIMEOUT_MS")]
    public int MembershipTimeoutMilliseconds { get; set; } = 2000;

    /// <summary>Allowed clock skew for token times, seconds.</summary>
    [ConfigurationKeyName("KAS_CLOCK_SKEW_SECONDS")]
    public int ClockSkewSeconds { get; set; } = 120;

    /// <summary>Maximum concurrent media sessions per user.</summary>
    [ConfigurationKeyName("MAX_CONCURRENT_STREAMS")]
    public int MaxConcurrentStreams { get; set; } = 5;

    /// <summary>Hours an asset stays playable after its first play (0 = no rental window).</summary>
    [ConfigurationKeyName("MEDIA_RENTAL_WINDOW_HOURS")]
    public double MediaRentalWindowHours { get; set; }

    /// <summary>NATS subject of the WebSocket passthrough.</summary>
    [ConfigurationKeyName("NATS_SUBJECT")]
    public string NatsSubject { get; set; } = "nanotdf.messages";

    /// <summary>Prefix of media metric subjects.</summary>
    [ConfigurationKeyName("MEDIA_METRICS_SUBJECT")]
    public string MediaMetricsSubject { get; set; } = "media.metrics";

    /// <summary>S3 bucket for WebSocket store events; unset means the local folder <c>{KAS_STATE_DIR}/blobs</c>.</summary>
    [ConfigurationKeyName("S3_BUCKET")]
    public string? S3Bucket { get; set; }

    /// <summary>Endpoint override for S3 only.</summary>
    [ConfigurationKeyName("AWS_ENDPOINT_URL_S3")]
    public string? AwsEndpointUrlS3 { get; set; }

    /// <summary>Origins allowed by CORS, comma separated (<c>*</c> for any).</summary>
    [ConfigurationKeyName("CORS_ORIGINS")]
    public string? CorsOrigins { get; set; }

    /// <summary>Requests per second per client identity on <c>/kas</c>.</summary>
    [ConfigurationKeyName("KAS_RATE_LIMIT")]
    public int KasRateLimit { get; set; } = 100;

    /// <summary>Requests per second per client identity on <c>/media</c>.</summary>
    [ConfigurationKeyName("MEDIA_RATE_LIMIT")]
    public int MediaRateLimit { get; set; } = 300;

    /// <summary>The key-path items: (kid or null, path).</summary>
    public static IEnumerable<(string? Kid, string Path)> ParseKeyPaths(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            yield break;
        }

        foreach (var item in value.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            yield return equals > 0 ? (item[..equals], item[(equals + 1)..]) : (null, item);
        }
    }

    /// <summary>True when any key source is configured.</summary>
    public bool HasConfiguredKeys => !string.IsNullOrWhiteSpace(KeyPath) || !string.IsNullOrWhiteSpace(RsaKeyPath)
                                     || !string.IsNullOrWhiteSpace(KmsEncryptedKeyBase64);
}

/// <summary>Validates <see cref="KasOptions"/> at startup with sentences that name the setting.</summary>
public sealed class KasOptionsValidator(IHostEnvironment environment) : IValidateOptions<KasOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, KasOptions options)
    {
        var errors = new List<string>();
        if (!options.HasConfiguredKeys && !environment.IsDevelopment())
        {
            errors.Add("No KAS key is configured: set KAS_KEY_PATH (PEM file) or KMS_KEY_ID with KMS_ENCRYPTED_KEY_BASE64. " +
                       "A development key is generated only when ASPNETCORE_ENVIRONMENT=Development.");
        }

        if (!string.IsNullOrWhiteSpace(options.KmsEncryptedKeyBase64) && string.IsNullOrWhiteSpace(options.KmsKeyId))
        {
            errors.Add("KMS_ENCRYPTED_KEY_BASE64 is set but KMS_KEY_ID is not.");
        }

        foreach (var (_, path) in KasOptions.ParseKeyPaths(options.KeyPath).Concat(KasOptions.ParseKeyPaths(options.RsaKeyPath)))
        {
            if (!File.Exists(path))
            {
                errors.Add($"KAS key file '{path}' (KAS_KEY_PATH / KAS_RSA_KEY_PATH) does not exist.");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.OAuthPublicKeyPath) && !File.Exists(options.OAuthPublicKeyPath))
        {
            errors.Add($"OAUTH_PUBLIC_KEY_PATH '{options.OAuthPublicKeyPath}' does not exist.");
        }

        if (!string.IsNullOrWhiteSpace(options.OAuthJwksUrl) && !Uri.TryCreate(options.OAuthJwksUrl, UriKind.Absolute, out _))
        {
            errors.Add("OAUTH_JWKS_URL is not an absolute URL.");
        }

        if (options.MaxConcurrentStreams is < 1 or > 100)
        {
            errors.Add("MAX_CONCURRENT_STREAMS must be between 1 and 100.");
        }

        if (options.KasRateLimit < 1 || options.MediaRateLimit < 1)
        {
            errors.Add("KAS_RATE_LIMIT and MEDIA_RATE_LIMIT must be positive.");
        }

        if (options.MembershipTimeoutMilliseconds is < 10 or > 60000)
        {
            errors.Add("KAS_MEMBERSHIP_TIMEOUT_MS must be between 10 and 60000.");
        }

        if (options.ConvoAttributePrefix is { Length: > 0 } prefix && !Uri.TryCreate(prefix, UriKind.Absolute, out _))
        {
            errors.Add("KAS_CONVO_ATTRIBUTE_PREFIX must be an absolute URL such as https://catbird.example/attr/convo/value/.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
