using System.Text.RegularExpressions;

namespace Catbird.Identity.Did;

/// <summary>AT Protocol DID syntax (did:method:identifier, at most 2048 characters).</summary>
public static partial class DidSyntax
{
    /// <summary>True when <paramref name="value"/> is a syntactically valid DID.</summary>
    public static bool IsValid(string? value) => value is { Length: <= 2048 } && Pattern().IsMatch(value);

    [GeneratedRegex("^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
