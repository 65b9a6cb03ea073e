#!/usr/bin/env python3
"""Write the NIR fixtures in tests/fixtures/nir/ with the Python `nir` package, and next to each
importable fixture a reference (<name>.ref.json) computed here with the *exporter's own* update
equations (snnTorch Leaky, Norse LIF box, NIR forward-Euler), not with lifb-hdl's mapping.

All parameters and inputs are dyadic (multiples of small powers of two) so every operation is
exact in both float32 and float64: the reference is then independent of operation order, and the
Rust test can demand bit-exact spikes. The script checks that claim by running every reference in
float32 and float64 and refusing to write a fixture where they differ. It also counts threshold
ties (v == v_threshold exactly), which exercise the > versus >= mapping.

Usage: python3 scripts/make-nir-fixtures.py [OUT_DIR]   (needs `pip install nir`, no torch)
The output is deterministic (fixed seeds).
"""

import json
import os
import sys

import h5py
import numpy as np
import nir

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "tests", "fixtures", "nir")
STEPS = 8
SAMPLES = 4
SNNTORCH_DT = 1e-4
NORSE_DT = 1e-3


def dyadic(rng, shape, lo, hi, denom):
    """Uniform multiples of 1/denom in [lo, hi]."""
    return rng.integers(int(lo * denom), int(hi * denom) + 1, size=shape) / denom


# ---------------------------------------------------------------- reference simulation
# A network for the reference is a list of ops; each op is a dict with "op" and parameters.
# Neuron ops carry "sem": the exporter's update rule, and "name": the NIR node name.

