using System.Collections.Concurrent;

namespace Catbird.Proxy;

/// <summary>
/// One circuit per backend: closed until <c>threshold</c> consecutive failures, then open for <c>openDuration</c>,
/// then half-open (a single trial request decides whether it closes or opens again).
/// </summary>
internal sealed class CircuitBreakers(int threshold, TimeSpan openDuration, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Circuit> _circuits = new(StringComparer.OrdinalIgnoreCase);

    public bool TryEnter(string backend)
    {
        var circuit = _circuits.GetOrAdd(backend, static _ => new Circuit());
        lock (circuit)
        {
            if (circuit.OpenUntil is not { } until)
            {
                return true;
            }
            if (time.GetUtcNow() < until || circuit.TrialInFlight)
            {
                return false;
            }
            circuit.TrialInFlight = true;
            return true;
        }
    }

    public void Release(string backend, bool success)
    {
        var circuit = _circuits.GetOrAdd(backend, static _ => new Circuit());
        lock (circuit)
        {
            circuit.TrialInFlight = false;
            if (success)
            {
                circuit.Failures = 0;
                circuit.OpenUntil = null;
                return;
            }
            circuit.Failures++;
            if (circuit.OpenUntil is not null || circuit.Failures >= threshold)
            {
                circuit.OpenUntil = time.GetUtcNow() + openDuration;
            }
        }
    }

    private sealed class Circuit
    {
        public int Failures;
        public DateTimeOffset? OpenUntil;
        public bool TrialInFlight;
    }
}
