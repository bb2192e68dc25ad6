#!/usr/bin/env bash
# Installs what is missing, builds Catbird and runs every test project (unit, service, system, interop).
#   ./test.sh                          everything
#   ./test.sh --filter Category=Unit   only some tests (any `dotnet test --filter` expression)
set -uo pipefail
cd "$(dirname "$0")"
root=$PWD

scripts/setup.sh --test || exit 1

echo "== build"
dotnet build Catbird.sln -nologo -clp:ErrorsOnly || { echo "build failed"; exit 1; }

results=$(mktemp -d /tmp/catbird-test-results.XXXXXX)
filter=()
[[ "${1:-}" == "--filter" && -n "${2:-}" ]] && filter=(--filter "$2")

status=0
for project in $(find tests -mindepth 2 -maxdepth 2 -name '*.Tests.csproj' | sort); do
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" --no-build -nologo "${filter[@]}" \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" --blame-hang-timeout 8m \
    > "$results/$name.log" 2>&1
  code=$?
  grep -E "^\s*(Failed [A-Za-z]|Total tests:|Passed:|Failed:|Skipped:|.*error [A-Z]+[0-9]+)" "$results/$name.log" | head -60
  if (( code != 0 )); then
    status=1
    echo "-- $name failed (exit $code); last lines:"
    tail -40 "$results/$name.log"
  fi
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
(( failed > 0 )) && status=1
(( passed == 0 )) && { echo "no test passed"; status=1; }
echo "results: $results"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
