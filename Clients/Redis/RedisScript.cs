using System.Security.Cryptography;
using System.Text;

namespace Catbird.Redis;

/// <summary>
/// A Lua script with its SHA1, for <see cref="RedisCommands.EvalAsync"/>: sent by hash (<c>EVALSHA</c>), with the full
/// text only when the server does not have it cached. Create one per script and keep it (a static field).
/// </summary>
public sealed class RedisScript
{
    /// <summary>Creates the script and computes its SHA1.</summary>
    public RedisScript(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        Text = text;
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The Lua source.</summary>
    public string Text { get; }

    /// <summary>The lower-case hex SHA1 of the UTF-8 source, as <c>SCRIPT LOAD</c> returns it.</summary>
    public string Sha1 { get; }

    /// <inheritdoc />
    public override string ToString() => $"script {Sha1}";
}