def conv2d(x, w, b, stride, pad, dt):
    c, h, wd = x.shape
    o, ci, kh, kw = w.shape
    xp = np.zeros((c, h + 2 * pad[0], wd + 2 * pad[1]), dtype=dt)
    xp[:, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    oh = (h + 2 * pad[0] - kh) // stride[0] + 1
    ow = (wd + 2 * pad[1] - kw) // stride[1] + 1
    out = np.zeros((o, oh, ow), dtype=dt)
    for oc in range(o):
        for y in range(oh):
            for xx in range(ow):
                patch = xp[:, y * stride[0]:y * stride[0] + kh, xx * stride[1]:xx * stride[1] + kw]
                out[oc, y, xx] = np.sum(patch * w[oc]) + (b[oc] if b is not None else 0)
    return out


def pool(x, k, s, avg, dt):
    c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((c, oh, ow), dtype=dt)
    for y in range(oh):
        for xx in range(ow):
            win = x[:, y * s[0]:y * s[0] + k[0], xx * s[1]:xx * s[1] + k[1]]
            out[:, y, xx] = win.sum(axis=(1, 2))
    if avg:
        out = out / dt(k[0] * k[1])
    return out


def simulate(ops, x0, dt):
    """Run STEPS steps; returns (per-neuron-op spike counts [step][n], readout)."""
    state = {}
    counts = {op["name"]: [] for op in ops if "sem" in op}
    readout = None
    for _t in range(STEPS):
        x = np.asarray(x0, dtype=dt)
        for i, op in enumerate(ops):
            k = op["op"]
            if k == "affine":
                x = op["w"].astype(dt) @ x.reshape(-1) + (op["b"].astype(dt) if op["b"] is not None else 0)
            elif k == "conv":
                x = conv2d(x, op["w"].astype(dt), None if op["b"] is None else op["b"].astype(dt),
                           op["stride"], op["pad"], dt)
            elif k == "pool":
                x = pool(x, op["k"], op["s"], op["avg"], dt)
            elif k == "flatten":
                x = x.reshape(-1)
            elif k == "scale":
                x = x * op["s"].astype(dt)
            elif k == "integrator":
                v = state.get(i, np.zeros_like(x))
                v = v + dt(op["dt"]) * op["r"].astype(dt) * x
                state[i] = v
                readout = v
            else:
                sem = op["sem"]
                p = {key: np.broadcast_to(np.asarray(val, dtype=dt), x.shape) for key, val in op["p"].items()}
                v = state.get(i, np.zeros_like(x))
                if sem == "snntorch_subtract":
                    # snnTorch Leaky: reset from the previous membrane, subtracted without decay.
                    reset = (v > p["thr"]).astype(dt)
                    v = p["beta"] * v + x - reset * p["thr"]
                    s = (v > p["thr"]).astype(dt)
                elif sem == "snntorch_zero":
                    reset = (v > p["thr"]).astype(dt)
                    v = p["beta"] * (v * (1 - reset)) + x
                    s = (v > p["thr"]).astype(dt)
                elif sem in ("euler_zero", "euler_subtract"):
                    # NIR LIF / Norse LIF box, forward Euler: v += dt/tau (v_leak - v + r I).
                    v = v + p["dt_tau"] * ((p["v_leak"] - v) + p["r"] * x)
                    s = (v > p["thr"]).astype(dt)
                    if sem == "euler_zero":
                        v = (1 - s) * v + s * p["v_reset"]
                    else:
                        v = v - s * p["thr"]
                elif sem in ("if_zero", "if_subtract"):
                    v = v + p["dt_r"] * x
                    s = (v > p["thr"]).astype(dt)
                    v = (1 - s) * v if sem == "if_zero" else v - s * p["thr"]
                else:
                    raise ValueError(sem)
                if "ties" in op:
                    op["ties"] += int(np.sum(v == p["thr"]))
                state[i] = v
                counts[op["name"]].append(s.reshape(-1).astype(np.int64).tolist())
                x = s
        if readout is None or ops[-1]["op"] != "integrator":
            pass
    last = ops[-1]
    if last["op"] == "integrator":
        ro = state[len(ops) - 1].reshape(-1).astype(np.float64).tolist()
    else:
        ro = np.sum(np.array(counts[last["name"]]), axis=0).astype(np.float64).tolist()
    return counts, ro


def reference(name, ops, inputs, import_args, input_shape):
    samples = []
    ties = 0
    for n, x0 in enumerate(inputs):
        for op in ops:
            if "sem" in op:
                op["ties"] = 0
        c64, r64 = simulate(ops, x0.reshape(input_shape), np.float64)
        ties += sum(op.get("ties", 0) for op in ops)
        c32, r32 = simulate(ops, x0.reshape(input_shape), np.float32)
        if c64 != c32 or r64 != r32:
            raise SystemExit(f"{name}: float32 and float64 references differ; the fixture is not exact")
        samples.append({
            "input": x0.reshape(-1).astype(np.float64).tolist(),
            "layers": [{"node": k, "counts": v} for k, v in c64.items()],
            "readout": r64,
        })
    total = sum(sum(sum(s) for s in l["counts"]) for smp in samples for l in smp["layers"])
    return {
        "fixture": f"{name}.nir",
        "import_args": import_args,
        "steps": STEPS,
        "threshold_ties": ties,
        "total_spikes": total,
        "samples": samples,
    }


def nir_write(path, graph):
    """nir.write, except that 0-d arrays are stored without gzip (h5py cannot compress scalar
    datasets, so nir.write fails on them); every other array is gzip-compressed as nir.write does."""

    def rec(group, node):
        for k, v in node.items():
            if k == "metadata":
                if v:
                    rec(group.create_group(k), v)
            elif isinstance(v, str):
                group.create_dataset(k, data=v, dtype=h5py.string_dtype())
            elif isinstance(v, np.ndarray) and v.ndim > 0:
                group.create_dataset(k, data=v, dtype=v.dtype, compression="gzip")
            elif isinstance(v, dict):
                rec(group.create_group(str(k)), v)
            else:
                group.create_dataset(k, data=v)

    with h5py.File(path, "w") as f:
        f.create_dataset("version", data=nir.version, dtype=h5py.string_dtype())
        rec(f.create_group("node"), graph.to_dict())


def write(name, graph, ref=None, fix=None):
    path = os.path.join(OUT, f"{name}.nir")
    nir_write(path, graph)
    if fix is not None:
        with h5py.File(path, "r+") as f:
            fix(f)
    if ref is not None:
        with open(os.path.join(OUT, f"{name}.ref.json"), "w") as f:
            json.dump(ref, f, sort_keys=True, separators=(",", ":"))
            f.write("\n")
    print(f"wrote {path}" + (f" (ties {ref['threshold_ties']}, spikes {ref['total_spikes']})" if ref else ""))


def inputs_for(rng, n):
    return [dyadic(rng, (n,), 0, 1, 4) for _ in range(SAMPLES)]


def graph(nodes, edges, rng):
    # Edges in a shuffled order: importers must not depend on it.
    edges = list(edges)
    rng.shuffle(edges)
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


# ---------------------------------------------------------------- fixtures

def snntorch_mlp(rng, reset):
    """snnTorch export convention: tau = dt/(1-beta), r = tau/dt, v_leak = 0, dt = 1e-4."""
    w1, b1 = dyadic(rng, (6, 8), -1, 1, 8), dyadic(rng, (6,), -0.25, 0.5, 8)
    w2, b2 = dyadic(rng, (4, 6), -1, 1, 8), dyadic(rng, (4,), -0.25, 0.25, 8)
    beta1 = np.float32(0.5)                                  # 0-d scalar parameters
    beta2 = np.full(4, 0.75, np.float32)                     # per-neuron tensors (one leak per layer)
    thr2 = np.array([1.0, 0.5, 0.75, 1.0], np.float32)

    def lif(beta, thr):
        beta = np.asarray(beta, np.float32)
        tau = SNNTORCH_DT / (1 - beta)
        return nir.LIF(tau=tau, r=tau / SNNTORCH_DT, v_leak=np.zeros_like(beta),
                       v_threshold=np.asarray(thr, np.float32), v_reset=np.zeros_like(beta))

    nodes = {
        "input": nir.Input(np.array([8])),
        "fc1": nir.Affine(w1.astype(np.float32), b1.astype(np.float32)),
        "lif1": lif(beta1, np.float32(1.0)),
        "fc2": nir.Affine(w2.astype(np.float32), b2.astype(np.float32)),
        "lif2": lif(beta2, thr2),
        "output": nir.Output(np.array([4])),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")]
    sem = f"snntorch_{reset}"
    ops = [
        {"op": "affine", "w": w1, "b": b1},
        {"op": "lif", "name": "lif1", "sem": sem, "p": {"beta": 0.5, "thr": 1.0}},
        {"op": "affine", "w": w2, "b": b2},
        {"op": "lif", "name": "lif2", "sem": sem, "p": {"beta": beta2, "thr": thr2}},
    ]
    name = f"snntorch_mlp_{reset}"
    args = {"preset": "snntorch"}
    if reset == "zero":
        args["reset"] = "zero"
    write(name, graph(nodes, edges, rng), reference(name, ops, inputs_for(rng, 8), args, (8,)))


def snntorch_real(rng):
    """A realistic snnTorch export (beta = 0.9, Gaussian f32 weights, uniform f32 inputs): not
    exact in f32, so the reference is computed the way snnTorch computes in float32
    (cur = W x + b; mem = beta*mem + cur - reset*thr; spk = mem > thr) and the Rust test
    measures and reports the spike agreement instead of demanding equality."""
    n_in, n_h, n_out, steps = 32, 48, 10, 20
    w1 = (rng.standard_normal((n_h, n_in)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(n_h) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((n_out, n_h)) * 0.3).astype(np.float32)
    b2 = (rng.standard_normal(n_out) * 0.1).astype(np.float32)
    beta, thr = np.float32(0.9), np.float32(1.0)
    tau = np.float32(SNNTORCH_DT) / (np.float32(1) - beta)

    def lif(n):
        return nir.LIF(tau=np.full(n, tau, np.float32), r=np.full(n, tau / np.float32(SNNTORCH_DT), np.float32),
                       v_leak=np.zeros(n, np.float32), v_threshold=np.full(n, thr, np.float32),
                       v_reset=np.zeros(n, np.float32))

    nodes = {"input": nir.Input(np.array([n_in])), "fc1": nir.Affine(w1, b1), "lif1": lif(n_h),
             "fc2": nir.Affine(w2, b2), "lif2": lif(n_out), "output": nir.Output(np.array([n_out]))}
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")]
    samples = []
    for _ in range(20):
        x = rng.random(n_in).astype(np.float32)
        m1, m2 = np.zeros(n_h, np.float32), np.zeros(n_out, np.float32)
        c1, c2 = [], []
        for _t in range(steps):
            r1 = (m1 > thr).astype(np.float32)
            m1 = beta * m1 + (w1 @ x + b1) - r1 * thr
            s1 = (m1 > thr).astype(np.float32)
            r2 = (m2 > thr).astype(np.float32)
            m2 = beta * m2 + (w2 @ s1 + b2) - r2 * thr
            s2 = (m2 > thr).astype(np.float32)
            c1.append(s1.astype(int).tolist())
            c2.append(s2.astype(int).tolist())
        samples.append({"input": x.astype(np.float64).tolist(),
                        "layers": [{"node": "lif1", "counts": c1}, {"node": "lif2", "counts": c2}],
                        "readout": np.sum(np.array(c2), axis=0).astype(np.float64).tolist()})
    ref = {"fixture": "snntorch_real.nir", "import_args": {"preset": "snntorch"}, "steps": steps,
           "exact": False, "threshold_ties": 0,
           "total_spikes": int(sum(sum(map(sum, l["counts"])) for smp in samples for l in smp["layers"])),
           "samples": samples}
    write("snntorch_real", graph(nodes, edges, rng), ref)


def norse_mlp(rng):
    """Norse LIFBoxCell convention: tau = 1/tau_mem_inv in seconds, r = 1, dt = 1e-3, reset to
    v_reset, f64 tensors, Linear without bias."""
    w1 = dyadic(rng, (5, 6), -1, 1.5, 4)
    w2 = dyadic(rng, (3, 5), -1, 1.5, 4)
    tau = np.full(5, 1 / 250.0)     # dt/tau = 0.25
    nodes = {
        "in": nir.Input(np.array([6])),
        "lin1": nir.Linear(w1),
        "lif1": nir.LIF(tau=tau, r=np.ones(5), v_leak=np.zeros(5), v_threshold=np.full(5, 0.5),
                        v_reset=np.zeros(5)),
        "lin2": nir.Linear(w2),
        "lif2": nir.LIF(tau=np.float64(1 / 500.0), r=np.float64(1.0), v_leak=np.float64(0.0),
                        v_threshold=np.float64(0.25), v_reset=np.float64(0.0)),
        "out": nir.Output(np.array([3])),
    }
    edges = [("in", "lin1"), ("lin1", "lif1"), ("lif1", "lin2"), ("lin2", "lif2"), ("lif2", "out")]
    ops = [
        {"op": "affine", "w": w1, "b": None},
        {"op": "lif", "name": "lif1", "sem": "euler_zero",
         "p": {"dt_tau": 0.25, "v_leak": 0.0, "r": 1.0, "thr": 0.5, "v_reset": 0.0}},
        {"op": "affine", "w": w2, "b": None},
        {"op": "lif", "name": "lif2", "sem": "euler_zero",
         "p": {"dt_tau": 0.5, "v_leak": 0.0, "r": 1.0, "thr": 0.25, "v_reset": 0.0}},
    ]
    write("norse_mlp", graph(nodes, edges, rng),
          reference("norse_mlp", ops, inputs_for(rng, 6), {"preset": "norse"}, (6,)))


def generic_conv(rng):
    """Conv2d + IF + SumPool2d + Flatten, a nested subgraph, and an integrator (I) readout."""
    wc = dyadic(rng, (2, 1, 3, 3), -0.5, 1, 4)
    bc = dyadic(rng, (2,), -0.25, 0.25, 4)
    wh = dyadic(rng, (3, 18), -1, 1, 4)
    bh = dyadic(rng, (3,), -0.5, 0.5, 4)
    r_out = np.array([0.5, 1.0, 0.25])
    head = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([18])), "affine": nir.Affine(wh, bh),
               "output": nir.Output(np.array([3]))},
        edges=[("input", "affine"), ("affine", "output")], type_check=False)
    nodes = {
        "input": nir.Input(np.array([1, 6, 6])),
        "conv": nir.Conv2d(input_shape=(6, 6), weight=wc, stride=(1, 1), padding=(1, 1),
                           dilation=(1, 1), groups=1, bias=bc),
        "if1": nir.IF(r=np.ones((2, 6, 6)), v_threshold=np.ones((2, 6, 6)), v_reset=np.zeros((2, 6, 6))),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=0, end_dim=-1),
        "head": head,
        "integrator": nir.I(r=r_out),
        "output": nir.Output(np.array([3])),
    }
    edges = [("input", "conv"), ("conv", "if1"), ("if1", "pool"), ("pool", "flat"), ("flat", "head"),
             ("head", "integrator"), ("integrator", "output")]
    ops = [
        {"op": "conv", "w": wc, "b": bc, "stride": (1, 1), "pad": (1, 1)},
        {"op": "if", "name": "if1", "sem": "if_zero", "p": {"dt_r": 1.0, "thr": 1.0}},
        {"op": "pool", "k": (2, 2), "s": (2, 2), "avg": False},
        {"op": "flatten"},
        {"op": "affine", "w": wh, "b": bh},
        {"op": "integrator", "dt": 1.0, "r": r_out},
    ]
    inputs = [dyadic(rng, (36,), 0, 1, 4) for _ in range(SAMPLES)]
    write("generic_conv", graph(nodes, edges, rng),
          reference("generic_conv", ops, inputs, {"preset": "generic", "dt": 1.0}, (1, 6, 6)))


