using System.Net;
using System.Net.Sockets;

namespace Catbird.Proxy;

/// <summary>
/// The operator's rule for which backend URLs the gateway may reach: allowed schemes, host patterns and CIDRs.
/// Loopback, link-local (cloud metadata), private, shared and unspecified addresses are refused unless a CIDR in the list
/// covers them. The same address rule is applied to every resolved IP at connect time (<see cref="IsAddressAllowed"/>),
/// so a hostname that resolves (or re-resolves) to a forbidden address cannot be reached.
/// </summary>
public sealed class BackendAllowlist
{
    private static readonly IPNetwork[] ForbiddenByDefault =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("64:ff9b::/96"),
    ];

    private readonly string[] _schemes;
    private readonly string[] _hostPatterns;
    private readonly IPNetwork[] _allowedNetworks;

    /// <summary>Creates an allowlist.</summary>
    /// <param name="schemes">Allowed URL schemes (http, https, ws, wss).</param>
    /// <param name="hostPatterns">Exact host names or <c>*.suffix</c> patterns; <c>*</c> allows any host name.</param>
    /// <param name="allowedNetworks">Networks that may be reached even when they are loopback, link-local or private.</param>
    public BackendAllowlist(IEnumerable<string> schemes, IEnumerable<string> hostPatterns, IEnumerable<IPNetwork> allowedNetworks)
    {
        _schemes = [.. schemes.Select(s => s.ToLowerInvariant())];
        _hostPatterns = [.. hostPatterns.Select(h => h.ToLowerInvariant())];
        _allowedNetworks = [.. allowedNetworks];
    }

    /// <summary>
    /// Parses <c>BACKEND_ALLOWLIST</c>: comma-separated entries, each a CIDR (<c>10.1.0.0/16</c>), a host pattern with scheme
    /// (<c>https://*.tenants.example</c>) or a bare host pattern (allowing https only).
    /// </summary>
    public static BackendAllowlist Parse(string? value)
    {
        var schemes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var hosts = new List<string>();
        var networks = new List<IPNetwork>();
        foreach (var raw in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw.Contains('/') && !raw.Contains("://", StringComparison.Ordinal))
            {
                networks.Add(IPNetwork.Parse(raw));
                continue;
            }
            var schemeEnd = raw.IndexOf("://", StringComparison.Ordinal);
            if (schemeEnd > 0)
            {
                var scheme = raw[..schemeEnd];
                if (scheme is not ("http" or "https"))
                {
                    throw new FormatException($"Backend allowlist entry '{raw}': scheme must be http or https.");
                }
                schemes.Add(scheme);
                schemes.Add(scheme == "http" ? "ws" : "wss");
                hosts.Add(raw[(schemeEnd + 3)..].TrimEnd('/'));
            }
            else
            {
                schemes.Add("https");
                schemes.Add("wss");
                hosts.Add(raw);
            }
        }
        return new BackendAllowlist(schemes, hosts, networks);
    }

    /// <summary>Whether <paramref name="uri"/> may be stored as a backend URL: scheme and host pattern match, no user info,
    /// and a literal IP host passes <see cref="IsAddressAllowed"/>.</summary>
    public bool IsUriAllowed(Uri uri)
    {
        if (!uri.IsAbsoluteUri || !string.IsNullOrEmpty(uri.UserInfo) || !_schemes.Contains(uri.Scheme.ToLowerInvariant()))
        {
            return false;
        }
        var host = uri.IdnHost.ToLowerInvariant();
        if (!_hostPatterns.Any(pattern => HostMatches(pattern, host)))
        {
            return false;
        }
        return !IPAddress.TryParse(host.Trim('[', ']'), out var literal) || IsAddressAllowed(literal);
    }

    /// <summary>Whether a (resolved) address may be connected to.</summary>
    public bool IsAddressAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (_allowedNetworks.Any(n => n.BaseAddress.AddressFamily == address.AddressFamily && n.Contains(address)))
        {
            return true;
        }
        return !ForbiddenByDefault.Any(n => n.BaseAddress.AddressFamily == address.AddressFamily && n.Contains(address));
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> that resolves the host, drops every address this allowlist refuses
    /// and connects to the first allowed one; when none is left the connection fails with <see cref="BackendRefusedException"/>.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(IsAddressAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new BackendRefusedException($"Backend host '{endpoint.Host}' resolves only to addresses the allowlist refuses.");
        }
        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }

    private static bool HostMatches(string pattern, string host) =>
        pattern == "*"
        || (pattern.StartsWith("*.", StringComparison.Ordinal) && host.EndsWith(pattern[1..], StringComparison.Ordinal))
        || pattern == host;
}

/// <summary>The backend address was refused by the <see cref="BackendAllowlist"/>.</summary>
public sealed class BackendRefusedException(string message) : Exception(message);
