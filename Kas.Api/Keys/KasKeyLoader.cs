using System.Security.Cryptography;
using System.Text;
using Amazon;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;

namespace Catbird.Kas.Api.Keys;

/// <summary>
/// Loads the key ring at startup: PEM files, a KMS-wrapped PEM decrypted through AWS KMS, or (Development only, with
/// nothing configured) a P-256 key generated into the state folder and reused on later starts.
/// </summary>
public static class KasKeyLoader
{
    /// <summary>File name of the development key inside the state folder.</summary>
    public const string DevelopmentKeyFile = "kas-dev-ec-p256.pem";

    /// <summary>Loads every configured key.</summary>
    public static async Task<KasKeyRing> LoadAsync(KasOptions options, IHostEnvironment environment, ILogger logger, CancellationToken ct)
    {
        var keys = new List<KasKey>();
        foreach (var (kid, path) in KasOptions.ParseKeyPaths(options.KeyPath).Concat(KasOptions.ParseKeyPaths(options.RsaKeyPath)))
        {
            var pem = await File.ReadAllTextAsync(path, ct);
            keys.Add(KasKey.FromPem(pem, kid, path));
        }

        if (!string.IsNullOrWhiteSpace(options.KmsEncryptedKeyBase64))
        {
            var pem = await DecryptWithKmsAsync(options, ct);
            keys.Add(KasKey.FromPem(pem, options.KmsKeyKid, "KMS_ENCRYPTED_KEY_BASE64"));
        }

        if (keys.Count == 0)
        {
            if (!environment.IsDevelopment())
            {
                throw new InvalidOperationException("No KAS key is configured: set KAS_KEY_PATH or KMS_KEY_ID with KMS_ENCRYPTED_KEY_BASE64.");
            }

            keys.Add(await LoadOrCreateDevelopmentKeyAsync(options, environment, logger, ct));
        }

        foreach (var key in keys)
        {
            KasLog.KeyLoaded(logger, key.Kid, key.Algorithm);
        }

        return new KasKeyRing(keys);
    }

    /// <summary>Decrypts the KMS ciphertext blob into PEM text.</summary>
    public static async Task<string> DecryptWithKmsAsync(KasOptions options, CancellationToken ct)
    {
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(options.KmsEncryptedKeyBase64!.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("KMS_ENCRYPTED_KEY_BASE64 is not base64.");
        }

        var config = new AmazonKeyManagementServiceConfig();
        var endpoint = options.AwsEndpointUrlKms ?? options.AwsEndpointUrl;
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = options.AwsRegion ?? "us-east-1";
        }
        else if (!string.IsNullOrWhiteSpace(options.AwsRegion))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.AwsRegion);
        }

        using var client = string.IsNullOrWhiteSpace(options.AwsAccessKeyId) || string.IsNullOrWhiteSpace(options.AwsSecretAccessKey)
            ? new AmazonKeyManagementServiceClient(config)
            : new AmazonKeyManagementServiceClient(string.IsNullOrWhiteSpace(options.AwsSessionToken)
                ? new BasicAWSCredentials(options.AwsAccessKeyId, options.AwsSecretAccessKey)
                : new SessionAWSCredentials(options.AwsAccessKeyId, options.AwsSecretAccessKey, options.AwsSessionToken), config);
        try
        {
            var response = await client.DecryptAsync(new DecryptRequest
            {
                KeyId = options.KmsKeyId,
                CiphertextBlob = new MemoryStream(blob),
            }, ct);
            var plaintext = response.Plaintext.ToArray();
            try
            {
                return Encoding.UTF8.GetString(plaintext);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }
        catch (Exception error) when (error is AmazonServiceException or AmazonClientException)
        {
            throw new InvalidOperationException($"KMS could not decrypt KMS_ENCRYPTED_KEY_BASE64 with key '{options.KmsKeyId}': {error.Message}", error);
        }
    }

    private static async Task<KasKey> LoadOrCreateDevelopmentKeyAsync(KasOptions options, IHostEnvironment environment, ILogger logger, CancellationToken ct)
    {
        var folder = options.EffectiveStateDirectory(environment.ContentRootPath);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, DevelopmentKeyFile);
        if (File.Exists(path))
        {
            return KasKey.FromPem(await File.ReadAllTextAsync(path, ct), null, path);
        }

        var ec = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var pem = PemEncoding.WriteString("EC PRIVATE KEY", ec.ExportECPrivateKey());
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, pem, ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: false);
        KasLog.DevelopmentKeyCreated(logger, path);
        return KasKey.FromEc(ec, null);
    }
}
