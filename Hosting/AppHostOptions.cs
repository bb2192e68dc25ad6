namespace Catbird.Hosting;

/// <summary>The AppHost's command line.</summary>
public sealed record AppHostOptions
{
    /// <summary>The default dashboard address.</summary>
    public static readonly Uri DefaultDashboardUrl = new("http://127.0.0.1:18888");

    /// <summary>Start with empty data (the state folder's data is deleted first).</summary>
    public bool Fresh { get; init; }

    /// <summary>The state folder (data, secrets, logs, pid files).</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory();

    /// <summary>Where the dashboard listens.</summary>
    public Uri DashboardUrl { get; init; } = DefaultDashboardUrl;

    /// <summary><c>manifest</c> or <c>kubernetes</c> to publish instead of running.</summary>
    public string? Publisher { get; init; }

    /// <summary>Where the publisher writes.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Print usage and exit.</summary>
    public bool Help { get; init; }

    /// <summary>How long a resource may take to turn healthy.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The usage text.</summary>
    public const string Usage = """
        Catbird AppHost: runs the whole application locally, or publishes deployment artefacts.

        Usage: dotnet run --project AppHost -- [options]

          --fresh                      start with empty data (deletes the state folder's data)
          --state-dir <dir>            state folder (default: $XDG_STATE_HOME/catbird, ~/.local/state/catbird, or /var/lib/catbird as root)
          --dashboard-url <url>        dashboard address (default: http://127.0.0.1:18888)
          --start-timeout <seconds>    how long each resource may take to turn healthy (default: 120)
          --publisher manifest         write an Aspire-format manifest (for azd) to --output-path and exit
          --publisher kubernetes       write Kubernetes manifests (one multi-document YAML file) to --output-path and exit
          --output-path <file>         where the publisher writes
          --help                       this text
        """;

    /// <summary>Parses the command line.</summary>
    /// <exception cref="ArgumentException">An unknown option or a missing value, with a sentence naming it.</exception>
    public static AppHostOptions Parse(IReadOnlyList<string> args)
    {
        var options = new AppHostOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Option {arg} needs a value.");
                }

                return args[++i];
            }

            options = arg switch
            {
                "--fresh" => options with { Fresh = true },
                "--state-dir" => options with { StateDirectory = Path.GetFullPath(Value()) },
                "--dashboard-url" => options with { DashboardUrl = ParseUrl(Value()) },
                "--start-timeout" => options with { StartTimeout = TimeSpan.FromSeconds(ParsePositive(arg, Value())) },
                "--publisher" => options with { Publisher = ParsePublisher(Value()) },
                "--output-path" => options with { OutputPath = Value() },
                "--help" or "-h" or "-?" => options with { Help = true },
                _ => throw new ArgumentException($"Unknown option '{arg}'. Run with --help for the options."),
            };
        }

        if (options.Publisher is not null && options.OutputPath is null)
        {
            throw new ArgumentException("--publisher needs --output-path <file>.");
        }

        return options;
    }

    /// <summary>The default state folder for this user.</summary>
    public static string DefaultStateDirectory()
    {
        if (Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } xdg)
        {
            return Path.Combine(xdg, "catbird");
        }

        // As root, postgres runs as the postgres user and must reach its data directory: /root is closed to it.
        if (Environment.UserName == "root")
        {
            return "/var/lib/catbird";
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "catbird");
    }

    private static Uri ParseUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
            ? uri
            : throw new ArgumentException($"--dashboard-url '{value}' is not an http:// URL.");

    private static int ParsePositive(string option, string value) =>
        int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new ArgumentException($"{option} '{value}' is not a positive number.");

    private static string ParsePublisher(string value) => value switch
    {
        "manifest" or "kubernetes" => value,
        _ => throw new ArgumentException($"Unknown publisher '{value}'; the publishers are 'manifest' and 'kubernetes'."),
    };
}
