namespace Catbird.Kas.Api.Keys;

/// <summary>
/// The KAS keys in use, several per algorithm for rotation. The first key listed for an algorithm is its current
/// (default) key: new files get it, files without a kid try it first.
/// </summary>
public sealed class KasKeyRing : IDisposable
{
    private readonly Dictionary<string, KasKey> _byKid;

    /// <summary>Makes a ring; kids must be unique.</summary>
    public KasKeyRing(IReadOnlyList<KasKey> keys)
    {
        if (keys.Count == 0)
        {
            throw new InvalidOperationException("The KAS key ring is empty.");
        }

        Keys = keys;
        _byKid = new Dictionary<string, KasKey>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!_byKid.TryAdd(key.Kid, key))
            {
                throw new InvalidOperationException($"Two KAS keys share the kid '{key.Kid}'.");
            }
        }
    }

    /// <summary>Every key, in configuration order.</summary>
    public IReadOnlyList<KasKey> Keys { get; }

    /// <summary>The key with this kid, or null.</summary>
    public KasKey? Find(string kid) => _byKid.GetValueOrDefault(kid);

    /// <summary>The current key of an algorithm (<c>ec:secp256r1</c>, <c>rsa:2048</c>, or <c>rsa</c> for any RSA size), or null.</summary>
    public KasKey? Current(string algorithm) => ForAlgorithm(algorithm).FirstOrDefault();

    /// <summary>Every key of an algorithm, current first.</summary>
    public IEnumerable<KasKey> ForAlgorithm(string algorithm)
    {
        var wanted = algorithm.Trim();
        return Keys.Where(k => string.Equals(k.Algorithm, wanted, StringComparison.OrdinalIgnoreCase)
                               || (string.Equals(wanted, "rsa", StringComparison.OrdinalIgnoreCase) && k.Rsa is not null));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var key in Keys)
        {
            key.Dispose();
        }
    }
}
