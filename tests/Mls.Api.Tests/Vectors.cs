using System.Text.Json;
using Catbird.Testing;

namespace Catbird.Mls.Api.Tests;

/// <summary>Loads the shared public test vectors (../shared/vectors).</summary>
internal static class Vectors
{
    public static JsonElement Load(params string[] path)
    {
        var file = Path.Combine([TestPaths.SharedDirectory, "vectors", .. path]);
        using var document = JsonDocument.Parse(File.ReadAllBytes(file));
        return document.RootElement.Clone();
    }

    public static byte[] Hex(this JsonElement element, string property) => Convert.FromHexString(element.GetProperty(property).GetString()!);
}
