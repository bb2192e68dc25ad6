using System.Diagnostics;
using Catbird.Hosting.ApplicationModel;
using Catbird.Hosting.Dashboard;
using Catbird.Hosting.Orchestration;
using Catbird.Testing;

namespace Catbird.Hosting.Tests;

[Trait("Category", "Unit")]
public sealed class StateAndTelemetryTests
{
    [Fact]
    public void Secrets_are_generated_once_kept_private_and_deleted_by_fresh()
    {
        var root = ServerBinaries.NewTempDirectory("state");
        try
        {
            var folder = new StateFolder(root);
            ParameterResource[] parameters = [new("db-password", secret: true), new("plain", secret: false)];
            var first = folder.LoadOrCreateSecrets(parameters);
            Assert.Single(first);
            Assert.Matches("^[A-Za-z0-9]{22,}$", first["db-password"]);
            Assert.Equal(first["db-password"], new StateFolder(root).LoadOrCreateSecrets(parameters)["db-password"]);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, "secrets.json")));

            folder.DeleteData();
            Assert.NotEqual(first["db-password"], folder.LoadOrCreateSecrets(parameters)["db-password"]);
        }
        finally
        {
            ServerBinaries.DeleteDirectory(root);
        }
    }

    [Fact]
    public void A_parent_that_others_cannot_enter_is_reported_as_closed_to_postgres()
    {
        var root = ServerBinaries.NewTempDirectory("state");
        try
        {
            var closed = Path.Combine(root, "home");
            var state = Path.Combine(closed, "catbird");
            Directory.CreateDirectory(state);
            File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(closed, (UnixFileMode)0b111_000_000);
            Assert.Equal(closed, StateFolder.FirstClosedParent(state));

            File.SetUnixFileMode(closed, (UnixFileMode)0b111_101_101);
            Assert.Null(StateFolder.FirstClosedParent(state));
        }
        finally
        {
            ServerBinaries.DeleteDirectory(root);
        }
    }

    [Fact]
    public async Task Leftover_children_of_a_crashed_run_are_stopped_with_their_signal()
    {
        var root = ServerBinaries.NewTempDirectory("state");
        using var sleeper = Process.Start("sleep", "60");
        try
        {
            var folder = new StateFolder(root);
            folder.RecordProcess("sleeper", sleeper.Id, Signals.Terminate);
            File.WriteAllText(Path.Combine(folder.RunDirectory, "gone.pid"), "999999 1 15\n");

            var found = await folder.StopLeftoversAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(["sleeper"], found);
            Assert.True(sleeper.WaitForExit(5000));
            Assert.Empty(Directory.EnumerateFiles(folder.RunDirectory));
        }
        finally
        {
            if (!sleeper.HasExited)
            {
                sleeper.Kill();
            }

            ServerBinaries.DeleteDirectory(root);
        }
    }

    [Fact]
    public void Otlp_exports_are_counted_per_service()
    {
        var store = new TelemetryStore();
        store.Record(TelemetryStore.Signal.Traces, ExportRequest("mls-api", "GET /health", "POST /xrpc/x"));
        store.Record(TelemetryStore.Signal.Traces, ExportRequest("mls-api", "GET /y"));
        store.Record(TelemetryStore.Signal.Logs, ExportRequest("kas-api", (string?)null));

        var summaries = store.Summaries();
        var mls = Assert.Single(summaries, s => s.Service == "mls-api");
        Assert.Equal(3, mls.Spans);
        Assert.Equal(["GET /health", "POST /xrpc/x", "GET /y"], mls.RecentSpans);
        Assert.Equal(1, Assert.Single(summaries, s => s.Service == "kas-api").LogRecords);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x01 })]
    [InlineData(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0x0B })]
    public void Malformed_otlp_bodies_are_rejected(byte[] body) =>
        Assert.Throws<FormatException>(() => new TelemetryStore().Record(TelemetryStore.Signal.Traces, body));

    // ExportTraceServiceRequest { resource_spans { resource { attributes { key: service.name value { string_value } } } scope_spans { spans { name } } } }
    private static byte[] ExportRequest(string service, params string?[] spanNames)
    {
        var attribute = Message(1, Bytes("service.name"), 2, Message(1, Bytes(service)));
        var resource = Message(1, attribute);
        var scope = new List<byte>();
        foreach (var name in spanNames)
        {
            scope.AddRange(Field(2, name is null ? [] : Message(5, Bytes(name))));
        }

        return Message(1, [.. Field(1, resource), .. Field(2, [.. scope])]);
    }

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private static byte[] Message(int field, byte[] value, int field2 = 0, byte[]? value2 = null) =>
        value2 is null ? Field(field, value) : [.. Field(field, value), .. Field(field2, value2)];

    private static byte[] Field(int field, byte[] value) => [(byte)((field << 3) | 2), .. Varint(value.Length), .. value];

    private static byte[] Varint(int value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value > 0 ? (byte)(b | 0x80) : b);
        }
        while (value > 0);
        return [.. bytes];
    }
}
