#!/usr/bin/env bash
# Python side of the tests: the `nir` package (with h5py and numpy; no torch) in .venv-nir.
# tests/model/nir_roundtrip.rs finds it there (or via $LIFB_PYTHON) and checks that our exported NIR
# files open with it; scripts/make-nir-fixtures.py uses it to regenerate tests/fixtures/nir/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/quiet.sh
if [ ! -x .venv-nir/bin/python ]; then
    quietly "setup-python: creating the venv .venv-nir" python3 -m venv .venv-nir
fi
if ! .venv-nir/bin/python -c 'import nir, sys; sys.exit(nir.__version__ != "1.0.8")' 2>/dev/null; then
    quietly "setup-python: installing nir 1.0.8 into .venv-nir (PyPI)" \
        .venv-nir/bin/pip install --quiet --disable-pip-version-check 'nir==1.0.8'
fi
.venv-nir/bin/python -c 'import nir; print("nir", nir.__version__, "ready in .venv-nir")'
