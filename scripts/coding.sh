#!/usr/bin/env bash
# Input coding in training (docs/results.md, "Input coding"): the MNIST 784-256-10 LIFB (B = 3)
# MLP trained with direct, rate and burst (K = 3) coding at T = 4 and 8, seeds 0-2, then each
# model evaluated by the golden float, integer and decoupled models on the full test set.
# Resumable: a run whose evaluation file exists is skipped, an interrupted training continues
# from its checkpoint.
# Usage: scripts/coding.sh [OUT_DIR] [EPOCHS] [QAT_EPOCHS]   (defaults: runs/coding, 15, 4: the
# MNIST example's recipe)
# Needs the full data set (scripts/fetch-data.sh).
set -euo pipefail
OUT="${1:-runs/coding}"
EPOCHS="${2:-15}"
QAT="${3:-4}"
DATA="${DATA_DIR:-data}"
BIN="${LIFB_HDL:-target/release/lifb-hdl}"
[ -x "$BIN" ] || cargo build --release
mkdir -p "$OUT"
for steps in 4 8; do
  for seed in 0 1 2; do
    for coding in direct rate burst; do
      name="mnist_B3_T${steps}_${coding}_seed${seed}"
      [ -s "$OUT/$name.eval.txt" ] && continue
      "$BIN" train --data mnist --data-dir "$DATA" --arch 784-256-10 --neuron lifb --burst 3 \
        -T "$steps" --epochs "$EPOCHS" --lr 2e-3 --seed "$seed" --readout spikes \
        --weight-bits 4 --qat-epochs "$QAT" --coding "$coding" --coding-max 3 --quiet --resume \
        -o "$OUT/$name.json" 2>> "$OUT/$name.train.log"
      "$BIN" eval --model "$OUT/$name.json" --data mnist --data-dir "$DATA" --decouple \
        > "$OUT/$name.eval.tmp"
      mv "$OUT/$name.eval.tmp" "$OUT/$name.eval.txt"
      echo "$name: $(grep -E 'integer model' "$OUT/$name.eval.txt")"
    done
  done
done
# Summary: mean and sample standard deviation over the seeds that finished, per (T, coding).
echo "| T | coding | seeds | float % | 4-bit integer % | decoupled % | decoupled = integer |"
echo "|---|---|---|---|---|---|---|"
for steps in 4 8; do
  for coding in direct rate burst; do
    files=$(ls "$OUT"/mnist_B3_T${steps}_${coding}_seed*.eval.txt 2>/dev/null || true)
    [ -n "$files" ] || continue
    # shellcheck disable=SC2086
    awk -v t="$steps" -v c="$coding" '
      /float model/     { f[n] = $3 + 0 }
      /integer model/   { i[n] = $3 + 0 }
      /decoupled \(LIF\)/ { d[n] = $3 + 0 }
      /spike counts differ/ { same = same && ($0 ~ / 0 of /); n++ }
      BEGIN { same = 1; n = 0 }
      function ms(a,   k, m, v) { m = 0; for (k = 0; k < n; k++) m += a[k]; m /= n
        v = 0; for (k = 0; k < n; k++) v += (a[k] - m) ^ 2
        return sprintf("%.2f ± %.2f", m, n > 1 ? sqrt(v / (n - 1)) : 0) }
      END { printf "| %s | %s | %d | %s | %s | %s | %s |\n", t, c, n, ms(f), ms(i), ms(d), same ? "yes" : "no" }
    ' $files
  done
done
