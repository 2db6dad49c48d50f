#!/usr/bin/env bash
# Measures the training throughput of ./deepgen train with telemetry off and on, alternating:
# off = no run page; on = OTLP/HTTP traces of every step and metrics to a loopback sink that
# this script starts on 127.0.0.1:4318, a Prometheus endpoint and the run page.
# Usage: scripts/measure-telemetry-overhead.sh [PAIRS] [EPOCHS]   (default 5 pairs of 2 epochs)
# Prints one line per run and the ratio of summed step times, off / on (throughput on / off).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pairs="${1:-5}"
epochs="${2:-2}"
work="$(mktemp -d)"
dotnet build "$root/src/Coordinator/DeepGen.Distributed.Coordinator.csproj" -c Release -nologo >/dev/null
dll="$root/src/Coordinator/bin/Release/net10.0/deepgen.dll"

python3 - <<'PY' &
from http.server import BaseHTTPRequestHandler, HTTPServer

class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", 4318), Sink).serve_forever()
PY
sink=$!
trap 'kill $sink; rm -rf "$work"' EXIT

for ((i = 1; i <= pairs; i++)); do
  for mode in off on; do
    out="$work/$mode-$i"
    if [ "$mode" = on ]; then
      OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
        dotnet "$dll" train --model vae --workers 2 --epochs "$epochs" --output "$out" --metrics-port 19470 --trace-every 1 >"$out.log" 2>&1
    else
      dotnet "$dll" train --model vae --workers 2 --epochs "$epochs" --output "$out" --no-dashboard >"$out.log" 2>&1
    fi
  done
done

python3 - "$work" "$pairs" <<'PY'
import csv, sys

work, pairs = sys.argv[1], int(sys.argv[2])
totals = {"off": 0.0, "on": 0.0}
for i in range(1, pairs + 1):
    for mode in ("off", "on"):
        rows = list(csv.DictReader(open(f"{work}/{mode}-{i}/metrics.csv")))
        # The first 5 steps include libtorch's warm-up.
        seconds = sum(float(r["step_seconds"]) for r in rows[5:])
        totals[mode] += seconds
        print(f"{mode} run {i}: {len(rows)} steps, step time {seconds:.2f} s")
print(f"summed step time off {totals['off']:.1f} s, on {totals['on']:.1f} s; throughput ratio on/off {totals['off'] / totals['on']:.3f}")
PY
