using Npgsql;

namespace Catbird.Mls.Api.Storage;

/// <summary>
/// Deletes what has expired, once a minute: key packages past their lifetime (a week after expiry, so late Welcomes
/// still match), lapsed reservations, expired Welcomes, and idempotency records older than a day. Queries already
/// ignore expired rows; this keeps the tables from growing.
/// </summary>
public sealed partial class ExpirySweeper(NpgsqlDataSource db, ILogger<ExpirySweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                var removed = await SweepAsync(stoppingToken);
                if (removed > 0)
                {
                    LogSwept(logger, removed);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogFailed(logger, e.Message); // The next tick tries again.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One sweep; returns how many rows changed.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "UPDATE key_packages SET reserved_by = NULL, reserved_until = NULL WHERE consumed_at IS NULL AND reserved_until < now()"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM key_packages WHERE consumed_at IS NULL AND expires_at < now() - interval '7 days'"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM welcomes WHERE state <> 'consumed' AND expires_at < now()"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'"));
        return await batch.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expiry sweep removed or released {Rows} rows")]
    private static partial void LogSwept(ILogger logger, int rows);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expiry sweep failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
