namespace Catbird.Mls.Api.Mls;

/// <summary>Bytes that are not a well-formed RFC 9420 structure (truncated, over-long, non-minimal, unknown tags, trailing data).</summary>
public sealed class MlsFormatException(string message) : Exception(message);
