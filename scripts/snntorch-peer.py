#!/usr/bin/env python3
"""snnTorch on the golden-model benchmark's case (written by `lifb-hdl bench --export FILE`):
the same weights and input images, run as snnTorch users write an inference loop, with the
first layer's current computed once per image (direct coding: it is the same every step, as
lifb-hdl's simulator does), for each batch size given; prints one JSON line per batch size and
one for the best (images/s, one thread unless --threads). Used by scripts/bench-peers.sh.

snnTorch has no burst neuron: the peer uses snn.Leaky (one spike per step, subtract reset) with
the same threshold and leak (beta = 1 - d / 2^f). The work per step has the same shape as the
LIFB network's: one 256-wide neuron update and a 256x10 layer; the counts differ where LIFB
neurons would burst.
"""
import argparse
import json
import pathlib
import sys
import time

import torch
import snntorch as snn


def load(case):
    head = json.loads(pathlib.Path(case + ".json").read_text())
    if head.get("format") != "lifb-bench-case":
        sys.exit(f"{case}.json is not a lifb-hdl benchmark case (lifb-hdl bench --export)")
    if head["encoding"] != "Direct":
        sys.exit(f"{case}: the peer runs direct coding only, the case is {head['encoding']}")
    blob = bytearray(pathlib.Path(case + ".bin").read_bytes())
    dense, neurons = [], []
    for layer in head["layers"]:
        if layer["kind"] == "dense":
            n = layer["in"] * layer["out"]
            w = torch.frombuffer(blob, dtype=torch.int16, count=n, offset=layer["offset"])
            dense.append(w.view(layer["out"], layer["in"]).float())
        else:
            neurons.append(layer)
    inp = head["inputs"]
    x = torch.frombuffer(blob, dtype=torch.uint8, count=inp["count"] * inp["len"], offset=inp["offset"])
    return head, dense, neurons, x.view(inp["count"], inp["len"]).float()


def build(head, dense, neurons):
    layers = []
    for w, n in zip(dense, neurons):
        fc = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
        fc.weight.data.copy_(w)
        beta = 1.0 - n["leak_d"] / 2 ** head["leak_frac_bits"]
        lif = snn.Leaky(beta=beta, threshold=float(n["threshold"]), reset_mechanism=n["reset"])
        layers.append((fc, lif))
    return layers


def classify(layers, x, steps):
    """Spike-count readout of the last layer over `steps`; the first layer's current once."""
    (fc1, lif1), rest = layers[0], layers[1:]
    cur1 = fc1(x)
    mems = [lif1.init_leaky()] + [lif.init_leaky() for _, lif in rest]
    counts = 0
    for _ in range(steps):
        spk, mems[0] = lif1(cur1, mems[0])
        for k, (fc, lif) in enumerate(rest, start=1):
            spk, mems[k] = lif(fc(spk), mems[k])
        counts = counts + spk
    return counts.argmax(dim=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", required=True, help="FILE given to lifb-hdl bench --export")
    ap.add_argument("--steps", type=int, help="time steps (default: the case's)")
    ap.add_argument("--batches", default="256,1024,4096", help="batch sizes to try")
    ap.add_argument("--images", type=int, default=20000, help="images timed per batch size")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    head, dense, neurons, x = load(a.case)
    steps = a.steps or head["steps"]
    layers = build(head, dense, neurons)
    best = None
    with torch.inference_mode():
        for batch in [int(b) for b in a.batches.split(",")]:
            batch = min(batch, len(x))
            classify(layers, x[:batch], steps)  # warm-up
            done, checksum = 0, 0
            t0 = time.perf_counter()
            while done < a.images:
                start = done % len(x)
                part = x[start:start + min(batch, a.images - done, len(x) - start)]
                checksum += int(classify(layers, part, steps).sum())
                done += len(part)
            seconds = time.perf_counter() - t0
            rec = {"peer": "snntorch", "snntorch": snn.__version__, "torch": torch.__version__,
                   "steps": steps, "batch": batch, "threads": a.threads, "images": done,
                   "seconds": seconds, "images_per_s": done / seconds}
            print(json.dumps(rec), flush=True)
            if best is None or rec["images_per_s"] > best["images_per_s"]:
                best = rec
    print(json.dumps(dict(best, best=True)), flush=True)


if __name__ == "__main__":
    main()
