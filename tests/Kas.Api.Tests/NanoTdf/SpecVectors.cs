namespace Catbird.Kas.Api.Tests.NanoTdf;

/// <summary>The examples of the NanoTDF specification (opentdf/spec schema/nanotdf, sections 6.1 and 6.2) and derived values.</summary>
internal static class SpecVectors
{
    public const string Example61Hex =
        "4c314c010e6b61732e766972747275 2e636f6d80" +
        "800001156b61732e7669727472752e636f6d2f70" +
        "6f6c696379b5e413a60211e5f17b2234a0cd3f36" +
        "ff7bba6d8fe8df23f62c9d09356f8582f8a9cf15" +
        "126c8a9da46c5e4e0cbcc8269719ac051b80625c" +
        "c75403036ffb82871f02f77fbae52609dac5e8eb" +
        "f786e11b7aedd70f8980f9480c7e671cbaab8e24" +
        "509200 00109ebd091752268e03f9fd8014af7ccb" +
        "0602d5cfb97f5524c5903f6273620593 36aa71a4" +
        "c2ee16d05b78340397e2ae071d2e9d9b8ae330ef" +
        "7023ea5699b5204bbc7d568dfffa3ffa5357e1fc" +
        "d290f31ad1ef62ce46f0d95df4316bcaf3728d4f" +
        "75cd1595010bf2042074ac94de2976ba02f3";

    public const string Example61RecipientPkcs8 =
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRywXmrI1J07LZni8xaoKhXj8WbdDHdjd" +
        "N62+tgxjdhihRANCAARon4RjqRNA40eEdBT172emATq3I2siKccLcXl07nTrbAu4enVDo9T4LfQ4eZ0y" +
        "x/KkIX2HylxzkAEoBxzVpBLN";

    public const string Example62Hex =
        "4c314c010f6b61732e6578616d706c652e636f6d" +
        "803500011d6b61732e6578616d706c652e636f6d" +
        "2f706f6c6963792f61626364656661aa068d76c2" +
        "0df3a563763398629f523072d086d44d4be66e25" +
        "74e13bc32cc7022a4cdc7aa7efcba603c1983f87" +
        "72ef1d10e82e0d4006f4bddd9278793566 7303e8" +
        "b33f449a73927713d4a4a2b4e5e9452e2f053433" +
        "9d35911bdfa15ee18b3adb00002b50e49cfaab69" +
        "1852261b2d6360831acbd5f203fbef17f946befe" +
        "c79ee5119ba092333b2c0eeacb9e2f8dc8";

    public const string Example62RecipientPkcs8 =
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWmLjd6gDd2rwU48m2vVsDfVJ6fKCYt4y" +
        "ZA8kSu9O3hehRANCAAQwmFsrcVyKJpSQBMVVrIZ0v0XIin+BSdS/ENvcyIc2YKKIK43zkpPR13ibjsy1" +
        "UhZJItQFlBChYCFDPUkANqcs";

    public static byte[] Example61 => Hex(Example61Hex);

    public static byte[] Example62 => Hex(Example62Hex);

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}
