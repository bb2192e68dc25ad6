using System.Text.Json;
using Catbird.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Catbird.Mls.Api.Tests;

/// <summary>
/// The acceptance flow with real ts-mls 1.6.4 clients and real <c>createServiceJwt</c> tokens: three users publish key
/// packages, one creates a conversation with another (commit + welcome), adds the third, they exchange messages, and two
/// members race to commit at the same epoch: exactly one wins and the loser catches up with getCommits.
/// </summary>
[Trait("Category", "Interop")]
public sealed class MlsInteropTests(MlsServiceFixture fixture) : IClassFixture<MlsServiceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519")]
    [InlineData("MLS_128_DHKEMP256_AES128GCM_SHA256_P256")]
    public async Task Three_ts_mls_clients_talk_through_the_delivery_service(string suite)
    {
        await using var service = fixture.CreateVariant(new Dictionary<string, string?>());
        service.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        service.StartServer();
        var url = service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var accounts = Enumerable.Range(0, 3).Select(_ => fixture.NewAccount()).ToList();
        var directory = ServerBinaries.NewTempDirectory("mlsflow");
        try
        {
            var accountsPath = Path.Combine(directory, "accounts.json");
            await File.WriteAllTextAsync(accountsPath, JsonSerializer.Serialize(accounts.Select(a => new { did = a.Did, privateKeyHex = a.PrivateKeyHex })), Ct);
            var result = await NodeScript.RunAsync("mls/flow.mjs", [url.TrimEnd('/'), MlsServiceFixture.ServiceDid, accountsPath, suite], null, TimeSpan.FromMinutes(2), Ct);
            result.EnsureSuccess($"mls/flow.mjs {suite}");

            using var outcome = JsonDocument.Parse(result.StdOut.Trim().Split('\n')[^1]);
            var received = outcome.RootElement.GetProperty("received");
            string[] Texts(string name) => [.. received.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
            Assert.Contains("hello bob", Texts("bob"));
            Assert.Contains("hi all, from bob", Texts("alice"));
            Assert.Contains("hi all, from bob", Texts("carol"));
            Assert.DoesNotContain("carol has left", Texts("carol"));
            var winner = outcome.RootElement.GetProperty("raceWinner").GetString();
            var loser = winner == "alice" ? "bob" : "alice";
            Assert.Contains("carol has left", Texts(loser));
            Assert.Equal(3, outcome.RootElement.GetProperty("epoch").GetInt32());
        }
        finally
        {
            ServerBinaries.DeleteDirectory(directory);
        }
    }
}
