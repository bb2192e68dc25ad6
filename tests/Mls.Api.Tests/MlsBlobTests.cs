using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Testing;

namespace Catbird.Mls.Api.Tests;

/// <summary>Encrypted attachments: stored by content hash, readable only through the conversation they were uploaded to.</summary>
[Trait("Category", "Service")]
public sealed class MlsBlobTests(MlsServiceFixture fixture) : IClassFixture<MlsServiceFixture>, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _blobs = ServerBinaries.NewTempDirectory("blobs");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Members_upload_and_fetch_blobs_and_nobody_else_can()
    {
        await using var service = fixture.CreateVariant(new Dictionary<string, string?> { ["BLOB_DIR"] = _blobs });
        using var client = service.CreateClient();
        var alice = fixture.NewAccount();
        var mallory = fixture.NewAccount();
        var convo = await CreateConvoAsync(client, alice);
        var other = await CreateConvoAsync(client, mallory);

        var content = RandomNumberGenerator.GetBytes(300_000);
        using var upload = await SendAsync(client, alice.Request(HttpMethod.Post, "blue.catbird.mls.uploadBlob", $"convoId={convo}", new ByteArrayContent(content)));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        using var uploaded = JsonDocument.Parse(await upload.Content.ReadAsStringAsync(Ct));
        var cid = uploaded.RootElement.GetProperty("cid").GetString()!;
        Assert.Equal("sha256-" + Convert.ToHexStringLower(SHA256.HashData(content)), cid);
        Assert.Equal(content.Length, uploaded.RootElement.GetProperty("size").GetInt64());
        Assert.True(File.Exists(Path.Combine(_blobs, cid)));

        using var fetched = await SendAsync(client, alice.Request(HttpMethod.Get, "blue.catbird.mls.getBlob", $"convoId={convo}&cid={cid}"));
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal(content, await fetched.Content.ReadAsByteArrayAsync(Ct));

        await AssertErrorAsync(client, mallory.Request(HttpMethod.Get, "blue.catbird.mls.getBlob", $"convoId={convo}&cid={cid}"), 403);
        await AssertErrorAsync(client, mallory.Request(HttpMethod.Get, "blue.catbird.mls.getBlob", $"convoId={other}&cid={cid}"), 404, "BlobNotFound");
        await AssertErrorAsync(client, alice.Request(HttpMethod.Get, "blue.catbird.mls.getBlob", $"convoId={convo}&cid=../../etc/passwd"), 404, "BlobNotFound");
        await AssertErrorAsync(client, mallory.Request(HttpMethod.Post, "blue.catbird.mls.uploadBlob", $"convoId={convo}", new ByteArrayContent(content)), 403);
    }

    [Fact]
    public async Task Empty_and_oversized_blobs_are_refused_and_leave_nothing_behind()
    {
        await using var service = fixture.CreateVariant(new Dictionary<string, string?> { ["BLOB_DIR"] = _blobs });
        using var client = service.CreateClient();
        var alice = fixture.NewAccount();
        var convo = await CreateConvoAsync(client, alice);
        await AssertErrorAsync(client, alice.Request(HttpMethod.Post, "blue.catbird.mls.uploadBlob", $"convoId={convo}", new ByteArrayContent([])), 400, "InvalidRequest");
        var tooBig = new ByteArrayContent(new byte[10 * 1024 * 1024 + 1]);
        await AssertErrorAsync(client, alice.Request(HttpMethod.Post, "blue.catbird.mls.uploadBlob", $"convoId={convo}", tooBig), 413);
        Assert.Empty(Directory.EnumerateFiles(_blobs));
    }

    private async Task<string> CreateConvoAsync(HttpClient client, TestAccount account)
    {
        var body = new Dictionary<string, object> { ["groupId"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), ["cipherSuite"] = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" };
        using var response = await SendAsync(client, account.Request(HttpMethod.Post, "blue.catbird.mls.createConvo", body: JsonContent.Create(body)));
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            return await client.SendAsync(request, Ct).WaitAsync(Timeout, Ct);
        }
    }

    private static async Task AssertErrorAsync(HttpClient client, HttpRequestMessage request, int status, string? error = null)
    {
        using var response = await SendAsync(client, request);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        if (error is not null)
        {
            Assert.Equal(error, json.RootElement.GetProperty("error").GetString());
        }
    }

    public ValueTask DisposeAsync()
    {
        ServerBinaries.DeleteDirectory(_blobs);
        return ValueTask.CompletedTask;
    }
}
