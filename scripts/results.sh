#!/usr/bin/env bash
# Run (or continue) the results study of docs/results.md and summarize it: `lifb-hdl study run`
# trains and measures every cell of the grid not finished yet (finished cells are skipped, so an
# interrupted study continues where it stopped), then `lifb-hdl study report` writes results.json,
# results.md and the SVG figures into the output directory.
# Usage: [JOBS=N] scripts/results.sh [GRID] [OUT_DIR]
#   defaults: scripts/study/full.json (the whole grid), runs/study
#   JOBS=N runs N shards of the grid at once on this machine, one training thread each (default:
#   the number of cores; one thread per training is the fastest here, docs/benchmarks.md; the
#   second-long measurement after each training uses every core).
#   On a cluster, `lifb-hdl study run ... --emit slurm --shards N` prints the job file instead
#   (docs/scale-out.md).
# Needs the full data sets (scripts/fetch-data.sh).
set -euo pipefail
GRID="${1:-scripts/study/full.json}"
OUT="${2:-runs/study}"
JOBS="${JOBS:-$(nproc)}"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "JOBS must be a whole number >= 1, got '$JOBS'" >&2; exit 2; }
BIN="${LIFB_HDL:-target/release/lifb-hdl}"
[ -x "$BIN" ] || cargo build --release
pids=()
# Background jobs of a script ignore Ctrl-C: stop them with the script.
trap 'kill "${pids[@]}" 2>/dev/null || true; exit 130' INT
trap 'kill "${pids[@]}" 2>/dev/null || true; exit 143' TERM
for ((i = 0; i < JOBS; i++)); do
    RAYON_NUM_THREADS=1 "$BIN" study run --grid "$GRID" --out "$OUT" --data-dir data \
        --shard "$i/$JOBS" &
    pids+=("$!")
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || { echo "a shard failed; rerun to continue where it stopped" >&2; exit 1; }
exec "$BIN" study report --out "$OUT"