def legacy_avgpool(rng):
    """A NIR 0.2-era file: LIF without v_reset (then: subtract by threshold), non-zero v_leak
    (folded into the bias), AvgPool2d, and a Scale node in front of a Linear. f32 tensors."""
    wc = dyadic(rng, (2, 1, 3, 3), -0.5, 1, 4).astype(np.float32)
    wl = dyadic(rng, (3, 8), -1, 1.5, 4).astype(np.float32)
    scale = np.array([1, 2, 0.5, 1, 2, 1, 0.5, 1], np.float32)
    # dt = 1: tau = 2 (dt/tau = 0.5), r = 2 (input gain dt*r/tau = 1), v_leak = 0.25.
    nodes = {
        "input": nir.Input(np.array([1, 4, 4])),
        "conv": nir.Conv2d(input_shape=(4, 4), weight=wc, stride=1, padding=1, dilation=1, groups=1,
                           bias=np.zeros(2, np.float32)),
        "lif": nir.LIF(tau=np.full((2, 4, 4), 2.0, np.float32), r=np.full((2, 4, 4), 2.0, np.float32),
                       v_leak=np.full((2, 4, 4), 0.25, np.float32),
                       v_threshold=np.full((2, 4, 4), 0.5, np.float32)),
        "avg": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([2, 2, 2])}, start_dim=0, end_dim=-1),
        "scale": nir.Scale(scale),
        "lin": nir.Linear(wl),
        "lif_out": nir.LIF(tau=np.float32(2.0), r=np.float32(2.0), v_leak=np.float32(0.0),
                           v_threshold=np.float32(0.5)),
        "output": nir.Output(np.array([3])),
    }
    edges = [("input", "conv"), ("conv", "lif"), ("lif", "avg"), ("avg", "flat"), ("flat", "scale"),
             ("scale", "lin"), ("lin", "lif_out"), ("lif_out", "output")]
    ops = [
        {"op": "conv", "w": wc, "b": np.zeros(2), "stride": (1, 1), "pad": (1, 1)},
        {"op": "lif", "name": "lif", "sem": "euler_subtract",
         "p": {"dt_tau": 0.5, "v_leak": 0.25, "r": 2.0, "thr": 0.5}},
        {"op": "pool", "k": (2, 2), "s": (2, 2), "avg": True},
        {"op": "flatten"},
        {"op": "scale", "s": scale},
        {"op": "affine", "w": wl, "b": None},
        {"op": "lif", "name": "lif_out", "sem": "euler_subtract",
         "p": {"dt_tau": 0.5, "v_leak": 0.0, "r": 2.0, "thr": 0.5}},
    ]

    def legacy(f):
        del f["version"]
        f.create_dataset("version", data="0.2.0", dtype=h5py.string_dtype())
        for n in ("lif", "lif_out"):
            del f[f"node/nodes/{n}/v_reset"]

    inputs = [dyadic(rng, (16,), 0, 1, 4) for _ in range(SAMPLES)]
    write("legacy_avgpool", graph(nodes, edges, rng),
          reference("legacy_avgpool", ops, inputs, {"preset": "generic", "dt": 1.0}, (1, 4, 4)), legacy)


