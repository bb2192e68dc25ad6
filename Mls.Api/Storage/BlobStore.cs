using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Catbird.Mls.Api.Storage;

/// <summary>
/// Blobs in a local folder, named by content hash (<c>sha256-&lt;hex&gt;</c>), with a metadata row per conversation so
/// that only members of the conversation a blob was uploaded to can fetch it. Files are written under a temporary name
/// and renamed once complete, so a reader never sees a partial blob.
/// </summary>
public sealed class BlobStore(NpgsqlDataSource db, IOptions<MlsOptions> options)
{
    /// <summary>Largest blob accepted (the lexicon's ceiling for encrypted content).</summary>
    public const long MaxBlobBytes = 10 * 1024 * 1024;

    private string Directory => options.Value.EffectiveBlobDirectory;

    /// <summary>Reads <paramref name="body"/> to the end; returns the blob's id and size, or null when it exceeds the limit.</summary>
    /// <exception cref="InvalidDataException">The body is empty.</exception>
    public async Task<(string Cid, long Size)?> SaveAsync(string convoId, string caller, Stream body, CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var temporary = Path.Combine(Directory, $".upload-{Guid.NewGuid():N}");
        long size = 0;
        string cid;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    size += read;
                    if (size > MaxBlobBytes)
                    {
                        return null;
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }

                await file.FlushAsync(ct);
            }

            if (size == 0)
            {
                throw new InvalidDataException("the blob is empty");
            }

            cid = "sha256-" + Convert.ToHexStringLower(hash.GetHashAndReset());
            File.Move(temporary, Path.Combine(Directory, cid), overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        await using var command = db.CreateCommand("""
            INSERT INTO blobs (convo_id, cid, size, uploaded_by) VALUES ($1, $2, $3, $4) ON CONFLICT (convo_id, cid) DO NOTHING
            """);
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(cid);
        command.Parameters.AddWithValue(size);
        command.Parameters.AddWithValue(caller);
        await command.ExecuteNonQueryAsync(ct);
        return (cid, size);
    }

    /// <summary>Opens a blob uploaded to <paramref name="convoId"/>, or null when that conversation has no such blob.</summary>
    public async Task<Stream?> OpenAsync(string convoId, string cid, CancellationToken ct)
    {
        if (!cid.StartsWith("sha256-", StringComparison.Ordinal) || cid.Length != 71 || !cid.AsSpan(7).ContainsOnlyHexLower())
        {
            return null;
        }

        await using var command = db.CreateCommand("SELECT 1 FROM blobs WHERE convo_id = $1 AND cid = $2");
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(cid);
        if (await command.ExecuteScalarAsync(ct) is null)
        {
            return null;
        }

        var path = Path.Combine(Directory, cid);
        return File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true) : null;
    }
}

internal static class HexSpanExtensions
{
    public static bool ContainsOnlyHexLower(this ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is < 'a' or > 'f')
            {
                return false;
            }
        }

        return true;
    }
}
