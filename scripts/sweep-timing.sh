#!/usr/bin/env bash
# Times the FIFO and the ASHA sweep of docs/sweeps back to back, PAIRS times, and prints one line
# per run with the wall time, the optimizer steps trained (rows of all trials' metrics.csv) and
# /proc/loadavg before and after. Run it from the repository root after
# 'dotnet build DeepGen.Distributed.sln -c Release'.
# Usage: scripts/sweep-timing.sh OUTPUT_DIR [PAIRS]
set -euo pipefail

output="${1:?usage: scripts/sweep-timing.sh OUTPUT_DIR [PAIRS]}"
pairs="${2:-2}"
program=src/Coordinator/bin/Release/net10.0/deepgen.dll
if [ ! -f "$program" ]; then
  echo "error: $program not found; run 'dotnet build DeepGen.Distributed.sln -c Release' first." >&2
  exit 1
fi

mkdir -p "$output"
for run in $(seq 1 "$pairs"); do
  for kind in fifo asha; do
    folder="$output/$kind-$run"
    if [ -e "$folder" ]; then
      echo "error: $folder already exists; choose another OUTPUT_DIR." >&2
      exit 1
    fi

    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    start=$(date +%s.%N)
    status=0
    # A sweep of this size takes 1 to 2 minutes on 2 cores; 15 minutes bounds a hung one.
    timeout 900 dotnet "$program" sweep "docs/sweeps/vae-lr-beta-$kind.yaml" --output "$folder" > "$folder.log" 2>&1 || status=$?
    end=$(date +%s.%N)
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    steps=0
    for metrics in "$folder"/trials/*/metrics.csv; do
      [ -f "$metrics" ] && steps=$((steps + $(wc -l < "$metrics") - 1))
    done

    echo "pair $run $kind exit=$status wall=$(echo "$end - $start" | bc) s steps=$steps load_before=[$load_before] load_after=[$load_after]"
  done
done
