using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Catbird.Mls.Api.Mls;

namespace Catbird.Mls.Api.Tests;

[Trait("Category", "Service")]
public sealed class MlsServiceTests(MlsServiceFixture service) : IClassFixture<MlsServiceFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Well_known_did_document_names_the_mls_service()
    {
        var ct = TestContext.Current.CancellationToken;
        using var response = await service.Client.GetAsync("/.well-known/did.json", ct).WaitAsync(Timeout, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        Assert.Equal(MlsServiceFixture.ServiceDid, json.RootElement.GetProperty("id").GetString());
        var entry = json.RootElement.GetProperty("service")[0];
        Assert.Equal("#atproto_mls", entry.GetProperty("id").GetString());
        Assert.Equal("https://mls.test.example", entry.GetProperty("serviceEndpoint").GetString());

        // Readiness really checks Postgres, Redis and NATS.
        using var ready = await service.Client.GetAsync("/health/ready", ct).WaitAsync(Timeout, ct);
        var body = await ready.Content.ReadAsStringAsync(ct);
        Assert.True(ready.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("redis", body);
        Assert.Contains("nats", body);
        Assert.Contains("mlsdb", body);
    }

    [Fact]
    public async Task Xrpc_routes_refuse_missing_and_bad_tokens_with_xrpc_errors()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = service.NewAccount();
        const string nsid = "blue.catbird.mls.getConvos";

        await AssertError(new HttpRequestMessage(HttpMethod.Get, $"/xrpc/{nsid}"), 401, "AuthRequired");
        await AssertError(WithToken(nsid, alice.Token(nsid, aud: "did:web:elsewhere.example")), 401, "BadJwtAudience");
        await AssertError(WithToken(nsid, alice.Token("blue.catbird.mls.getEpoch")), 401, "BadJwtLexiconMethod");
        await AssertError(WithToken(nsid, alice.Token(nsid, exp: DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1)), 401, "ExpiredToken");
        var token = alice.Token(nsid);
        using (var first = await service.Client.SendAsync(WithToken(nsid, token), ct).WaitAsync(Timeout, ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        await AssertError(WithToken(nsid, token), 401, "ReplayedToken");
        var stranger = new TestAccount("did:plc:nobodyaaaaaaaaaaaaaaaaaa", System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.CreateFromValue("1.3.132.0.10")));
        await AssertError(WithToken(nsid, stranger.Token(nsid)), 401, "BadJwtIssuer");
        var parts = alice.Token(nsid).Split('.');
        await AssertError(WithToken(nsid, $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA"), 401, "BadJwtSignature");
        await AssertError(WithToken(nsid, "eyJhbGciOiJub25lIn0.e30."), 401, "BadJwt");

        var legacy = service.NewAccount(legacyDocument: true);
        using var legacyResponse = await service.Client.SendAsync(legacy.Request(HttpMethod.Get, nsid), ct).WaitAsync(Timeout, ct);
        Assert.Equal(HttpStatusCode.OK, legacyResponse.StatusCode);
        await AssertError(alice.Request(HttpMethod.Get, "blue.catbird.mls.noSuchMethod"), 404, "MethodNotImplemented");
    }

    [Fact]
    public async Task Conversation_messages_get_sequence_numbers_and_page_in_order()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = service.NewAccount();
        var bob = service.NewAccount();
        var groupId = Encoding.UTF8.GetBytes("group-" + Guid.NewGuid().ToString("N"));
        var convo = await CreateConvoAsync(alice, groupId);
        var convoId = convo.GetProperty("id").GetString()!;
        Assert.Equal(0, convo.GetProperty("epoch").GetInt64());
        Assert.Equal(alice.Did, convo.GetProperty("creator").GetString());

        for (var i = 1; i <= 5; i++)
        {
            var sent = await SendAsync(alice, convoId, $"msg{i:D3}", PrivateMessage(groupId, 0, (byte)i), 0);
            Assert.Equal(i, sent.GetProperty("seq").GetInt64());
        }
        // Retrying a msgId with the same bytes returns the original result; other bytes are a conflict.
        var retry = await SendAsync(alice, convoId, "msg003", PrivateMessage(groupId, 0, 3), 0);
        Assert.Equal(3, retry.GetProperty("seq").GetInt64());
        await AssertError(SendRequest(alice, convoId, "msg003", PrivateMessage(groupId, 0, 99), 0), 409, "Conflict");
        await AssertError(SendRequest(alice, convoId, "msg100", PrivateMessage(groupId, 2, 1), 2), 409, "EpochMismatch");
        await AssertError(SendRequest(alice, convoId, "msg101", PrivateMessage("other"u8.ToArray(), 0, 1), 0), 400, "InvalidRequest");
        await AssertError(SendRequest(alice, convoId, "msg102", PrivateMessage(groupId, 0, 1)[..511], 0), 400, "InvalidRequest");
        await AssertError(SendRequest(bob, convoId, "msg103", PrivateMessage(groupId, 0, 1), 0), 403, "NotMember");
        await AssertError(SendRequest(alice, "nope", "msg104", PrivateMessage(groupId, 0, 1), 0), 404, "ConvoNotFound");

        var seqs = new List<long>();
        string? cursor = null;
        for (var page = 0; page < 4; page++)
        {
            var query = $"convoId={convoId}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}");
            var result = await GetJsonAsync(alice, "blue.catbird.mls.getMessages", query);
            foreach (var message in result.GetProperty("messages").EnumerateArray())
            {
                seqs.Add(message.GetProperty("seq").GetInt64());
                var bytes = Convert.FromBase64String(message.GetProperty("ciphertext").GetProperty("$bytes").GetString()!);
                Assert.Equal(MlsWireFormat.PrivateMessage, MlsDecoder.DecodeMessage(bytes).WireFormat);
            }
            cursor = result.GetProperty("cursor").GetString();
        }
        Assert.Equal([1L, 2, 3, 4, 5], seqs);
        await SendAsync(alice, convoId, "msg006", PrivateMessage(groupId, 0, 6), 0);
        var after = await GetJsonAsync(alice, "blue.catbird.mls.getMessages", $"convoId={convoId}&cursor={cursor}");
        Assert.Equal(6, after.GetProperty("messages")[0].GetProperty("seq").GetInt64());
        await AssertError(alice.Request(HttpMethod.Get, "blue.catbird.mls.getMessages", $"convoId={convoId}&cursor=abc"), 400, "InvalidCursor");

        var epoch = await GetJsonAsync(alice, "blue.catbird.mls.getEpoch", $"convoId={convoId}");
        Assert.Equal(0, epoch.GetProperty("currentEpoch").GetInt64());
        var updated = await PostJsonAsync(alice, "blue.catbird.mls.updateCursor", new Dictionary<string, object> { ["convoId"] = convoId, ["cursor"] = "6" });
        Assert.True(updated.GetProperty("success").GetBoolean());
        await AssertError(alice.Request(HttpMethod.Post, "blue.catbird.mls.updateCursor", body: JsonContent.Create(new Dictionary<string, object>
            { ["convoId"] = convoId, ["cursor"] = "x" })), 400, "InvalidCursor");
        await AssertError(bob.Request(HttpMethod.Post, "blue.catbird.mls.updateCursor", body: JsonContent.Create(new Dictionary<string, object>
            { ["convoId"] = convoId, ["cursor"] = "1" })), 403, "NotMember");
    }

    [Fact]
    public async Task Concurrent_senders_get_distinct_gap_free_sequence_numbers()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = service.NewAccount();
        var groupId = Encoding.UTF8.GetBytes("race-" + Guid.NewGuid().ToString("N"));
        var convoId = (await CreateConvoAsync(alice, groupId)).GetProperty("id").GetString()!;
        var sends = Enumerable.Range(0, 20).Select(i => SendAsync(alice, convoId, $"race{i:D3}", PrivateMessage(groupId, 0, (byte)i), 0));
        var results = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(60), ct);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), results.Select(r => r.GetProperty("seq").GetInt64()).Order());
    }

    [Fact]
    public async Task State_changes_reach_jetstream_through_the_outbox()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = new Catbird.Nats.NatsConnection(service.Nats.Url);
        await nats.ConnectAsync(ct).AsTask().WaitAsync(Timeout, ct);
        var alice = service.NewAccount();
        var groupId = Encoding.UTF8.GetBytes("events-" + Guid.NewGuid().ToString("N"));
        var convoId = Convert.ToHexStringLower(groupId);
        await using var subscription = await nats.SubscribeAsync($"catbird.events.mls.convo.{convoId}.>", ct: ct).AsTask().WaitAsync(Timeout, ct);
        await CreateConvoAsync(alice, groupId);
        await SendAsync(alice, convoId, "evt001", PrivateMessage(groupId, 0, 1), 0);

        var created = await subscription.Msgs.ReadAsync(ct).AsTask().WaitAsync(Timeout, ct);
        Assert.Equal($"catbird.events.mls.convo.{convoId}.created", created.Subject);
        Assert.Equal($"{convoId}:created", created.Headers?["Nats-Msg-Id"][0]);
        var message = await subscription.Msgs.ReadAsync(ct).AsTask().WaitAsync(Timeout, ct);
        Assert.Equal($"catbird.events.mls.convo.{convoId}.message", message.Subject);
        using var json = JsonDocument.Parse(message.Data);
        Assert.Equal(1, json.RootElement.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Racing_commits_have_one_winner_and_welcomes_are_handed_out_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var suiteName = TestKeyPackages.Suite.Name;
        var alice = service.NewAccount();
        var bob = service.NewAccount();
        var carol = service.NewAccount();
        var packages = new Dictionary<string, byte[]>();
        foreach (var account in new[] { bob, carol })
        {
            packages[account.Did] = TestKeyPackages.Create(account.Did + "#device-1");
            var published = await PostJsonAsync(account, "blue.catbird.mls.publishKeyPackage", new Dictionary<string, object>
                { ["keyPackage"] = Convert.ToBase64String(packages[account.Did]), ["cipherSuite"] = suiteName });
            Assert.Equal(TestKeyPackages.Hash(packages[account.Did]), published.GetProperty("keyPackageHash").GetString());
        }
        // A credential naming another account is refused.
        await AssertError(bob.Request(HttpMethod.Post, "blue.catbird.mls.publishKeyPackage", body: JsonContent.Create(new Dictionary<string, object>
            { ["keyPackage"] = Convert.ToBase64String(TestKeyPackages.Create(carol.Did)), ["cipherSuite"] = suiteName })), 400, "InvalidKeyPackage");
        // Someone else's key package bytes cannot be re-published (this one's identity is not a DID, so only the owner check applies).
        var anonymous = Convert.ToBase64String(TestKeyPackages.Create("device-without-did"));
        await PostJsonAsync(bob, "blue.catbird.mls.publishKeyPackage", new Dictionary<string, object> { ["keyPackage"] = anonymous, ["cipherSuite"] = suiteName });
        await AssertError(carol.Request(HttpMethod.Post, "blue.catbird.mls.publishKeyPackage", body: JsonContent.Create(new Dictionary<string, object>
            { ["keyPackage"] = anonymous, ["cipherSuite"] = suiteName })), 409, "Conflict");

        var groupId = Encoding.UTF8.GetBytes("race-" + Guid.NewGuid().ToString("N"));
        var convo = await CreateConvoAsync(alice, groupId, suiteName, [bob.Did], TestKeyPackages.Welcome(packages[bob.Did]), [(bob.Did, TestKeyPackages.Hash(packages[bob.Did]))]);
        var convoId = convo.GetProperty("id").GetString()!;
        Assert.Equal(1, convo.GetProperty("epoch").GetInt64());

        // Two different commits made at epoch 1 race: exactly one advances the epoch.
        var commitA = PrivateMessage(groupId, 1, 0xA1, contentType: 3);
        var commitB = PrivateMessage(groupId, 1, 0xB2, contentType: 3);
        var responses = await Task.WhenAll(
            Send(alice.Request(HttpMethod.Post, "blue.catbird.mls.leaveConvo", body: LeaveBody(convoId, null, commitA))),
            Send(bob.Request(HttpMethod.Post, "blue.catbird.mls.leaveConvo", body: LeaveBody(convoId, null, commitB)))).WaitAsync(Timeout, ct);
        Assert.Single(responses, r => r.Status == 200);
        var loser = Assert.Single(responses, r => r.Status == 409);
        Assert.Contains("\"EpochMismatch\"", loser.Body);
        var (winnerCommit, winner, remaining) = responses[0].Status == 200 ? (commitA, alice, bob) : (commitB, bob, alice);
        // The loser catches up with getCommits and sees the winner's commit.
        var commits = await GetJsonAsync(remaining, "blue.catbird.mls.getCommits", $"convoId={convoId}&fromEpoch=1");
        var only = Assert.Single(commits.GetProperty("commits").EnumerateArray());
        Assert.Equal(winnerCommit, Convert.FromBase64String(only.GetProperty("commitData").GetProperty("$bytes").GetString()!));
        Assert.Equal(winner.Did, only.GetProperty("sender").GetString());
        await AssertError(SendRequest(winner, convoId, "after-leave", PrivateMessage(groupId, 2, 1), 2), 403, "NotMember");
        await AssertError(SendRequest(remaining, convoId, "old-epoch", PrivateMessage(groupId, 1, 1), 1), 409, "EpochMismatch");
        await SendAsync(remaining, convoId, "new-epoch", PrivateMessage(groupId, 2, 1), 2);

        // The remaining member adds carol with a Welcome naming her key package; carol takes it once.
        var carolHash = TestKeyPackages.Hash(packages[carol.Did]);
        var welcomeBytes = TestKeyPackages.Welcome(packages[carol.Did]);
        var added = await ReadOkAsync(remaining.Request(HttpMethod.Post, "blue.catbird.mls.addMembers", body: JsonContent.Create(new Dictionary<string, object>
        {
            ["convoId"] = convoId, ["didList"] = new[] { carol.Did }, ["commit"] = Convert.ToBase64String(PrivateMessage(groupId, 2, 0xC3, contentType: 3)),
            ["welcomeMessage"] = Convert.ToBase64String(welcomeBytes),
            ["keyPackageHashes"] = new[] { new Dictionary<string, string> { ["did"] = carol.Did, ["hash"] = carolHash } },
        })));
        Assert.Equal(3, added.GetProperty("newEpoch").GetInt64());
        var welcome = await GetJsonAsync(carol, "blue.catbird.mls.getWelcome", $"convoId={convoId}");
        Assert.Equal(welcomeBytes, Convert.FromBase64String(welcome.GetProperty("welcome").GetString()!));
        await AssertError(carol.Request(HttpMethod.Get, "blue.catbird.mls.getWelcome", $"convoId={convoId}"), 404, "WelcomeNotFound");
        await PostJsonAsync(carol, "blue.catbird.mls.confirmWelcome", new Dictionary<string, object> { ["convoId"] = convoId, ["success"] = true });
        await AssertError(carol.Request(HttpMethod.Get, "blue.catbird.mls.getWelcome", $"convoId={convoId}"), 410, "WelcomeConsumed");

        // Removing carol; the commit must be a Commit of this group.
        await AssertError(remaining.Request(HttpMethod.Post, "blue.catbird.mls.leaveConvo", body: LeaveBody(convoId, carol.Did, PrivateMessage(groupId, 3, 1))), 400, "InvalidCommit");
        var removed = await ReadOkAsync(remaining.Request(HttpMethod.Post, "blue.catbird.mls.leaveConvo", body: LeaveBody(convoId, carol.Did, PrivateMessage(groupId, 3, 0xD4, contentType: 3))));
        Assert.Equal(4, removed.GetProperty("newEpoch").GetInt64());
        await AssertError(SendRequest(carol, convoId, "after-removal", PrivateMessage(groupId, 4, 1), 4), 403, "NotMember");
        var epoch = await GetJsonAsync(remaining, "blue.catbird.mls.getEpoch", $"convoId={convoId}");
        Assert.Equal(4, epoch.GetProperty("currentEpoch").GetInt64());
    }

    private static JsonContent LeaveBody(string convoId, string? target, byte[] commit)
    {
        var body = new Dictionary<string, object> { ["convoId"] = convoId, ["commit"] = Convert.ToBase64String(commit) };
        if (target is not null)
        {
            body["targetDid"] = target;
        }
        return JsonContent.Create(body);
    }

    private async Task<(int Status, string Body)> Send(HttpRequestMessage request)
    {
        var ct = TestContext.Current.CancellationToken;
        using (request)
        {
            using var response = await service.Client.SendAsync(request, ct).WaitAsync(Timeout, ct);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct));
        }
    }

    [Fact]
    public async Task Event_stream_replays_after_the_cursor_then_goes_live()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = service.NewAccount();
        var groupId = Encoding.UTF8.GetBytes("sse-" + Guid.NewGuid().ToString("N"));
        var convoId = (await CreateConvoAsync(alice, groupId)).GetProperty("id").GetString()!;
        await SendAsync(alice, convoId, "sse001", PrivateMessage(groupId, 0, 1), 0);
        await SendAsync(alice, convoId, "sse002", PrivateMessage(groupId, 0, 2), 0);

        using var request = alice.Request(HttpMethod.Get, "blue.catbird.mls.streamConvoEvents", $"convoId={convoId}&cursor=1");
        using var response = await service.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).WaitAsync(Timeout, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct).WaitAsync(Timeout, ct));

        var replayed = await NextEventAsync(reader);
        Assert.Equal(2, replayed.GetProperty("message").GetProperty("seq").GetInt64());
        Assert.Equal("sse002", replayed.GetProperty("message").GetProperty("id").GetString());
        await SendAsync(alice, convoId, "sse003", PrivateMessage(groupId, 0, 3), 0);
        var live = await NextEventAsync(reader);
        Assert.Equal(3, live.GetProperty("message").GetProperty("seq").GetInt64());
        Assert.Equal("3", live.GetProperty("cursor").GetString());

        var bob = service.NewAccount();
        await AssertError(bob.Request(HttpMethod.Get, "blue.catbird.mls.streamConvoEvents", $"convoId={convoId}"), 403, "NotMember");
    }

    private static async Task<JsonElement> NextEventAsync(StreamReader reader)
    {
        var ct = TestContext.Current.CancellationToken;
        while (true)
        {
            var line = await reader.ReadLineAsync(ct).AsTask().WaitAsync(Timeout, ct) ?? throw new EndOfStreamException();
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var json = JsonDocument.Parse(line["data: ".Length..]);
                return json.RootElement.Clone();
            }
        }
    }

    [Fact]
    public async Task Per_did_rate_limit_answers_429_with_retry_after()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var limited = service.CreateVariant(new Dictionary<string, string?> { ["RATE_LIMIT_PER_DID_PER_MINUTE"] = "3" });
        using var client = limited.CreateClient();
        var alice = service.NewAccount();
        var statuses = new List<int>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await client.SendAsync(alice.Request(HttpMethod.Get, "blue.catbird.mls.getConvos"), ct).WaitAsync(Timeout, ct);
            statuses.Add((int)response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is >= 1 and <= 61);
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                Assert.Equal("RateLimitExceeded", json.RootElement.GetProperty("error").GetString());
            }
        }
        // Eight requests over at most two one-minute windows: one window sees four or more, so at least one 429.
        Assert.True(statuses.Count(s => s == 429) >= 1, string.Join(",", statuses));
        Assert.All(statuses, s => Assert.True(s is 200 or 429));
    }

    [Fact]
    public async Task Kestrel_enforces_per_route_body_limits_with_an_xrpc_413()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var kestrel = service.CreateVariant(new Dictionary<string, string?>());
        kestrel.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        kestrel.StartServer();
        using var client = kestrel.CreateClient();
        var alice = service.NewAccount();
        var body = new Dictionary<string, object> { ["keyPackage"] = new string('A', 300_000), ["cipherSuite"] = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" };
        using var request = alice.Request(HttpMethod.Post, "blue.catbird.mls.publishKeyPackage", body: JsonContent.Create(body));
        using var response = await client.SendAsync(request, ct).WaitAsync(Timeout, ct);
        var text = await response.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct);
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        Assert.Equal("PayloadTooLarge", json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Get_convos_pages_with_an_opaque_cursor()
    {
        var alice = service.NewAccount();
        for (var i = 0; i < 3; i++)
        {
            await CreateConvoAsync(alice, Encoding.UTF8.GetBytes($"page-{i}-{Guid.NewGuid():N}"));
        }
        var first = await GetJsonAsync(alice, "blue.catbird.mls.getConvos", "limit=2");
        Assert.Equal(2, first.GetProperty("conversations").GetArrayLength());
        var cursor = first.GetProperty("cursor").GetString()!;
        var second = await GetJsonAsync(alice, "blue.catbird.mls.getConvos", $"limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(1, second.GetProperty("conversations").GetArrayLength());
        Assert.False(second.TryGetProperty("cursor", out _));
        var ids = first.GetProperty("conversations").EnumerateArray().Concat(second.GetProperty("conversations").EnumerateArray())
            .Select(c => c.GetProperty("id").GetString()).Distinct().Count();
        Assert.Equal(3, ids);
        await AssertError(alice.Request(HttpMethod.Get, "blue.catbird.mls.getConvos", "cursor=%%%"), 400, "InvalidCursor");
    }

    [Fact]
    public async Task Bad_bodies_are_xrpc_400s()
    {
        var alice = service.NewAccount();
        await AssertError(alice.Request(HttpMethod.Post, "blue.catbird.mls.createConvo", body: new StringContent("{not json", Encoding.UTF8, "application/json")), 400, "InvalidRequest");
        await AssertError(alice.Request(HttpMethod.Post, "blue.catbird.mls.createConvo", body: JsonContent.Create(new { groupId = "zz", cipherSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" })), 400, "InvalidRequest");
        await AssertError(alice.Request(HttpMethod.Post, "blue.catbird.mls.createConvo", body: JsonContent.Create(new { groupId = "abcd", cipherSuite = "MLS_NOPE" })), 400, "InvalidCipherSuite");
        await AssertError(alice.Request(HttpMethod.Post, "blue.catbird.mls.publishKeyPackage", body: JsonContent.Create(new { keyPackage = "AAEABQAB", cipherSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" })), 400, "InvalidKeyPackage");
        await AssertError(alice.Request(HttpMethod.Post, "blue.catbird.mls.publishKeyPackage", body: JsonContent.Create(new { keyPackage = "!!!", cipherSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" })), 400, "InvalidRequest");
        await AssertError(alice.Request(HttpMethod.Get, "blue.catbird.mls.getKeyPackages", "dids=notadid"), 400, "InvalidDid");
        await AssertError(alice.Request(HttpMethod.Post, "blue.catbird.mls.publishKeyPackage", body: JsonContent.Create(new Dictionary<string, object>
            { ["keyPackage"] = new string('A', 70_000), ["cipherSuite"] = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" })), 400, "InvalidKeyPackage");
    }

    [Fact]
    public async Task Key_packages_are_validated_reserved_and_consumed_by_the_welcome_that_uses_them()
    {
        var vector = Vectors.Load("mls", "welcome.json")[0];
        var keyPackage = MlsDecoder.DecodeKeyPackage(vector.Hex("key_package"));
        var alice = service.NewAccount();
        var bob = service.NewAccount();
        var carol = service.NewAccount();
        var suiteName = MlsCipherSuite.FromId(keyPackage.CipherSuite)!.Name;
        var lifetime = keyPackage.LeafNode.Lifetime!;
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.True(lifetime.NotBefore <= now && lifetime.NotAfter > now, "the vector key package's lifetime should cover now");

        // Wrapped form, URL-safe unpadded base64.
        var urlSafe = Convert.ToBase64String(vector.Hex("key_package")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var published = await PostJsonAsync(bob, "blue.catbird.mls.publishKeyPackage", new Dictionary<string, object> { ["keyPackage"] = urlSafe, ["cipherSuite"] = suiteName });
        var hash = published.GetProperty("keyPackageHash").GetString()!;
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(keyPackage.Encoded)), hash);

        var stats = await GetJsonAsync(bob, "blue.catbird.mls.getKeyPackageStats", "");
        Assert.Equal(1, stats.GetProperty("available").GetInt64());
        Assert.True(stats.GetProperty("needsReplenish").GetBoolean());
        Assert.Equal(suiteName, stats.GetProperty("byCipherSuite")[0].GetProperty("cipherSuite").GetString());
        await AssertError(alice.Request(HttpMethod.Get, "blue.catbird.mls.getKeyPackageStats", $"did={bob.Did}"), 403, "Forbidden");

        var tampered = (byte[])keyPackage.Encoded.Clone();
        tampered[^3] ^= 1;
        await AssertError(bob.Request(HttpMethod.Post, "blue.catbird.mls.publishKeyPackage", body: JsonContent.Create(new Dictionary<string, object>
            { ["keyPackage"] = Convert.ToBase64String(tampered), ["cipherSuite"] = suiteName })), 400, "InvalidKeyPackage");

        var fetched = await GetJsonAsync(alice, "blue.catbird.mls.getKeyPackages", $"dids={bob.Did}&dids={carol.Did}");
        var reference = fetched.GetProperty("keyPackages")[0];
        Assert.Equal(hash, reference.GetProperty("keyPackageHash").GetString());
        Assert.Equal(keyPackage.Encoded, Convert.FromBase64String(reference.GetProperty("keyPackage").GetString()!));
        Assert.Equal(carol.Did, fetched.GetProperty("missing")[0].GetString());
        // Reserved for alice: carol cannot take it meanwhile.
        var forCarol = await GetJsonAsync(carol, "blue.catbird.mls.getKeyPackages", $"dids={bob.Did}");
        Assert.Equal(0, forCarol.GetProperty("keyPackages").GetArrayLength());

        var groupId = Encoding.UTF8.GetBytes("welcome-" + Guid.NewGuid().ToString("N"));
        var convo = await CreateConvoAsync(alice, groupId, suiteName, [bob.Did], vector.Hex("welcome"), [(bob.Did, hash)]);
        Assert.Equal(2, convo.GetProperty("members").GetArrayLength());
        Assert.Equal(1, convo.GetProperty("epoch").GetInt64());
        // Consumed: a second conversation cannot reuse it.
        await AssertError(CreateConvoRequest(alice, Encoding.UTF8.GetBytes("again-" + Guid.NewGuid().ToString("N")), suiteName, [bob.Did], vector.Hex("welcome"), [(bob.Did, hash)]), 409, "KeyPackageNotFound");
        var after = await GetJsonAsync(alice, "blue.catbird.mls.getKeyPackages", $"dids={bob.Did}");
        Assert.Equal(0, after.GetProperty("keyPackages").GetArrayLength());
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_first_answer_even_on_another_instance_and_a_different_request_is_a_conflict()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = service.NewAccount();
        var groupId = Encoding.UTF8.GetBytes("group-" + Guid.NewGuid().ToString("N"));
        var convoId = (await CreateConvoAsync(alice, groupId)).GetProperty("id").GetString()!;
        var key = "key-" + Guid.NewGuid().ToString("N")[..8];
        HttpRequestMessage Request(string msgId, byte fill) => alice.Request(HttpMethod.Post, "blue.catbird.mls.sendMessage", body: JsonContent.Create(new Dictionary<string, object>
        {
            ["convoId"] = convoId,
            ["msgId"] = msgId,
            ["idempotencyKey"] = key,
            ["ciphertext"] = new Dictionary<string, string> { ["$bytes"] = Convert.ToBase64String(PrivateMessage(groupId, 0, fill)) },
            ["epoch"] = 0,
            ["paddedSize"] = 512,
        }));

        var first = await ReadOkAsync(Request("idem-1", 7));
        var again = await ReadOkAsync(Request("idem-1", 7));
        Assert.Equal(first.GetRawText(), again.GetRawText());

        await using (var restarted = service.CreateVariant(new Dictionary<string, string?>()))
        {
            using var client = restarted.CreateClient();
            using var request = Request("idem-1", 7);
            using var response = await client.SendAsync(request, ct).WaitAsync(Timeout, ct);
            using var replay = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(first.GetProperty("seq").GetInt64(), replay.RootElement.GetProperty("seq").GetInt64());
            Assert.Equal(first.GetProperty("messageId").GetString(), replay.RootElement.GetProperty("messageId").GetString());
        }

        await AssertError(Request("idem-2", 8), 409, "Conflict");
        var messages = await GetJsonAsync(alice, "blue.catbird.mls.getMessages", $"convoId={convoId}");
        Assert.Single(messages.GetProperty("messages").EnumerateArray());
    }

    private static byte[] PrivateMessage(byte[] groupId, ulong epoch, byte fill, byte contentType = 1)
    {
        var head = new List<byte> { 0, 1, 0, 2, (byte)groupId.Length };
        head.AddRange(groupId);
        var epochBytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(epochBytes, epoch);
        head.AddRange(epochBytes);
        head.Add(contentType);
        head.Add(0); // authenticated_data
        head.Add(16);
        head.AddRange(Enumerable.Repeat(fill, 16));
        var ciphertextLength = 512 - head.Count - 2;
        head.Add((byte)(0x40 | (ciphertextLength >> 8)));
        head.Add((byte)ciphertextLength);
        head.AddRange(Enumerable.Repeat(fill, ciphertextLength));
        return [.. head];
    }

    private HttpRequestMessage SendRequest(TestAccount account, string convoId, string msgId, byte[] ciphertext, long epoch) =>
        account.Request(HttpMethod.Post, "blue.catbird.mls.sendMessage", body: JsonContent.Create(new Dictionary<string, object>
        {
            ["convoId"] = convoId,
            ["msgId"] = msgId,
            ["ciphertext"] = new Dictionary<string, string> { ["$bytes"] = Convert.ToBase64String(ciphertext) },
            ["epoch"] = epoch,
            ["paddedSize"] = 512,
        }));

    private async Task<JsonElement> SendAsync(TestAccount account, string convoId, string msgId, byte[] ciphertext, long epoch) =>
        await ReadOkAsync(SendRequest(account, convoId, msgId, ciphertext, epoch));

    private HttpRequestMessage CreateConvoRequest(TestAccount account, byte[] groupId, string suite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
        string[]? members = null, byte[]? welcome = null, (string Did, string Hash)[]? hashes = null)
    {
        var body = new Dictionary<string, object> { ["groupId"] = Convert.ToHexStringLower(groupId), ["cipherSuite"] = suite };
        if (members is not null)
        {
            body["initialMembers"] = members;
            body["welcomeMessage"] = Convert.ToBase64String(welcome!);
            body["keyPackageHashes"] = hashes!.Select(h => new Dictionary<string, string> { ["did"] = h.Did, ["hash"] = h.Hash }).ToArray();
        }
        return account.Request(HttpMethod.Post, "blue.catbird.mls.createConvo", body: JsonContent.Create(body));
    }

    private async Task<JsonElement> CreateConvoAsync(TestAccount account, byte[] groupId, string suite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
        string[]? members = null, byte[]? welcome = null, (string Did, string Hash)[]? hashes = null) =>
        await ReadOkAsync(CreateConvoRequest(account, groupId, suite, members, welcome, hashes));

    private async Task<JsonElement> PostJsonAsync(TestAccount account, string nsid, object body) =>
        await ReadOkAsync(account.Request(HttpMethod.Post, nsid, body: JsonContent.Create(body)));

    private async Task<JsonElement> GetJsonAsync(TestAccount account, string nsid, string query) =>
        await ReadOkAsync(account.Request(HttpMethod.Get, nsid, query));

    private async Task<JsonElement> ReadOkAsync(HttpRequestMessage request)
    {
        var ct = TestContext.Current.CancellationToken;
        using (request)
        {
            using var response = await service.Client.SendAsync(request, ct).WaitAsync(Timeout, ct);
            var text = await response.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{request.RequestUri}: {(int)response.StatusCode} {text}");
            using var json = JsonDocument.Parse(text);
            return json.RootElement.Clone();
        }
    }

    private async Task AssertError(HttpRequestMessage request, int status, string error)
    {
        var ct = TestContext.Current.CancellationToken;
        using (request)
        {
            using var response = await service.Client.SendAsync(request, ct).WaitAsync(Timeout, ct);
            var text = await response.Content.ReadAsStringAsync(ct).WaitAsync(Timeout, ct);
            Assert.True(status == (int)response.StatusCode, $"{request.RequestUri}: expected {status} {error}, got {(int)response.StatusCode} {text}");
            using var json = JsonDocument.Parse(text);
            Assert.Equal(error, json.RootElement.GetProperty("error").GetString());
            Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("message").GetString()));
        }
    }

    private static HttpRequestMessage WithToken(string nsid, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/xrpc/{nsid}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return request;
    }
}
