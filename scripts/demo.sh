#!/usr/bin/env bash
# The main job, end to end, on the shipped MNIST example model (installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release
exec target/release/lifb-hdl flow "$@"
