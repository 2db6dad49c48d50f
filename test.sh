#!/usr/bin/env bash
# Runs the whole test suite: installs the dataset the tests read, builds, tests, and prints a
# closing "N passed, N failed, N skipped" line.
set -uo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
cd "$root"

scripts/ensure-prerequisites.sh || exit 1

# The report pages are checked in headless Chromium (Debian package chromium).
if [ ! -x /usr/bin/chromium ]; then
  install_cmd=(apt-get install -y -q chromium)
  [ "$(id -u)" -ne 0 ] && install_cmd=(sudo "${install_cmd[@]}")
  echo "Chromium is missing; installing the Debian package chromium for the report-page tests..." >&2
  if ! DEBIAN_FRONTEND=noninteractive "${install_cmd[@]}" >/dev/null 2>&1; then
    update_cmd=(apt-get update -q)
    [ "$(id -u)" -ne 0 ] && update_cmd=(sudo "${update_cmd[@]}")
    "${update_cmd[@]}" >/dev/null && DEBIAN_FRONTEND=noninteractive "${install_cmd[@]}" >/dev/null || {
      echo "error: could not install chromium; install it with: apt-get install chromium" >&2
      exit 1
    }
  fi
fi

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
