using System.Net;
using Catbird.Proxy;

namespace Catbird.Cloud.Gateway.Tests.Proxy;

[Trait("Category", "Unit")]
public sealed class BackendAllowlistTests
{
    private static readonly BackendAllowlist AnyPublicHost = BackendAllowlist.Parse("https://*,http://*");

    [Theory]
    [InlineData("http://127.0.0.1/")]
    [InlineData("http://127.1.2.3:8080/")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.5/")]
    [InlineData("http://172.20.1.1/")]
    [InlineData("http://192.168.1.1/")]
    [InlineData("http://100.64.0.1/")]
    [InlineData("http://0.0.0.0/")]
    [InlineData("http://[::1]/")]
    [InlineData("http://[fe80::1]/")]
    [InlineData("http://[fd00:ec2::254]/")]
    [InlineData("http://[::ffff:127.0.0.1]/")]
    [InlineData("http://[::ffff:169.254.169.254]/")]
    public void Internal_addresses_are_refused_by_default(string url) => Assert.False(AnyPublicHost.IsUriAllowed(new Uri(url)));

    [Theory]
    [InlineData("https://93.184.216.34/")]
    [InlineData("https://tenant.example.com/v1")]
    [InlineData("http://[2606:4700::1111]/")]
    public void Public_addresses_and_names_pass(string url) => Assert.True(AnyPublicHost.IsUriAllowed(new Uri(url)));

    [Fact]
    public void Host_patterns_schemes_and_user_info_are_enforced()
    {
        var list = BackendAllowlist.Parse("https://*.tenants.example, backend.example");
        Assert.True(list.IsUriAllowed(new Uri("https://a.tenants.example/")));
        Assert.True(list.IsUriAllowed(new Uri("wss://a.tenants.example/ws")));
        Assert.False(list.IsUriAllowed(new Uri("https://tenants.example.evil.com/")));
        Assert.False(list.IsUriAllowed(new Uri("https://evil.com/")));
        Assert.False(list.IsUriAllowed(new Uri("http://a.tenants.example/")));
        Assert.False(list.IsUriAllowed(new Uri("ftp://backend.example/")));
        Assert.True(list.IsUriAllowed(new Uri("https://backend.example/")));
        Assert.False(list.IsUriAllowed(new Uri("https://user:pw@backend.example/")));
    }

    [Fact]
    public void Explicit_cidrs_admit_private_ranges()
    {
        var list = BackendAllowlist.Parse("http://*,10.1.0.0/16");
        Assert.True(list.IsUriAllowed(new Uri("http://10.1.2.3/")));
        Assert.False(list.IsUriAllowed(new Uri("http://10.2.0.1/")));
        Assert.True(list.IsAddressAllowed(IPAddress.Parse("::ffff:10.1.9.9")));
        Assert.False(list.IsAddressAllowed(IPAddress.Parse("169.254.169.254")));
    }

    [Fact]
    public void Unknown_schemes_in_the_setting_are_rejected() =>
        Assert.Throws<FormatException>(() => BackendAllowlist.Parse("gopher://x"));
}
