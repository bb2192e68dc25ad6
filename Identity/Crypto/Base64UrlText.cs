namespace Catbird.Identity.Crypto;

/// <summary>Base64 decoding that accepts both the standard and URL alphabets, with or without padding.</summary>
public static class Base64UrlText
{
    /// <summary>Decodes <paramref name="text"/>; throws <see cref="FormatException"/> when it is not base64 in either alphabet.</summary>
    public static byte[] Decode(ReadOnlySpan<char> text)
    {
        if (!TryDecode(text, out var bytes))
        {
            throw new FormatException("not base64 or base64url");
        }
        return bytes;
    }

    /// <summary>Decodes <paramref name="text"/> in either alphabet, padded or not.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] bytes)
    {
        var trimmed = text.TrimEnd('=');
        if (trimmed.Length % 4 == 1)
        {
            bytes = [];
            return false;
        }
        var buffer = new char[trimmed.Length + (4 - trimmed.Length % 4) % 4];
        for (var i = 0; i < trimmed.Length; i++)
        {
            var c = trimmed[i];
            buffer[i] = c switch
            {
                '-' => '+',
                '_' => '/',
                '+' or '/' or (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') => c,
                _ => '\0',
            };
            if (buffer[i] == '\0')
            {
                bytes = [];
                return false;
            }
        }
        buffer.AsSpan(trimmed.Length).Fill('=');
        var output = new byte[buffer.Length / 4 * 3];
        if (!Convert.TryFromBase64Chars(buffer, output, out var written))
        {
            bytes = [];
            return false;
        }
        bytes = output[..written];
        return true;
    }
}
