#!/usr/bin/env bash
# Reproduce the LIFB-vs-LIF table of docs/results.md: test accuracy of the golden float model,
# MNIST and Fashion-MNIST, T = 1, 2, 4, 8, same architecture, epochs and seed for every cell.
# Usage: scripts/results.sh [EPOCHS] [OUT_DIR] [SEED] [DATASETS] [READOUT]
#   defaults: 3 epochs, runs/results, seed 0, "mnist fashion", current (or: spikes)
# Needs the full data sets (scripts/fetch-data.sh) and jq. Prints a markdown table. Finished
# cells are kept, so an interrupted sweep continues where it stopped.
set -euo pipefail
EPOCHS="${1:-3}"
OUT="${2:-runs/results}"
SEED="${3:-0}"
SETS="${4:-mnist fashion}"
READOUT="${5:-current}"
BIN="${LIFB_HDL:-target/release/lifb-hdl}"
[ -x "$BIN" ] || cargo build --release
mkdir -p "$OUT"
for data in $SETS; do
  for neuron in lif lifb; do
    for t in 1 2 4 8; do
      m="$OUT/$data-$neuron-T$t.json"
      if [ ! -s "$m" ]; then
        "$BIN" train --data "$data" --arch 784-256-10 --neuron "$neuron" --burst 3 -T "$t" \
          --epochs "$EPOCHS" --batch 128 --lr 2e-3 --seed "$SEED" --readout "$READOUT" --quiet -o "$m" 2>>"$OUT/log.txt"
        rm -f "$OUT/$data-$neuron-T$t.ckpt.safetensors"
      fi
    done
  done
done
acc() { jq -r '.meta.float_test_accuracy * 100 | . * 100 | round / 100' "$1"; }
echo "| data set | neuron | T=1 | T=2 | T=4 | T=8 |"
echo "|---|---|---|---|---|---|"
for data in $SETS; do
  for neuron in lif lifb; do
    row="| $data | $neuron |"
    for t in 1 2 4 8; do row="$row $(acc "$OUT/$data-$neuron-T$t.json") |"; done
    echo "$row"
  done
done
