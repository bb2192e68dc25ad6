namespace Catbird.Nats;

/// <summary>Base of the exceptions this client throws.</summary>
public class NatsException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The connection could not be made or was lost.</summary>
public class NatsConnectionException(string message, Exception? inner = null) : NatsException(message, inner);

/// <summary>The server refused the credentials.</summary>
public sealed class NatsAuthorizationException(string message) : NatsConnectionException(message);

/// <summary>The server sent bytes that break the protocol.</summary>
public sealed class NatsProtocolException(string message) : NatsConnectionException(message);

/// <summary>A request got no reply in time.</summary>
public sealed class NatsTimeoutException(string message) : NatsException(message);

/// <summary>A request went to a subject nobody listens on (status 503).</summary>
public sealed class NatsNoRespondersException(string subject) : NatsException($"No responders are listening on '{subject}'.");

/// <summary>A payload exceeds the server's <c>max_payload</c>.</summary>
public sealed class NatsPayloadTooLargeException(long size, long max) : NatsException($"The message is {size} bytes; the server accepts at most {max}.");

/// <summary>The server answered <c>-ERR</c>.</summary>
public sealed class NatsServerException(string message) : NatsException($"The server reported: {message}");
