#!/usr/bin/env bash
# Entry point of the deepgen image. The first argument picks the role, the rest go to the program:
#   coordinator [options]  runs: deepgen train --external-workers [options]
#   worker [options]       runs: deepgen-worker [options]
# Options also come from DEEPGEN_* variables (see each program's --help).
# When DEEPGEN_HOST is unset, it becomes this container's IPv4 address, which peers on the same
# network can reach. The programs' own default, 127.0.0.1, is unreachable from other containers.
# DEEPGEN_APP_DIR (default /app) is the folder of the published programs.
set -euo pipefail
app="${DEEPGEN_APP_DIR:-/app}"

if [ -z "${DEEPGEN_HOST:-}" ]; then
  DEEPGEN_HOST="$(getent ahostsv4 "$HOSTNAME" | awk 'NR == 1 { print $1 }')"
  if [ -z "$DEEPGEN_HOST" ]; then
    echo "error: the address of host $HOSTNAME was not found; set DEEPGEN_HOST to the address peers use for this container." >&2
    exit 2
  fi
  export DEEPGEN_HOST
fi

role="${1:-}"
shift || true
case "$role" in
  coordinator) exec dotnet "$app/deepgen.dll" train --external-workers "$@" ;;
  worker) exec dotnet "$app/deepgen-worker.dll" "$@" ;;
  *)
    echo "error: role '$role' is invalid; give coordinator or worker as the first argument." >&2
    exit 2
    ;;
esac
