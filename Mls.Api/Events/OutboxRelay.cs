using System.Text;
using Catbird.Nats.JetStream;
using Npgsql;

namespace Catbird.Mls.Api.Events;

/// <summary>
/// Publishes the outbox (written in the same transaction as each state change) to the JetStream stream
/// <c>CATBIRD_EVENTS</c> with the row's de-duplication id as <c>Nats-Msg-Id</c>, deleting rows only after the
/// stream acknowledged them. Replicas share the work through <c>FOR UPDATE SKIP LOCKED</c>; a crash between publish
/// and delete re-publishes, and JetStream's duplicate window drops the copy.
/// </summary>
public sealed partial class OutboxRelay(NpgsqlDataSource db, NatsJSContext jetStream, ILogger<OutboxRelay> logger) : BackgroundService
{
    public const string StreamName = "CATBIRD_EVENTS";
    private static readonly TimeSpan IdleDelay = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var streamReady = false;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!streamReady)
                {
                    await jetStream.CreateOrUpdateStreamAsync(new StreamConfig { Name = StreamName, Subjects = ["catbird.events.>"] }, stoppingToken);
                    streamReady = true;
                }
                var relayed = await RelayBatchAsync(stoppingToken);
                failures = 0;
                if (relayed == 0)
                {
                    await Task.Delay(IdleDelay, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                LogRelayFailed(logger, failures, e);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * (1 << Math.Min(failures, 6))) + Random.Shared.Next(100)), stoppingToken);
            }
        }
    }

    private async Task<int> RelayBatchAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = new List<(long Id, string Subject, string MsgId, string Payload)>();
        await using (var select = new NpgsqlCommand(
            "SELECT id, subject, msg_id, payload::text FROM outbox ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED", connection, tx))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
        }
        if (rows.Count == 0)
        {
            return 0;
        }
        foreach (var row in rows)
        {
            await jetStream.PublishAsync(row.Subject, Encoding.UTF8.GetBytes(row.Payload), new NatsJSPubOpts { MsgId = row.MsgId, ExpectedStream = StreamName }, ct: ct);
        }
        await using (var delete = new NpgsqlCommand("DELETE FROM outbox WHERE id = ANY($1)", connection, tx))
        {
            delete.Parameters.AddWithValue(rows.Select(r => r.Id).ToArray());
            await delete.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return rows.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay failed ({Failures} in a row); retrying")]
    private static partial void LogRelayFailed(ILogger logger, int failures, Exception exception);
}
