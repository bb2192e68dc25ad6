namespace Catbird.Mls.Api.Tests;

[Trait("Category", "Unit")]
public sealed class MlsOptionsTests
{
    [Fact]
    public void Missing_service_did_is_named_in_the_failure()
    {
        var result = new MlsOptionsValidator().Validate(null, new MlsOptions());
        Assert.True(result.Failed);
        Assert.Contains("SERVICE_DID", result.FailureMessage);
    }

    [Fact]
    public void Valid_settings_pass_and_bad_ones_are_named()
    {
        Assert.True(new MlsOptionsValidator().Validate(null, new MlsOptions { ServiceDid = "did:web:mls.example.com" }).Succeeded);
        var bad = new MlsOptionsValidator().Validate(null, new MlsOptions
        {
            ServiceDid = "did:web:mls.example.com",
            PlcDirectoryUrl = "ftp://plc",
            JtiTtlSeconds = 0,
        });
        Assert.Contains("PLC_DIRECTORY_URL", bad.FailureMessage);
        Assert.Contains("JTI_TTL_SECONDS", bad.FailureMessage);
        Assert.Equal(["did:web:mls.example.com", "did:web:mls.example.com#atproto_mls"], new MlsOptions { ServiceDid = "did:web:mls.example.com" }.Audiences);
    }

    [Theory]
    [InlineData(512, true)]
    [InlineData(8192, true)]
    [InlineData(16384, true)]
    [InlineData(10 * 1024 * 1024, true)]
    [InlineData(3000, false)]
    [InlineData(256, false)]
    [InlineData(10 * 1024 * 1024 + 8192, false)]
    public void Padded_sizes_follow_the_lexicon(long size, bool allowed)
    {
        Assert.Equal(allowed, Apis.MessageApi.IsAllowedPaddedSize(size));
    }
}
