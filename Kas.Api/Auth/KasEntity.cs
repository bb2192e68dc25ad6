namespace Catbird.Kas.Api.Auth;

/// <summary>
/// The authenticated caller of a KAS request, from its bearer token: the subject, other names it may appear under in
/// a policy's dissemination list, entitlements (attribute value FQNs), and the key the signed request token must be
/// signed with (a client signing key claim, or a DPoP key thumbprint).
/// </summary>
public sealed record KasEntity(
    string Subject,
    string Kind,
    IReadOnlyList<string> Identifiers,
    IReadOnlyList<string> Entitlements,
    string? ClientSigningKeyPem,
    string? ConfirmationThumbprint,
    string AccessToken)
{
    /// <summary>Whether any of the entity's names equals <paramref name="name"/> (case-insensitive).</summary>
    public bool IsNamed(string name) => Identifiers.Any(id => string.Equals(id, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Why a bearer token was refused.</summary>
public sealed class BearerTokenException(string message) : Exception(message);
