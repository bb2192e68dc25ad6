using Xunit;

namespace Catbird.Testing;

/// <summary>A redis-server shared by the tests of a class or collection.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    /// <summary>The running server.</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _server = await RedisServer.StartAsync(ct: TestDeadline.Token(TimeSpan.FromSeconds(60)));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A nats-server with JetStream shared by the tests of a class or collection.</summary>
public sealed class NatsFixture : IAsyncLifetime
{
    private NatsServer? _server;

    /// <summary>The running server.</summary>
    public NatsServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _server = await NatsServer.StartAsync(ct: TestDeadline.Token(TimeSpan.FromSeconds(60)));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A PostgreSQL server shared by the tests of a class or collection; each test creates its own database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    /// <summary>The running server.</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartAsync(TestDeadline.Token(TimeSpan.FromSeconds(90)));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>Cancellation tokens with a deadline, for fixture set-up that has no test token.</summary>
public static class TestDeadline
{
    /// <summary>A token cancelled after <paramref name="timeout"/>.</summary>
    public static CancellationToken Token(TimeSpan timeout) => new CancellationTokenSource(timeout).Token;
}
