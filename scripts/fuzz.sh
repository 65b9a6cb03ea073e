#!/usr/bin/env bash
# The long fuzzing campaign: every reader of untrusted files (model loader, NIR importer,
# state-dict importer, input-set reader), one after another, EXECS executions each (default one
# million). Figures go to stdout and to $LIFB_FUZZ_OUT/<target>/summary.txt; reproducers of
# findings to $LIFB_FUZZ_OUT/<target>/<kind>-<execution>/ (replay one with
# LIFB_FUZZ_REPLAY=<folder> cargo test --release --test fuzz replay -- --nocapture).
#
#   scripts/fuzz.sh [EXECS] [SEED]
#
# The test binary is copied first, so that editing or rebuilding the project while a campaign
# runs does not change what it runs.
# Exit status: 0 when no target panicked, hung or went over the memory cap; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export LIFB_FUZZ_EXECS="${1:-1000000}"
export LIFB_FUZZ_SEED="${2:-1}"
export LIFB_FUZZ_OUT="${LIFB_FUZZ_OUT:-$PWD/target/fuzz-out}"
bin=$(cargo test --release --test fuzz --no-run --message-format=json 2>/dev/null |
    grep '"kind":\["test"\],[^}]*"name":"fuzz"' |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "fuzz.sh: could not build the fuzz test binary (cargo test --release --test fuzz --no-run)" >&2
    exit 2
fi
mkdir -p "$LIFB_FUZZ_OUT"
cp "$bin" "$LIFB_FUZZ_OUT/fuzz-bin"
echo "fuzzing $(git describe --always --dirty 2>/dev/null || echo '?'), $LIFB_FUZZ_EXECS executions per target, seed $LIFB_FUZZ_SEED"
status=0
for t in fuzz_model_loader fuzz_nir_importer fuzz_state_dict_importer fuzz_input_sets; do
    "$LIFB_FUZZ_OUT/fuzz-bin" "$t" --exact --nocapture --test-threads=1 || status=1
done
echo
echo "Summary ($LIFB_FUZZ_EXECS executions per target, seed $LIFB_FUZZ_SEED):"
cat "$LIFB_FUZZ_OUT"/*/summary.txt
exit $status
