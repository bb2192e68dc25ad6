#!/usr/bin/env bash
# Installs what is missing and runs the whole application (AppHost) with its dashboard on http://127.0.0.1:18888.
#   ./run.sh --fresh                          start with empty data
#   ./run.sh --dashboard-url http://127.0.0.1:19999
#   ./run.sh --publisher manifest --output-path aspire-manifest.json
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec dotnet run --project AppHost/AppHost.csproj -- "$@"
