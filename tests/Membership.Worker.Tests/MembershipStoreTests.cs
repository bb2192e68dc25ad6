using Catbird.Membership.Worker.Storage;
using Catbird.Testing;

namespace Catbird.Membership.Worker.Tests;

[Trait("Category", "Unit")]
public sealed class MembershipStoreTests : IDisposable
{
    private readonly string _directory = ServerBinaries.NewTempDirectory("membership");
    private readonly SqliteMembershipStore _store;

    public MembershipStoreTests() => _store = new SqliteMembershipStore(Path.Combine(_directory, "m.db"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Created_conversations_become_rooms_with_their_members()
    {
        Assert.True(await _store.ApplyAsync(new ConvoEvent("created", "c1", 1, ["did:plc:alice", "did:plc:bob"]), "c1:created", Ct));
        Assert.Equal(new MembershipAnswer(true, 1), await _store.CheckAsync("c1", "did:plc:bob", Ct));
        Assert.Equal(new MembershipAnswer(false, 1), await _store.CheckAsync("c1", "did:plc:mallory", Ct));
        Assert.Equal(new MembershipAnswer(false, 0), await _store.CheckAsync("unknown", "did:plc:alice", Ct));
    }

    [Fact]
    public async Task A_redelivered_event_changes_nothing()
    {
        await _store.ApplyAsync(new ConvoEvent("created", "c2", 1, ["did:plc:alice"]), "e1", Ct);
        await _store.ApplyAsync(new ConvoEvent("members-removed", "c2", 2, ["did:plc:alice"]), "e2", Ct);
        Assert.False(await _store.ApplyAsync(new ConvoEvent("created", "c2", 1, ["did:plc:alice"]), "e1", Ct));
        Assert.Equal(new MembershipAnswer(false, 2), await _store.CheckAsync("c2", "did:plc:alice", Ct));
    }

    [Fact]
    public async Task Members_are_added_and_removed_and_epochs_only_move_forward()
    {
        await _store.ApplyAsync(new ConvoEvent("created", "c3", 1, ["did:plc:alice"]), "a", Ct);
        await _store.ApplyAsync(new ConvoEvent("members-added", "c3", 2, ["did:plc:bob", "did:plc:carol"]), "b", Ct);
        await _store.ApplyAsync(new ConvoEvent("members-removed", "c3", 3, ["did:plc:bob"]), "c", Ct);
        await _store.ApplyAsync(new ConvoEvent("message", "c3", 2, null), "d", Ct);
        Assert.Equal(["did:plc:alice", "did:plc:carol"], await _store.MembersAsync("c3", Ct));
        Assert.Equal(new MembershipAnswer(true, 3), await _store.CheckAsync("c3", "did:plc:carol", Ct));
    }

    [Fact]
    public async Task The_store_persists_across_reopening()
    {
        await _store.ApplyAsync(new ConvoEvent("created", "c4", 5, ["did:plc:alice"]), "x", Ct);
        using var reopened = new SqliteMembershipStore(Path.Combine(_directory, "m.db"));
        Assert.Equal(new MembershipAnswer(true, 5), await reopened.CheckAsync("c4", "did:plc:alice", Ct));
        Assert.False(await reopened.ApplyAsync(new ConvoEvent("created", "c4", 5, ["did:plc:alice"]), "x", Ct));
    }

    public void Dispose()
    {
        _store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        ServerBinaries.DeleteDirectory(_directory);
    }
}