def refusals(rng):
    """Files that must be refused with a message naming the node and its type."""
    w = dyadic(rng, (3, 4), -1, 1, 4)
    lif = lambda n: nir.LIF(tau=np.full(n, 2.0), r=np.full(n, 2.0), v_leak=np.zeros(n),  # noqa: E731
                            v_threshold=np.ones(n), v_reset=np.zeros(n))
    base = {"input": nir.Input(np.array([4])), "fc": nir.Linear(w), "output": nir.Output(np.array([3]))}

    def chain(mid, name):
        nodes = dict(base)
        nodes["mid"] = mid
        write(name, graph(nodes, [("input", "fc"), ("fc", "mid"), ("mid", "output")], rng))

    chain(nir.CubaLIF(tau_mem=np.full(3, 2.0), tau_syn=np.full(3, 4.0), r=np.full(3, 2.0),
                      v_leak=np.zeros(3), v_threshold=np.ones(3), v_reset=np.zeros(3), w_in=np.ones(3)),
          "refuse_cubalif")
    chain(nir.LIF(tau=np.full(3, 2.0), r=np.full(3, 2.0), v_leak=np.zeros(3), v_threshold=np.ones(3),
                  v_reset=np.full(3, 0.5)), "refuse_vreset")
    chain(nir.LI(tau=np.full(3, 2.0), r=np.full(3, 2.0), v_leak=np.zeros(3)), "refuse_li_readout")
    chain(nir.LIF(tau=np.array([2.0, 4.0, 2.0]), r=np.full(3, 2.0), v_leak=np.zeros(3),
                  v_threshold=np.ones(3), v_reset=np.zeros(3)), "refuse_tau_per_neuron")
    nodes = dict(base)
    nodes["delay"] = nir.Delay(np.full(3, 1.0))
    nodes["lif"] = lif(3)
    write("refuse_delay", graph(nodes, [("input", "fc"), ("fc", "delay"), ("delay", "lif"),
                                        ("lif", "output")], rng))
    nodes = dict(base)
    nodes["fc2"] = nir.Linear(w)
    nodes["lif"] = lif(3)
    write("refuse_branch", graph(nodes, [("input", "fc"), ("input", "fc2"), ("fc", "lif"),
                                         ("fc2", "lif"), ("lif", "output")], rng))
    nodes = {"input": nir.Input(np.array([1, 4, 4])),
             "conv": nir.Conv2d(input_shape=(4, 4), weight=np.ones((2, 1, 3, 3)), stride=1, padding=0,
                                dilation=2, groups=1, bias=np.zeros(2)),
             "lif": lif(2), "output": nir.Output(np.array([2]))}
    write("refuse_dilation", graph(nodes, [("input", "conv"), ("conv", "lif"), ("lif", "output")], rng))


