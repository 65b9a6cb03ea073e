#!/usr/bin/env bash
# Training speed of `lifb-hdl train` next to snnTorch (docs/benchmarks.md, "Training against
# snnTorch"), not part of CI: the 784-256-10 LIF MLP on MNIST, T steps, batch 128, one epoch,
# spike-count readout, 4-bit inputs; snnTorch (scripts/snntorch-train-peer.py, one thread, first
# layer once per batch as lifb-hdl does) and lifb-hdl with one and two threads, alternating,
# ROUNDS times per T. Prints each run's training images per second (the epoch's loop only) and
# test accuracy after the epoch, the medians and the ratios. Uses .venv-peers (as
# scripts/bench-peers.sh, which installs it) and the data of scripts/fetch-data.sh.
#   scripts/bench-train-peers.sh      ROUNDS=5 STEPS="4 8" DATA_DIR=data by default
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/quiet.sh
ROUNDS="${ROUNDS:-5}"
STEPS="${STEPS:-4 8}"
DATA="${DATA_DIR:-data}"
VENV=.venv-peers
if ! "$VENV/bin/python" -c 'import torch, snntorch' 2>/dev/null; then
    echo "bench-train-peers: run scripts/bench-peers.sh once first (it installs torch and snntorch into $VENV)" >&2
    exit 2
fi
[ -s "$DATA/mnist/train-images-idx3-ubyte" ] || { echo "bench-train-peers: no MNIST in $DATA (scripts/fetch-data.sh)" >&2; exit 2; }
quietly "bench-train-peers: building lifb-hdl (release)" cargo build --release
BIN=target/release/lifb-hdl
OUT=out/bench-train-peers
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
echo "machine: $(nproc) cores; load before: $(uptime)"
for round in $(seq 1 "$ROUNDS"); do
    for t in $STEPS; do
        "$VENV/bin/python" scripts/snntorch-train-peer.py --data-dir "$DATA" -T "$t" --epochs 1 \
            --threads 1 2>/dev/null | sed "s/^/{\"round\": $round, \"rec\": /; s/\$/}/" >>"$RESULTS"
        for threads in 1 2; do
            # the epoch line: "epoch   1/1: loss L  train A%  test B%  N img/s  S s"
            RAYON_NUM_THREADS="$threads" "$BIN" train --data mnist --data-dir "$DATA" \
                --arch 784-256-10 --neuron lif -T "$t" --epochs 1 --readout spikes --quiet \
                -o "$OUT/lifb.json" 2>&1 >/dev/null | awk -v r="$round" -v t="$t" -v th="$threads" '
                /^epoch/ { for (i = 1; i <= NF; i++) { if ($i == "test") acc = $(i + 1) + 0; if ($i == "img/s") ips = $(i - 1) + 0 }
                           printf "{\"round\": %d, \"rec\": {\"tool\": \"lifb-hdl\", \"steps\": %d, \"threads\": %d, \"images_per_s\": %d, \"test_accuracy\": %.4f}}\n", r, t, th, ips, acc / 100 }' >>"$RESULTS"
        done
    done
    echo "round $round done; load: $(uptime | sed 's/.*load average: //')"
done
"$VENV/bin/python" - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = [json.loads(l)["rec"] for l in open(sys.argv[1])]
def runs(tool, steps, threads):
    return [r for r in rows if r["tool"] == tool and r["steps"] == steps and r["threads"] == threads]
def med(rs, key):
    return statistics.median(r[key] for r in rs)
for steps in sorted({r["steps"] for r in rows}):
    peer, one, two = runs("snntorch", steps, 1), runs("lifb-hdl", steps, 1), runs("lifb-hdl", steps, 2)
    print(f"T = {steps}: training images/s over one epoch, median of {len(peer)} alternating rounds")
    for name, rs in (("snnTorch, 1 thread", peer), ("lifb-hdl, 1 thread", one), ("lifb-hdl, 2 threads", two)):
        print(f"  {name:20s} {med(rs, 'images_per_s'):8.0f} images/s  runs {[r['images_per_s'] for r in rs]}"
              f"  test accuracy after the epoch: median {100 * med(rs, 'test_accuracy'):.2f} %")
    print(f"  ratio lifb-hdl / snnTorch (1 thread): {med(one, 'images_per_s') / med(peer, 'images_per_s'):.2f}x;"
          f" 2 threads / 1 thread: {med(two, 'images_per_s') / med(one, 'images_per_s'):.2f}x")
EOF
echo "load after: $(uptime)"
