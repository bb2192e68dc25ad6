namespace Catbird.Kas.Api.NanoTdf;

/// <summary>The bytes are not a NanoTDF header this service can read; the message says which field is wrong.</summary>
public sealed class NanoTdfFormatException(string message) : Exception(message);
