using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Catbird.Kas.Api.Storage;

/// <summary>Where WebSocket store events put their payloads: S3 when <c>S3_BUCKET</c> is set, otherwise a local folder.</summary>
public interface IBlobStore
{
    /// <summary>Writes an object durably (acknowledged only after the write).</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct);

    /// <summary>Reads an object, or null.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken ct);
}

/// <summary>Objects as files under a folder (written to a temporary name, then moved into place).</summary>
public sealed class LocalBlobStore(string folder) : IBlobStore
{
    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await file.WriteAsync(data, ct);
            await file.FlushAsync(ct);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, ct) : null;
    }

    private string PathOf(string key)
    {
        var full = Path.GetFullPath(Path.Combine(folder, key));
        if (!full.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException("blob key escapes the blob folder", nameof(key));
        }

        return full;
    }
}

/// <summary>Objects in an S3 bucket (endpoint override and path-style addressing for local S3 such as moto_server).</summary>
public sealed class S3BlobStore(IAmazonS3 s3, string bucket) : IBlobStore
{
    /// <summary>Makes the client from the KAS settings.</summary>
    public static S3BlobStore Create(KasOptions options)
    {
        var config = new AmazonS3Config();
        var endpoint = options.AwsEndpointUrlS3 ?? options.AwsEndpointUrl;
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = options.AwsRegion ?? "us-east-1";
        }
        else if (!string.IsNullOrWhiteSpace(options.AwsRegion))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.AwsRegion);
        }

        var client = string.IsNullOrWhiteSpace(options.AwsAccessKeyId) || string.IsNullOrWhiteSpace(options.AwsSecretAccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AwsAccessKeyId, options.AwsSecretAccessKey), config);
        return new S3BlobStore(client, options.S3Bucket!);
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        using var body = new MemoryStream(data.ToArray(), writable: false);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = body }, ct);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        try
        {
            using var response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key }, ct);
            using var output = new MemoryStream();
            await response.ResponseStream.CopyToAsync(output, ct);
            return output.ToArray();
        }
        catch (AmazonS3Exception error) when (error.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
