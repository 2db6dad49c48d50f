#!/usr/bin/env bash
# Runs the whole test suite: installs the dataset the tests read, builds, tests, and prints a
# closing "N passed, N failed, N skipped" line.
set -uo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
cd "$root"

scripts/ensure-prerequisites.sh || exit 1

# The report and run pages are checked in headless Chromium (Debian package chromium), and the
# metrics endpoint is scraped by a real Prometheus server (Debian package prometheus) that the
# tests start on loopback with their own configuration.
install_package() {
  local binary="$1" package="$2" purpose="$3"
  shift 3
  [ -x "$binary" ] && return 0
  local install_cmd=(apt-get install -y -q "$@" "$package")
  [ "$(id -u)" -ne 0 ] && install_cmd=(sudo "${install_cmd[@]}")
  echo "$binary is missing; installing the Debian package $package for $purpose..." >&2
  if ! DEBIAN_FRONTEND=noninteractive "${install_cmd[@]}" >/dev/null 2>&1; then
    local update_cmd=(apt-get update -q)
    [ "$(id -u)" -ne 0 ] && update_cmd=(sudo "${update_cmd[@]}")
    "${update_cmd[@]}" >/dev/null && DEBIAN_FRONTEND=noninteractive "${install_cmd[@]}" >/dev/null || {
      echo "error: could not install $package; install it with: apt-get install $package" >&2
      return 1
    }
  fi
}
install_package /usr/bin/chromium chromium "the report-page tests" || exit 1
# Without recommends: the tests need only the server binary, not the node exporter or web assets.
install_package /usr/bin/prometheus prometheus "the metrics tests" --no-install-recommends || exit 1

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
