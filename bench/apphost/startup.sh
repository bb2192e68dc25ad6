#!/usr/bin/env bash
# Measures AppHost start to "all resources healthy", builds excluded:
#   cold = --fresh (initdb, empty JetStream, new secrets), warm = the same state folder again.
# usage: bench/apphost/startup.sh [runs]   (default 3 of each)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
dotnet build AppHost/AppHost.csproj -nologo -v q -clp:ErrorsOnly >/dev/null
apphost=$(dotnet msbuild AppHost/AppHost.csproj -getProperty:TargetPath)
state=$(mktemp -d /tmp/catbird-bench-XXXXXX); chmod 755 "$state"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'rm -rf "$state"' EXIT

measure() { # $1 = extra args; prints seconds to all healthy
  local start end pid
  start=$(date +%s.%N)
  dotnet "$apphost" --state-dir "$state" --dashboard-url "http://127.0.0.1:$port" $1 > "$state/apphost.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do
    if curl -sf "http://127.0.0.1:$port/api/resources" 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r and all(x["health"]=="Healthy" for x in r) else 1)' 2>/dev/null; then
      end=$(date +%s.%N); break
    fi
    sleep 0.05
  done
  kill -TERM $pid; wait $pid || true   # SIGINT is ignored by background jobs of a non-interactive shell
  [[ -n "${end:-}" ]] || { echo "did not turn healthy; output:"; cat "$state/apphost.out"; exit 1; }
  python3 -c "print(f'{$end - $start:.2f}')"
}

cold=(); warm=()
for i in $(seq 1 "$runs"); do
  cold+=("$(measure --fresh)")
  warm+=("$(measure "")")
done
echo "cold start to all healthy (s): ${cold[*]}"
echo "warm start to all healthy (s): ${warm[*]}"
