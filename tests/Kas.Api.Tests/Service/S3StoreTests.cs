using System.Net.WebSockets;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Catbird.Kas.Api.Tests.Infrastructure;
using Catbird.Kas.Api.WebSocket;
using Catbird.Testing;

namespace Catbird.Kas.Api.Tests.Service;

[Trait("Category", "Service")]
public sealed class S3StoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Store_events_go_to_s3_when_a_bucket_is_configured()
    {
        var moto = MotoServer.FindExecutable();
        if (moto is null)
        {
            Assert.Skip("moto_server is not installed on this machine");
        }

        await using var server = await MotoServer.StartAsync(moto, Ct);
        await using var redis = await RedisServer.StartAsync(ct: Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        var bucket = "kas-" + Guid.NewGuid().ToString("N")[..12];
        using var s3 = new AmazonS3Client(new BasicAWSCredentials("test", "test"),
            new AmazonS3Config { ServiceURL = server.Url, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        using var identity = new TestIdentity();
        var configuration = identity.Configuration();
        configuration["ConnectionStrings:redis"] = redis.ConnectionString;
        configuration["S3_BUCKET"] = bucket;
        configuration["AWS_ENDPOINT_URL"] = server.Url;
        configuration["AWS_REGION"] = "us-east-1";
        configuration["AWS_ACCESS_KEY_ID"] = "test";
        configuration["AWS_SECRET_ACCESS_KEY"] = "test";
        await using var host = await KasHost.StartAsync(configuration, Ct);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + identity.AccessToken("s3-user"));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Address.Port}/ws"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var id = RandomNumberGenerator.GetBytes(10);

        await socket.SendAsync((byte[])[ArkavoMessageType.Event, .. new ArkavoEvent(ArkavoAction.Store, 1, 0, ArkavoEventData.CacheEvent, id, "in-s3"u8.ToArray(), 0, false).Write()],
            WebSocketMessageType.Binary, true, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        using var stored = await s3.GetObjectAsync(bucket, Base58.Encode(id) + "/data", Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        using var content = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(content, Ct);

        Assert.Equal([ArkavoMessageType.Event, .. "Successfully stored"u8], buffer[..received.Count]);
        Assert.Equal("in-s3"u8.ToArray(), content.ToArray());
    }
}
