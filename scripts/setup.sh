#!/usr/bin/env bash
# Installs what Catbird needs on a Debian machine when it is missing, and nothing when it is all there.
#   scripts/setup.sh          servers for running the app (postgresql-15, redis-server, nats-server)
#   scripts/setup.sh --test   also the test tools (libsecp256k1, redis-tools, npm interop clients)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

missing=()
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || missing+=(postgresql-15)
command -v redis-server >/dev/null 2>&1 || [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
[[ -x /usr/sbin/nats-server || -x /usr/bin/nats-server ]] || missing+=(nats-server)
if (( want_test )); then
  command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
  ls /usr/lib/x86_64-linux-gnu/libsecp256k1.so.1 /usr/lib/*/libsecp256k1.so.1 >/dev/null 2>&1 || missing+=(libsecp256k1-1)
  command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
fi

if (( ${#missing[@]} )); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: missing packages ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2; exit 1; fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet not on PATH); see https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 1
fi

if (( want_test )); then
  interop=tests/interop
  stamp="$interop/node_modules/.catbird-lock"
  if [[ ! -f "$stamp" ]] || ! cmp -s "$interop/package-lock.json" "$stamp"; then
    echo "setup: installing the npm interop clients (tests/interop)"
    (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$interop/package-lock.json" "$stamp"
  fi
fi
