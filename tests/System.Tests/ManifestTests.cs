using System.Text.Json.Nodes;
using Catbird.Testing;

namespace Catbird.System.Tests;

[Trait("Category", "Interop")]
public sealed class ManifestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_published_manifest_matches_the_expected_file_and_validates_against_the_aspire_schema()
    {
        var directory = ServerBinaries.NewTempDirectory("manifest");
        try
        {
            var output = Path.Combine(TestPaths.RepoRoot, "AppHost", "aspire-manifest.test.json");
            var (exitCode, log) = await AppHostProcess.RunToCompletionAsync(["--publisher", "manifest", "--output-path", output], TimeSpan.FromSeconds(60));
            Assert.True(exitCode == 0, log);
            var manifest = await File.ReadAllTextAsync(output, Ct);
            File.Delete(output);

            var expected = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "tests", "System.Tests", "Expected", "aspire-manifest.json"), Ct);
            Assert.Equal(expected.ReplaceLineEndings("\n"), manifest.ReplaceLineEndings("\n"));

            var schema = Path.Combine(TestPaths.SharedDirectory, "vectors", "aspire", "aspire-8.0.json");
            var manifestPath = Path.Combine(directory, "aspire-manifest.json");
            await File.WriteAllTextAsync(manifestPath, manifest, Ct);
            var valid = await NodeScript.RunAsync("manifest/validate.mjs", [schema, manifestPath], null, TimeSpan.FromSeconds(60), Ct);
            Assert.True(valid.ExitCode == 0, valid.StdOut + valid.StdErr);

            // The validator is not a rubber stamp: a project without its path is refused.
            var broken = JsonNode.Parse(manifest)!;
            broken["resources"]!["mls-api"]!.AsObject().Remove("path");
            await File.WriteAllTextAsync(manifestPath, broken.ToJsonString(), Ct);
            var invalid = await NodeScript.RunAsync("manifest/validate.mjs", [schema, manifestPath], null, TimeSpan.FromSeconds(60), Ct);
            Assert.NotEqual(0, invalid.ExitCode);
        }
        finally
        {
            ServerBinaries.DeleteDirectory(directory);
        }
    }

    [Fact]
    public async Task Bad_options_exit_non_zero_with_a_sentence()
    {
        var (exitCode, log) = await AppHostProcess.RunToCompletionAsync(["--no-such-option"], TimeSpan.FromSeconds(60));
        Assert.Equal(2, exitCode);
        Assert.Contains("Unknown option '--no-such-option'", log);
    }
}
