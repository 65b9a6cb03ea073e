#!/usr/bin/env bash
# Install everything lifb-hdl needs that a fresh Debian/Ubuntu machine with Rust lacks.
# Idempotent and quick when everything is already there. Sources: Debian packages and PyPI only.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/quiet.sh

need_apt=()
for pair in verilator:verilator iverilog:iverilog yosys:yosys nextpnr-ice40:nextpnr-ice40 icepack:fpga-icestorm; do
    cmd=${pair%%:*}; pkg=${pair##*:}
    command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# Python with venv support (the YoWASP tools and the nir package live in project venvs).
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=(); [ "$(id -u)" -ne 0 ] && SUDO=(sudo)
    quietly "setup: updating the Debian package lists" "${SUDO[@]}" apt-get update -qq
    quietly "setup: installing Debian packages ${need_apt[*]}" \
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# Further steps owned by the parts that need them (each idempotent).
for s in scripts/setup-eda.sh scripts/setup-python.sh scripts/setup-slurm.sh; do
    if [ -x "$s" ]; then "$s"; fi
done
echo "setup: done"
