#!/usr/bin/env bash
# Runs the whole test suite: installs the dataset the tests read, builds, tests, and prints a
# closing "N passed, N failed, N skipped" line.
set -uo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
cd "$root"

scripts/ensure-prerequisites.sh || exit 1

results="$root/TestResults"
rm -rf "$results"
dotnet test DeepGen.Distributed.sln -c Release --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@"
status=$?

trx="$results/tests.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | grep -o "$1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$(value passed); failed=$(value failed); total=$(value total); executed=$(value executed)
  skipped=$((total - executed))
  echo "Tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
fi
exit $status
