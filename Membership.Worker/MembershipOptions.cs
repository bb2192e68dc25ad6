using Microsoft.Extensions.Options;

namespace Catbird.Membership.Worker;

/// <summary>Settings, read from the environment names of the issue (<c>MEMBERSHIP_STORE</c>, <c>MEMBERSHIP_DB</c>).</summary>
public sealed class MembershipOptions
{
    /// <summary><c>sqlite</c> (the embedded default). <c>kv</c> (JetStream KV) is not available yet.</summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>The SQLite file; default <c>$CATBIRD_STATE_DIR/membership.db</c>, else <c>membership.db</c> beside the process.</summary>
    public string? Database { get; set; }

    /// <summary>How long a membership answer may be served from memory before the store is asked again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The file actually used.</summary>
    public string DatabasePath(string? stateDirectory) =>
        !string.IsNullOrWhiteSpace(Database) ? Database
        : Path.Combine(string.IsNullOrWhiteSpace(stateDirectory) ? AppContext.BaseDirectory : stateDirectory, "membership.db");

    /// <summary>Binds the environment names.</summary>
    public static void Bind(MembershipOptions options, IConfiguration configuration)
    {
        options.Store = configuration["MEMBERSHIP_STORE"] ?? options.Store;
        options.Database = configuration["MEMBERSHIP_DB"] ?? options.Database;
    }
}

/// <summary>Refuses settings the worker cannot honour, naming them.</summary>
internal sealed class MembershipOptionsValidator : IValidateOptions<MembershipOptions>
{
    public ValidateOptionsResult Validate(string? name, MembershipOptions options) => options.Store switch
    {
        "sqlite" => ValidateOptionsResult.Success,
        "kv" => ValidateOptionsResult.Fail("MEMBERSHIP_STORE=kv: the JetStream KV store is not available in this build; use MEMBERSHIP_STORE=sqlite."),
        var other => ValidateOptionsResult.Fail($"MEMBERSHIP_STORE='{other}' is not a store; use 'sqlite'."),
    };
}