def corrupt():
    """Broken copies of a good fixture: each must give a clear error, never a panic."""
    good = os.path.join(OUT, "snntorch_mlp_subtract.nir")
    data = open(good, "rb").read()
    open(os.path.join(OUT, "corrupt_truncated_half.nir"), "wb").write(data[: len(data) // 2])
    open(os.path.join(OUT, "corrupt_truncated_header.nir"), "wb").write(data[:40])
    bad = bytearray(data)
    bad[0] ^= 0xFF
    open(os.path.join(OUT, "corrupt_magic.nir"), "wb").write(bytes(bad))
    open(os.path.join(OUT, "corrupt_not_hdf5.nir"), "wb").write(b"this is not an HDF5 file\n")
    # Structurally valid HDF5, broken NIR.
    with h5py.File(os.path.join(OUT, "corrupt_no_edges.nir"), "w") as f:
        f.create_dataset("version", data="1.0.8", dtype=h5py.string_dtype())
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
        g.create_group("nodes")
    with h5py.File(os.path.join(OUT, "corrupt_edge_to_nowhere.nir"), "w") as f:
        f.create_dataset("version", data="1.0.8", dtype=h5py.string_dtype())
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
        g.create_dataset("edges", data=np.array([["input", "ghost"]], dtype=object),
                         dtype=h5py.string_dtype())
        n = g.create_group("nodes").create_group("input")
        n.create_dataset("type", data="Input", dtype=h5py.string_dtype())
        n.create_dataset("shape", data=np.array([4]))
    with h5py.File(os.path.join(OUT, "corrupt_weight_shape.nir"), "w") as f:
        f.create_dataset("version", data="1.0.8", dtype=h5py.string_dtype())
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
        g.create_dataset("edges", data=np.array([["input", "fc"], ["fc", "output"]], dtype=object),
                         dtype=h5py.string_dtype())
        nodes = g.create_group("nodes")
        n = nodes.create_group("input")
        n.create_dataset("type", data="Input", dtype=h5py.string_dtype())
        n.create_dataset("shape", data=np.array([4]))
        n = nodes.create_group("fc")
        n.create_dataset("type", data="Affine", dtype=h5py.string_dtype())
        n.create_dataset("weight", data=np.ones((3, 5), np.float32))
        n.create_dataset("bias", data=np.ones(3, np.float32))
        n = nodes.create_group("output")
        n.create_dataset("type", data="Output", dtype=h5py.string_dtype())
        n.create_dataset("shape", data=np.array([3]))
    for n in sorted(os.listdir(OUT)):
        if n.startswith("corrupt_"):
            print(f"wrote {os.path.join(OUT, n)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261126)
    snntorch_mlp(rng, "subtract")
    snntorch_mlp(rng, "zero")
    norse_mlp(rng)
    snntorch_real(np.random.default_rng(7))
    generic_conv(rng)
    legacy_avgpool(rng)
    refusals(rng)
    corrupt()


if __name__ == "__main__":
    main()
