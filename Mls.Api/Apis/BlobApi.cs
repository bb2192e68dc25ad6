using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Storage;

namespace Catbird.Mls.Api.Apis;

/// <summary>Encrypted attachments: uploadBlob (raw body, members of the conversation) and getBlob (members only).</summary>
public static class BlobApi
{
    public static RouteGroupBuilder MapBlobApi(this RouteGroupBuilder xrpc)
    {
        xrpc.MapPost("blue.catbird.mls.uploadBlob", UploadAsync).WithMetadata(new BodyLimit(BlobStore.MaxBlobBytes + 1));
        xrpc.MapGet("blue.catbird.mls.getBlob", GetAsync);
        return xrpc;
    }

    private static async Task<IResult> UploadAsync(HttpContext http, ConvoStore convos, BlobStore blobs, string? convoId, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        await ConvoApi.RequireMemberAsync(convos, convoId, caller, ct);
        if (http.Request.ContentLength > BlobStore.MaxBlobBytes)
        {
            throw new XrpcException(413, "BlobTooLarge", "blobs are at most 10 MiB");
        }

        (string Cid, long Size)? saved;
        try
        {
            saved = await blobs.SaveAsync(convoId!, caller, http.Request.Body, ct);
        }
        catch (InvalidDataException)
        {
            throw Xrpc.BadRequest("the blob is empty");
        }

        if (saved is not { } blob)
        {
            throw new XrpcException(413, "BlobTooLarge", "blobs are at most 10 MiB");
        }

        return Xrpc.Ok(new UploadBlobOutput(blob.Cid, blob.Size), MlsJsonContext.Default.UploadBlobOutput);
    }

    private static async Task<IResult> GetAsync(HttpContext http, ConvoStore convos, BlobStore blobs, string? convoId, string? cid, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        await ConvoApi.RequireMemberAsync(convos, convoId, caller, ct);
        var stream = await blobs.OpenAsync(convoId!, cid ?? "", ct)
            ?? throw new XrpcException(404, "BlobNotFound", "this conversation has no such blob");
        return Results.Stream(stream, "application/octet-stream");
    }
}
