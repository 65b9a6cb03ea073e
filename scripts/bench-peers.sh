#!/usr/bin/env bash
# lifb-hdl's golden integer simulator next to snnTorch (docs/benchmarks.md), not part of CI:
# installs torch and snntorch from PyPI into .venv-peers (about 5 GB), writes the benchmark case
# (the 784-256-10 network and its input images) with `lifb-hdl bench --export`, then runs the
# snnTorch peer (scripts/snntorch-peer.py: first-layer current once per image, best of several
# batch sizes, one thread) and `lifb-hdl bench` (one and two threads) on that same case,
# alternating, ROUNDS times per T, and prints every figure, the medians and the ratios.
#   scripts/bench-peers.sh            ROUNDS=5 STEPS="4 8" IMAGES=20000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/quiet.sh
ROUNDS="${ROUNDS:-5}"
STEPS="${STEPS:-4 8}"
IMAGES="${IMAGES:-20000}"
VENV=.venv-peers
if [ ! -x "$VENV/bin/python" ]; then
    quietly "bench-peers: creating the venv $VENV" python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import torch, snntorch, numpy' 2>/dev/null; then
    quietly "bench-peers: installing torch, snntorch and numpy into $VENV (PyPI, about 5 GB)" \
        "$VENV/bin/pip" install --quiet --disable-pip-version-check torch snntorch numpy
fi
quietly "bench-peers: building lifb-hdl (release)" cargo build --release
BIN=target/release/lifb-hdl
OUT=out/bench-peers
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
echo "machine: $(nproc) cores; load before: $(uptime)"
for round in $(seq 1 "$ROUNDS"); do
    for t in $STEPS; do
        # The case (weights, images) is the same for every T; written once per T for its header.
        "$BIN" bench --encoding direct --steps "$t" --images 4096 --export "$OUT/case" >/dev/null
        "$VENV/bin/python" scripts/snntorch-peer.py --case "$OUT/case" --steps "$t" \
            --images "$IMAGES" 2>/dev/null | grep '"best": true' | sed "s/^/{\"round\": $round, \"tool\": \"snntorch\", \"rec\": /; s/\$/}/" >>"$RESULTS"
        for threads in 1 2; do
            "$BIN" bench --encoding direct --steps "$t" --images "$((IMAGES * 5))" \
                --threads "$threads" --json |
                sed "s/^/{\"round\": $round, \"tool\": \"lifb-hdl\", \"rec\": /; s/\$/}/" >>"$RESULTS"
        done
    done
    echo "round $round done; load: $(uptime | sed 's/.*load average: //')"
done
"$VENV/bin/python" - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(tool, steps, threads):
    v = [r["rec"]["images_per_s"] for r in rows
         if r["tool"] == tool and r["rec"]["steps"] == steps and r["rec"]["threads"] == threads]
    return statistics.median(v), v
for steps in sorted({r["rec"]["steps"] for r in rows}):
    peer, pv = med("snntorch", steps, 1)
    one, ov = med("lifb-hdl", steps, 1)
    two, tv = med("lifb-hdl", steps, 2)
    batches = sorted({r["rec"]["batch"] for r in rows if r["tool"] == "snntorch" and r["rec"]["steps"] == steps})
    print(f"T = {steps}: images/s, median of {len(pv)} alternating rounds")
    print(f"  snnTorch (hoisted, best batch {batches}, 1 thread): {peer:10.0f}   runs {[round(x) for x in pv]}")
    print(f"  lifb-hdl golden, 1 thread:                     {one:10.0f}   runs {[round(x) for x in ov]}")
    print(f"  lifb-hdl golden, 2 threads:                    {two:10.0f}   runs {[round(x) for x in tv]}")
    print(f"  ratio lifb-hdl / snnTorch (1 thread): {one / peer:.1f}x; 2 threads / 1 thread: {two / one:.2f}x")
EOF
echo "load after: $(uptime)"
