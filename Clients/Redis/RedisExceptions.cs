namespace Catbird.Redis;

/// <summary>Base class of every exception this client throws about Redis.</summary>
public class RedisException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The server answered a command with an error reply (<c>-ERR …</c>, <c>-WRONGTYPE …</c>, <c>-NOSCRIPT …</c>).</summary>
public class RedisServerException : RedisException
{
    /// <summary>Creates the exception from the server's error text.</summary>
    public RedisServerException(string serverMessage, string? command = null)
        : base(command is null ? serverMessage : $"{command} failed: {serverMessage}")
    {
        ServerMessage = serverMessage;
        var space = serverMessage.IndexOf(' ', StringComparison.Ordinal);
        ErrorCode = space < 0 ? serverMessage : serverMessage[..space];
    }

    /// <summary>The error text as the server sent it.</summary>
    public string ServerMessage { get; }

    /// <summary>The first word of the error, such as <c>ERR</c>, <c>WRONGTYPE</c>, <c>NOSCRIPT</c> or <c>WRONGPASS</c>.</summary>
    public string ErrorCode { get; }
}

/// <summary>
/// The command did not get a reply: the connection could not be made, was lost while the command was in flight, or the
/// command timed out.
/// </summary>
public class RedisConnectionException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisConnectionException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A command got no reply within <see cref="RedisOptions.CommandTimeout"/>.</summary>
public sealed class RedisTimeoutException : RedisConnectionException
{
    /// <summary>Creates the exception.</summary>
    public RedisTimeoutException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The server refused the credentials (<c>WRONGPASS</c>, <c>NOAUTH</c>, or <c>AUTH</c> without a password set).</summary>
public sealed class RedisAuthenticationException : RedisConnectionException
{
    /// <summary>Creates the exception.</summary>
    public RedisAuthenticationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The server sent bytes that are not valid RESP, or a length beyond the configured limits. The connection is closed.</summary>
public sealed class RedisProtocolException : RedisConnectionException
{
    /// <summary>Creates the exception.</summary>
    public RedisProtocolException(string message)
        : base(message)
    {
    }
}
