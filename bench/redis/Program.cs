using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Catbird.Redis;
using Catbird.Redis.Bench;

// Compares Catbird.Redis with redis-benchmark on the same server, in the same run:
//   GET/SET with 50 concurrent callers, pipelined 16 deep (50 callers x 16), one caller (latency-bound), then
//   allocations per GET. redis-benchmark opens one connection per client; Catbird.Redis multiplexes all callers on one
//   connection, so with 50 callers its commands are naturally pipelined.
// Usage: dotnet run -c Release --project bench/redis -- [--requests 200000] [--port 6379 (use a running server)]
var requests = ArgumentValue(args, "--requests") ?? 200_000;
var port = ArgumentValue(args, "--port");
const int Callers = 50;
const int Depth = 16;

await using var server = port is null ? await LocalRedis.StartAsync() : null;
var serverPort = port ?? server!.Port;
Console.WriteLine($"redis-server on 127.0.0.1:{serverPort}; {requests:N0} requests per test, {Callers} callers, pipeline depth {Depth}, {Environment.ProcessorCount} cores");

await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{serverPort}"));
ReadOnlyMemory<byte> value = "xxx"u8.ToArray(); // redis-benchmark's default 3-byte value
const string Key = "key:__rand_int__";              // redis-benchmark's key without -r
await redis.SetAsync(Key, value);

// Warm up the JIT and the pools.
await RunCallersAsync(20_000, Callers, 1, r => r.GetAsync(Key));

var results = new List<(string Test, double Baseline, double Ours)>();
foreach (var (name, callers, depth) in new[] { ("SET", Callers, 1), ("GET", Callers, 1), ("SET -P 16", Callers, Depth), ("GET -P 16", Callers, Depth), ("GET -c 1", 1, 1) })
{
    var isSet = name.StartsWith("SET", StringComparison.Ordinal);
    var count = callers == 1 ? requests / 4 : requests;
    var baseline = await RedisBenchmarkTool.RunAsync(serverPort, isSet ? "set" : "get", count, callers, depth);
    var ours = isSet
        ? await RunCallersAsync(count, callers, depth, r => r.SetAsync(Key, value))
        : await RunCallersAsync(count, callers, depth, r => r.GetAsync(Key));
    results.Add((name, baseline, ours));
}

Console.WriteLine();
Console.WriteLine($"{"test",-12} {"redis-benchmark",16} {"Catbird.Redis",14} {"ratio",7}");
foreach (var (test, baseline, ours) in results)
{
    Console.WriteLine($"{test,-12} {baseline,12:N0} r/s {ours,10:N0} r/s {ours / baseline,6:0.00}x");
}

// Allocations per GET of a 3-byte value: one caller, awaiting each command (the result array is 32 bytes).
const int AllocationRuns = 50_000;
for (var i = 0; i < 5_000; i++)
{
    await redis.GetAsync(Key);
}

var before = GC.GetTotalAllocatedBytes(precise: true);
for (var i = 0; i < AllocationRuns; i++)
{
    await redis.GetAsync(Key);
}

var perGet = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)AllocationRuns;
Console.WriteLine();
Console.WriteLine($"allocated per GET (whole process, sequential): {perGet:0} bytes (the 3-byte result array itself is 32 bytes)");

return;

async Task<double> RunCallersAsync<T>(int total, int callers, int depth, Func<RedisCommands, ValueTask<T>> command)
{
    var perCaller = total / callers / depth;
    var started = Stopwatch.GetTimestamp();
    var tasks = new Task[callers];
    for (var c = 0; c < callers; c++)
    {
        tasks[c] = Task.Run(async () =>
        {
            var pending = new ValueTask<T>[depth];
            for (var i = 0; i < perCaller; i++)
            {
                if (depth == 1)
                {
                    await command(redis);
                    continue;
                }

                // depth commands sent together (one write, one flush), then all awaited: redis-benchmark's -P.
                var batch = redis.CreateBatch();
                for (var d = 0; d < depth; d++)
                {
                    pending[d] = command(batch);
                }

                await batch.FlushAsync();
                for (var d = 0; d < depth; d++)
                {
                    await pending[d];
                }
            }
        });
    }

    await Task.WhenAll(tasks);
    return perCaller * callers * depth / Stopwatch.GetElapsedTime(started).TotalSeconds;
}

static int? ArgumentValue(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : null;
}

namespace Catbird.Redis.Bench
{
    /// <summary>Runs <c>redis-benchmark</c> and reads its requests per second.</summary>
    internal static class RedisBenchmarkTool
    {
        public static async Task<double> RunAsync(int port, string test, int requests, int clients, int pipeline)
        {
            var start = new ProcessStartInfo("redis-benchmark")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-t", test, "-n", requests.ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture), "-P", pipeline.ToString(CultureInfo.InvariantCulture), "--csv" })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-benchmark did not start (apt-get install redis-tools).");
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            // --csv prints: "test","rps","avg_latency_ms",...
            foreach (var line in output.Split('\n'))
            {
                var fields = line.Split(',');
                if (fields.Length >= 2 && fields[0].Trim('"').Equals(test, StringComparison.OrdinalIgnoreCase))
                {
                    return double.Parse(fields[1].Trim('"'), CultureInfo.InvariantCulture);
                }
            }

            throw new InvalidOperationException($"Could not read redis-benchmark output: {output}");
        }
    }

    /// <summary>A throwaway redis-server on a free port, stopped with SIGTERM.</summary>
    internal sealed class LocalRedis : IAsyncDisposable
    {
        private readonly Process _process;

        private LocalRedis(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<LocalRedis> StartAsync()
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning" })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (apt-get install redis-server).");
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    return new LocalRedis(process, port);
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(20);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _ = Kill(_process.Id, 15);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill();
                }
            }

            _process.Dispose();
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
        private static extern int Kill(int pid, int signal);
    }
}
