namespace Catbird.Hosting.Tests;

public sealed class BuildSmokeTests
{
    [Fact]
    public void Assembly_loads() => Assert.NotNull(typeof(BuildSmokeTests).Assembly.GetName().Name);
}
