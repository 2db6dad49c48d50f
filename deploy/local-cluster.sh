#!/usr/bin/env bash
# Starts one coordinator and two worker processes on loopback, joined through the coordinator's
# seed-node address, and trains until the run ends. Extra arguments go to 'deepgen train', e.g.
#   deploy/local-cluster.sh --epochs 1 --output runs/multi-process
# Environment: DEEPGEN_PORT (coordinator Akka port, default 4053), DEEPGEN_WORKERS (default 2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
port="${DEEPGEN_PORT:-4053}"
workers="${DEEPGEN_WORKERS:-2}"

"$root/scripts/ensure-prerequisites.sh" "${DEEPGEN_DATA:-/usr/share/datasets/fashion-mnist}"
build_log=$(mktemp)
if ! dotnet build "$root/src/Coordinator/DeepGen.Distributed.Coordinator.csproj" -c Release -nologo >"$build_log" 2>&1; then
  cat "$build_log" >&2
  rm -f "$build_log"
  echo "error: the build failed; see the output above." >&2
  exit 1
fi
rm -f "$build_log"
bin="$root/src/Coordinator/bin/Release/net10.0"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

seed="akka.tcp://deepgen@127.0.0.1:$port"
for i in $(seq 0 $((workers - 1))); do
  DEEPGEN_WORKER_ID="worker-$i" dotnet "$bin/deepgen-worker.dll" --seed-nodes "$seed" --host 127.0.0.1 --port 0 --log-level WARNING &
  pids+=($!)
done

dotnet "$bin/deepgen.dll" train --external-workers --host 127.0.0.1 --port "$port" --workers "$workers" "$@"
