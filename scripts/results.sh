#!/usr/bin/env bash
# Run (or continue) the results study of docs/results.md and summarize it: `lifb-hdl study run`
# trains and measures every cell of the grid not finished yet (finished cells are skipped, so an
# interrupted study continues where it stopped), then writes results.json, results.md and the
# SVG figures into the output directory.
# Usage: scripts/results.sh [GRID] [OUT_DIR]
#   defaults: scripts/study/full.json (the whole grid), runs/study
# Needs the full data sets (scripts/fetch-data.sh).
set -euo pipefail
GRID="${1:-scripts/study/full.json}"
OUT="${2:-runs/study}"
BIN="${LIFB_HDL:-target/release/lifb-hdl}"
[ -x "$BIN" ] || cargo build --release
exec "$BIN" study run --grid "$GRID" --out "$OUT" --data-dir data
