//! Export -> import is lossless (float and integer networks, LIF/IF, the group form with one
//! sub-unit, and the pure-LIF decoupled form with recurrent weights); exported files are
//! deterministic; and, when Python with the `nir` package is available, the files open with
//! it and carry the expected node types, shapes and parameters.

use crate::common;

use lifb_hdl::format::AnyNetwork;
use lifb_hdl::ir::*;
use lifb_hdl::nir::{export, export_any, import_bytes, ExportOptions, ImportOptions, Preset};
use std::collections::BTreeMap;
use std::path::Path;

/// Uniform in [-1, 1], in steps of 1/8 (dyadic: every product and sum below is exact in f32
/// and f64, so an independent NIR simulation in Python must match spike for spike).
fn lcg(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let u = ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
    (u * 8.0).round() / 8.0
}

fn float_conv_net() -> FloatNetwork {
    let mut s = 7u64;
    let mut r = |n: usize| (0..n).map(|_| lcg(&mut s)).collect::<Vec<f32>>();
    Network {
        name: "float-conv".into(),
        input: InputSpec {
            shape: Shape::chw(1, 6, 6),
            encoding: Encoding::Direct,
        },
        layers: vec![
            Layer::Conv2d(Conv2d {
                in_channels: 1,
                out_channels: 4,
                kernel: [3, 3],
                stride: [1, 1],
                padding: [1, 1],
                weight: r(36),
                bias: None,
            }),
            Layer::LifRecurrent(LifRecurrent {
                leak: Leak::Lambda { lam: 0.75 },
                group: 2,
                thresholds: vec![0.25, 0.5, 0.375, 0.75],
                lateral: vec![0.125, -0.375, -0.25, 0.0625],
            }),
            Layer::Pool(Pool {
                kind: PoolKind::Sum,
                kernel: [2, 2],
                stride: [2, 2],
            }),
            Layer::Flatten,
            Layer::Dense(Dense {
                in_features: 36,
                out_features: 5,
                weight: r(180),
                bias: Some(r(5)),
            }),
            Layer::Lifb(Lifb {
                leak: Leak::Lambda { lam: 1.0 },
                threshold: vec![0.5, 0.25, 0.75, 1.0, 0.375],
                spacing: vec![1.0],
                max_burst: 1,
                reset: Reset::Zero,
            }),
        ],
        fixed: None,
        meta: BTreeMap::from([("trained".into(), serde_json::json!("by hand"))]),
    }
}

fn float_mlp_net() -> FloatNetwork {
    let mut s = 11u64;
    let mut r = |n: usize| (0..n).map(|_| lcg(&mut s)).collect::<Vec<f32>>();
    Network {
        name: "float-mlp".into(),
        input: InputSpec {
            shape: Shape::flat(8),
            encoding: Encoding::Rate { seed: 3 },
        },
        layers: vec![
            Layer::Dense(Dense {
                in_features: 8,
                out_features: 6,
                weight: r(48),
                bias: None,
            }),
            Layer::LifRecurrent(LifRecurrent {
                leak: Leak::Lambda { lam: 0.875 },
                group: 3,
                thresholds: vec![0.25, 0.5, 0.75, 0.375, 0.5, 0.875],
                lateral: r(18),
            }),
            Layer::Dense(Dense {
                in_features: 6,
                out_features: 4,
                weight: r(24),
                bias: Some(r(4)),
            }),
            Layer::LifGroup(LifGroup {
                leak: Leak::Lambda { lam: 0.5 },
                group: 1,
                thresholds: vec![0.5],
                rho: vec![0.625],
                reset: Reset::Subtract,
            }),
            Layer::Dense(Dense {
                in_features: 4,
                out_features: 4,
                weight: r(16),
                bias: Some(r(4)),
            }),
            Layer::Lifb(Lifb {
                leak: Leak::Lambda { lam: 0.5 },
                threshold: vec![0.375],
                spacing: vec![0.25],
                max_burst: 1,
                reset: Reset::Subtract,
            }),
            Layer::Dense(Dense {
                in_features: 4,
                out_features: 3,
                weight: r(12),
                bias: Some(r(3)),
            }),
        ],
        fixed: None,
        meta: BTreeMap::new(),
    }
}

fn int_net() -> IntNetwork {
    let mut s = 5u64;
    let mut r = |n: usize| {
        (0..n)
            .map(|_| (lcg(&mut s) * 100.0) as i32)
            .collect::<Vec<i32>>()
    };
    let layers = vec![
        Layer::Dense(Dense {
            in_features: 4,
            out_features: 6,
            weight: r(24),
            bias: Some(r(6)),
        }),
        Layer::Lifb(Lifb {
            leak: Leak::Fixed { d: 3 },
            threshold: vec![40, 50, 60, 70, 80, 90],
            spacing: vec![16],
            max_burst: 1,
            reset: Reset::Subtract,
        }),
        Layer::Dense(Dense {
            in_features: 6,
            out_features: 6,
            weight: r(36),
            bias: None,
        }),
        Layer::LifRecurrent(LifRecurrent {
            leak: Leak::Fixed { d: 0 },
            group: 3,
            thresholds: vec![30, 45, 60],
            lateral: vec![0, -30, -30, -15, -15, -30, -15, -30, 0],
        }),
        Layer::Dense(Dense {
            in_features: 6,
            out_features: 3,
            weight: r(18),
            bias: Some(r(3)),
        }),
        Layer::Lifb(Lifb {
            leak: Leak::Fixed { d: 16 },
            threshold: vec![25],
            spacing: vec![1],
            max_burst: 1,
            reset: Reset::Zero,
        }),
    ];
    let n = layers.len();
    Network {
        name: "int".into(),
        input: InputSpec {
            shape: Shape::flat(4),
            encoding: Encoding::Burst { max_count: 3 },
        },
        layers,
        fixed: Some(FixedPoint {
            weight_bits: 8,
            membrane_bits: 16,
            input_bits: 4,
            leak_frac_bits: 4,
            scales: vec![0.5; n],
        }),
        meta: BTreeMap::new(),
    }
}

fn round_trip(net: AnyNetwork) -> AnyNetwork {
    let out = export_any(&net, &ExportOptions::default()).unwrap();
    let again = export_any(&net, &ExportOptions::default()).unwrap();
    assert_eq!(out.bytes, again.bytes, "export must be deterministic");
    let imp = import_bytes(&out.bytes, &ImportOptions::default()).unwrap();
    assert_eq!(imp.preset, Preset::LifbHdl);
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    imp.network
}

#[test]
fn float_networks_round_trip_exactly() {
    for net in [float_conv_net(), float_mlp_net()] {
        net.validate().unwrap();
        let back = round_trip(AnyNetwork::Float(net.clone()));
        assert_eq!(back, AnyNetwork::Float(net));
    }
}

#[test]
fn integer_network_round_trips_exactly() {
    let net = int_net();
    net.validate().unwrap();
    let back = round_trip(AnyNetwork::Integer(net.clone()));
    assert_eq!(back, AnyNetwork::Integer(net));
}

#[test]
fn imported_fixtures_round_trip_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nir");
    let cases: [(&str, Preset, Option<f64>); 6] = [
        ("snntorch_mlp_subtract.nir", Preset::Snntorch, None),
        ("snntorch_real.nir", Preset::Snntorch, None),
        ("snntorch_mlp_zero.nir", Preset::Snntorch, None),
        ("norse_mlp.nir", Preset::Norse, None),
        ("generic_conv.nir", Preset::Generic, Some(1.0)),
        ("legacy_avgpool.nir", Preset::Generic, Some(1.0)),
    ];
    for (f, preset, dt) in cases {
        let opts = ImportOptions {
            preset: Some(preset),
            dt,
            ..ImportOptions::default()
        };
        let net = lifb_hdl::nir::import_file(&dir.join(f), &opts)
            .unwrap()
            .network;
        assert_eq!(round_trip(net.clone()), net, "{f}");
    }
}

#[test]
fn burst_layers_are_refused_with_the_way_out() {
    let mut net = float_mlp_net();
    if let Layer::Lifb(l) = &mut net.layers[5] {
        l.max_burst = 3;
    }
    let e = export(&net, &ExportOptions::default()).unwrap_err();
    assert!(
        e.message.contains("layer 5 (lifb)") && e.message.contains("decouple"),
        "{e}"
    );
}

/// A Python interpreter with the `nir` package: $LIFB_PYTHON, the repo's .venv-nir, or python3.
fn python_with_nir() -> Option<String> {
    let mut candidates = vec![];
    if let Ok(p) = std::env::var("LIFB_PYTHON") {
        candidates.push(p);
    }
    for venv in [".venv-nir", ".venv"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(venv)
            .join("bin/python");
        candidates.push(p.to_string_lossy().into_owned());
    }
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import nir"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

const CHECK: &str = r#"
import json, sys
import numpy as np
import nir
g = nir.read(sys.argv[1])  # with nir's own type check
want = json.load(open(sys.argv[2]))
got = {k: type(v).__name__ for k, v in g.nodes.items()}
assert got == want["types"], (got, want["types"])
assert sorted(map(tuple, g.edges)) == sorted(map(tuple, want["edges"])), g.edges
for name, params in want["params"].items():
    node = g.nodes[name]
    for p, (shape, values) in params.items():
        a = np.asarray(getattr(node, p), dtype=np.float64)
        assert list(a.shape) == shape, (name, p, a.shape, shape)
        assert np.array_equal(a.reshape(-1), np.asarray(values, dtype=np.float64)), (name, p)
meta = json.loads(g.metadata["lifb_hdl"].decode() if isinstance(g.metadata["lifb_hdl"], bytes) else g.metadata["lifb_hdl"])
assert meta["format"] == "lifb-hdl"
print("nir-check-ok")
"#;

#[test]
fn exported_files_open_with_the_python_nir_package() {
    let Some(py) = python_with_nir() else {
        crate::common::skip(
            "exported_files_open_with_the_python_nir_package",
            "no Python with the nir package",
        );
        return;
    };
    let dir = common::Scratch::new("nir-py");
    let net = float_mlp_net();
    let out = export(&net, &ExportOptions::default()).unwrap();
    let nir_path = dir.join("mlp.nir");
    std::fs::write(&nir_path, &out.bytes).unwrap();
    let (Layer::Dense(d0), Layer::LifRecurrent(rec), Layer::Lifb(lif5)) =
        (&net.layers[0], &net.layers[1], &net.layers[5])
    else {
        panic!()
    };
    // Recurrent weights: block-diagonal 6x6 from the lateral rows.
    let mut w = vec![0f64; 36];
    for p in 0..2 {
        for k in 0..3 {
            for j in 0..3 {
                w[(p * 3 + k) * 6 + p * 3 + j] = rec.lateral[p * 9 + k * 3 + j] as f64;
            }
        }
    }
    let th1: Vec<f64> = rec
        .thresholds
        .iter()
        .map(|&t| t.next_down() as f64)
        .collect();
    let tau5 = 1e-4 / (1.0 - 0.5f32 as f64);
    let want = serde_json::json!({
        "types": {"input": "Input", "l0_dense": "Linear", "l1_lif_recurrent": "LIF",
                  "l1_lif_recurrent_recurrent": "Linear", "l2_dense": "Affine", "l3_lif_group": "LIF",
                  "l4_dense": "Affine", "l5_lif": "LIF", "l6_dense": "Affine", "readout": "I", "output": "Output"},
        "edges": [["input", "l0_dense"], ["l0_dense", "l1_lif_recurrent"],
                  ["l1_lif_recurrent", "l1_lif_recurrent_recurrent"], ["l1_lif_recurrent_recurrent", "l1_lif_recurrent"],
                  ["l1_lif_recurrent", "l2_dense"], ["l2_dense", "l3_lif_group"], ["l3_lif_group", "l4_dense"],
                  ["l4_dense", "l5_lif"], ["l5_lif", "l6_dense"], ["l6_dense", "readout"], ["readout", "output"]],
        "params": {
            "l0_dense": {"weight": [[6, 8], d0.weight.iter().map(|&x| x as f64).collect::<Vec<_>>()]},
            "l1_lif_recurrent": {"v_threshold": [[6], th1]},
            "l1_lif_recurrent_recurrent": {"weight": [[6, 6], w]},
            "l5_lif": {"v_threshold": [[4], vec![lif5.threshold[0].next_down() as f64; 4]],
                       "tau": [[4], vec![tau5; 4]], "r": [[4], vec![tau5 / 1e-4; 4]], "v_leak": [[4], vec![0.0; 4]]},
            "readout": {"r": [[3], vec![1e4; 3]]},
        }
    });
    let want_path = dir.join("want.json");
    std::fs::write(&want_path, want.to_string()).unwrap();
    let out = std::process::Command::new(&py)
        .args(["-c", CHECK])
        .arg(&nir_path)
        .arg(&want_path)
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("nir-check-ok"),
        "python nir check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An independent NIR simulator (numpy, float64): forward Euler at the file's dt, fire on
/// v > v_threshold, reset per node metadata (subtract reset_amount) or to v_reset, recurrent
/// weights on a LIF -> W -> LIF cycle read the previous step's spikes, I nodes integrate.
const NIR_SIM: &str = r#"
import json, sys
import numpy as np
import nir
g = nir.read(sys.argv[1])
spec = json.load(open(sys.argv[2]))
dt = json.loads(g.metadata["lifb_hdl"])["dt"]
succ, pred = {}, {}
for a, b in g.edges:
    succ.setdefault(a, []).append(b); pred.setdefault(b, []).append(a)
rec = {n: pred[n][0] for n in g.nodes if len(pred.get(n, [])) == 1 and succ.get(n) == pred.get(n)}
chain, cur = [], "input"
while True:
    nxt = [s for s in succ.get(cur, []) if s not in rec]
    if not nxt: break
    cur = nxt[0]; chain.append(cur)
def meta(n):
    m = getattr(g.nodes[n], "metadata", None) or {}
    v = m.get("lifb_hdl")
    return json.loads(v.decode() if isinstance(v, bytes) else v) if v is not None else {}
def conv(x, w, b, stride, pad):
    c, h, wd = x.shape; o, ci, kh, kw = w.shape
    xp = np.zeros((c, h + 2 * pad[0], wd + 2 * pad[1])); xp[:, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    oh = (h + 2 * pad[0] - kh) // stride[0] + 1; ow = (wd + 2 * pad[1] - kw) // stride[1] + 1
    out = np.zeros((o, oh, ow))
    for y in range(oh):
        for z in range(ow):
            patch = xp[:, y * stride[0]:y * stride[0] + kh, z * stride[1]:z * stride[1] + kw]
            out[:, y, z] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2])) + b
    return out
def pool(x, k, s, avg):
    c, h, w = x.shape; oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((c, oh, ow))
    for y in range(oh):
        for z in range(ow):
            out[:, y, z] = x[:, y * s[0]:y * s[0] + k[0], z * s[1]:z * s[1] + k[1]].sum(axis=(1, 2))
    return out / (k[0] * k[1]) if avg else out
results = []
in_shape = tuple(int(d) for d in g.nodes["input"].input_type["input"])
for x0 in spec["inputs"]:
    v, prev, spikes, readout = {}, {}, {n: [] for n in chain if type(g.nodes[n]).__name__ in ("LIF", "IF")}, None
    for t in range(spec["steps"]):
        x = np.array(x0, dtype=np.float64).reshape(in_shape)
        for n in chain:
            node = g.nodes[n]; k = type(node).__name__
            if k == "Affine": x = node.weight @ x.reshape(-1) + node.bias
            elif k == "Linear": x = node.weight @ x.reshape(-1)
            elif k == "Conv2d": x = conv(x, node.weight, node.bias, node.stride, node.padding)
            elif k in ("SumPool2d", "AvgPool2d"): x = pool(x, node.kernel_size, node.stride, k == "AvgPool2d")
            elif k == "Flatten": x = x.reshape(-1)
            elif k in ("LIF", "IF"):
                shape = node.v_threshold.shape
                i = x.reshape(shape)
                r = [m for m, owner in rec.items() if owner == n]
                if r and n in prev:
                    w = g.nodes[r[0]]
                    s_prev = prev[n]
                    if type(w).__name__ == "Conv2d": i = i + conv(s_prev, w.weight, w.bias, w.stride, w.padding)
                    else: i = i + (w.weight @ s_prev.reshape(-1)).reshape(shape)
                vv = v.get(n, np.zeros(shape))
                if k == "LIF": vv = vv + dt / node.tau * ((node.v_leak - vv) + node.r * i)
                else: vv = vv + dt * node.r * i
                s = (vv > node.v_threshold).astype(np.float64)
                m = meta(n)
                if m.get("reset") == "subtract":
                    vv = vv - s * np.array(m["reset_amount"]).reshape(shape)
                else:
                    vv = np.where(s > 0, node.v_reset, vv)
                v[n], prev[n] = vv, s
                spikes[n].append(s.reshape(-1).astype(int).tolist())
                x = s
            elif k == "I":
                vv = v.get(n, np.zeros(x.shape)) + dt * node.r * x
                v[n] = vv; readout = vv.reshape(-1).tolist()
            elif k == "Output": pass
            else: raise SystemExit("unsupported node " + k)
    results.append({"spikes": [spikes[n] for n in spikes], "readout": readout})
json.dump(results, sys.stdout)
"#;

#[test]
fn exported_networks_run_the_same_in_an_independent_nir_simulator() {
    let Some(py) = python_with_nir() else {
        crate::common::skip(
            "exported_networks_run_the_same_in_an_independent_nir_simulator",
            "no Python with the nir package",
        );
        return;
    };
    use lifb_hdl::golden::{Sim, TraceOptions};
    let dir = common::Scratch::new("nir-sim");
    let mut spikes_seen = 0u64;
    for mut net in [float_conv_net(), float_mlp_net()] {
        net.input.encoding = Encoding::Direct;
        // dt = 1: tau = 1/(1-lam) and r = tau are exact for these leaks, so NIR's Euler update
        // v + dt/tau (v_leak - v + r I) is computed exactly in float64.
        let out = export(&net, &ExportOptions { dt: 1.0 }).unwrap();
        let path = dir.join(format!("{}.nir", net.name));
        std::fs::write(&path, &out.bytes).unwrap();
        let n_in = net.input.shape.len();
        let inputs: Vec<Vec<f32>> = (0..4)
            .map(|s| {
                (0..n_in)
                    .map(|i| ((s * 5 + i * 3) % 5) as f32 / 4.0)
                    .collect()
            })
            .collect();
        let spec = dir.join("spec.json");
        std::fs::write(
            &spec,
            serde_json::json!({"inputs": inputs, "steps": 10}).to_string(),
        )
        .unwrap();
        let o = std::process::Command::new(&py)
            .args(["-c", NIR_SIM])
            .arg(&path)
            .arg(&spec)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let results: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let sim = Sim::<f32>::new(&net).unwrap();
        for (s, input) in inputs.iter().enumerate() {
            let t = sim
                .run(
                    input,
                    s as u64,
                    10,
                    TraceOptions {
                        counts: true,
                        membranes: false,
                    },
                )
                .unwrap();
            let want = &results[s];
            for (li, lt) in t.layers.iter().enumerate() {
                assert_eq!(
                    serde_json::to_value(&lt.counts).unwrap(),
                    want["spikes"][li],
                    "{}: sample {s}, neuron layer {li} (layer {}): NIR simulation differs",
                    net.name,
                    lt.layer
                );
                spikes_seen += lt.counts.iter().flatten().map(|&c| c as u64).sum::<u64>();
            }
            if !want["readout"].is_null() {
                assert_eq!(
                    serde_json::to_value(&t.readout).unwrap(),
                    want["readout"],
                    "{}: readout",
                    net.name
                );
            }
        }
    }
    assert!(spikes_seen > 200, "needs spike activity, got {spikes_seen}");
}

fn lifb_net() -> FloatNetwork {
    let mut s = 23u64;
    let mut r = |n: usize| (0..n).map(|_| lcg(&mut s) + 0.25).collect::<Vec<f32>>();
    Network {
        name: "lifb".into(),
        input: InputSpec {
            shape: Shape::flat(6),
            encoding: Encoding::Direct,
        },
        layers: vec![
            Layer::Dense(Dense {
                in_features: 6,
                out_features: 5,
                weight: r(30),
                bias: Some(r(5)),
            }),
            Layer::Lifb(Lifb {
                leak: Leak::Lambda { lam: 1.0 },
                threshold: vec![0.5, 0.75, 0.5, 1.0, 0.625],
                spacing: vec![0.25],
                max_burst: 3,
                reset: Reset::Subtract,
            }),
            Layer::Dense(Dense {
                in_features: 5,
                out_features: 3,
                weight: r(15),
                bias: None,
            }),
            Layer::Lifb(Lifb {
                leak: Leak::Lambda { lam: 0.5 },
                threshold: vec![0.5],
                spacing: vec![0.5],
                max_burst: 4,
                reset: Reset::Subtract,
            }),
        ],
        fixed: None,
        meta: BTreeMap::new(),
    }
}

#[test]
fn decoupled_lifb_network_runs_on_a_lif_only_nir_simulator() {
    // LIFB network -> pure-LIF form (lifb_hdl::decouple) -> NIR -> an independent LIF-only NIR
    // simulation: its spikes are the decoupled network's, and its group sums the LIFB counts.
    let Some(py) = python_with_nir() else {
        crate::common::skip(
            "decoupled_lifb_network_runs_on_a_lif_only_nir_simulator",
            "no Python with the nir package",
        );
        return;
    };
    use lifb_hdl::golden::{Sim, TraceOptions};
    let net = lifb_net();
    let lif = lifb_hdl::decouple::to_pure_lif(&net).unwrap();
    assert!(lif
        .layers
        .iter()
        .all(|l| !matches!(l, Layer::Lifb(n) if n.max_burst > 1)));
    let out = export(&lif, &ExportOptions { dt: 1.0 }).unwrap();
    assert!(
        export(&net, &ExportOptions::default()).is_err(),
        "LIFB itself has no NIR form"
    );
    let dir = common::Scratch::new("nir-dec");
    let path = dir.join("lif.nir");
    std::fs::write(&path, &out.bytes).unwrap();
    let inputs: Vec<Vec<f32>> = (0..6)
        .map(|s| (0..6).map(|i| ((s * 3 + i * 7) % 5) as f32 / 4.0).collect())
        .collect();
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({"inputs": inputs, "steps": 12}).to_string(),
    )
    .unwrap();
    let o = std::process::Command::new(&py)
        .args(["-c", NIR_SIM])
        .arg(&path)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let results: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (orig, dec) = (
        Sim::<f32>::new(&net).unwrap(),
        Sim::<f32>::new(&lif).unwrap(),
    );
    let mut bursts = 0;
    for (s, input) in inputs.iter().enumerate() {
        let opts = TraceOptions {
            counts: true,
            membranes: false,
        };
        let (to, td) = (
            orig.run(input, s as u64, 12, opts).unwrap(),
            dec.run(input, s as u64, 12, opts).unwrap(),
        );
        for (li, lt) in td.layers.iter().enumerate() {
            assert_eq!(
                serde_json::to_value(&lt.counts).unwrap(),
                results[s]["spikes"][li],
                "sample {s}, layer {li}"
            );
        }
        // The LIF-only run, summed per group of sub-units, gives the LIFB network's counts.
        let last: Vec<Vec<u32>> = serde_json::from_value(results[s]["spikes"][1].clone()).unwrap();
        let summed: Vec<f64> = (0..3)
            .map(|c| {
                last.iter()
                    .map(|step| step[c * 4..c * 4 + 4].iter().sum::<u32>() as f64)
                    .sum()
            })
            .collect();
        assert_eq!(
            summed, to.readout,
            "sample {s}: LIF-only readout vs LIFB readout"
        );
        bursts += to
            .layers
            .iter()
            .flat_map(|l| l.counts.iter().flatten())
            .filter(|&&c| c >= 2)
            .count();
    }
    assert!(
        bursts > 10,
        "the test needs bursts (counts >= 2), got {bursts}"
    );
}

#[test]
fn exported_integer_networks_run_the_same_in_the_nir_simulator_when_the_leak_is_exact() {
    // d = 0 (no leak): NIR's IF with v_threshold = theta - 1/2 and reset_amount = theta is exact
    // for integer membranes (as long as none saturates; 24-bit membranes here).
    let Some(py) = python_with_nir() else {
        crate::common::skip(
            "exported_integer_networks_run_the_same_in_the_nir_simulator_when_the_leak_is_exact",
            "no Python with the nir package",
        );
        return;
    };
    use lifb_hdl::golden::{Sim, TraceOptions};
    let mut net = int_net();
    net.input.encoding = Encoding::Direct;
    net.fixed.as_mut().unwrap().membrane_bits = 24;
    for l in &mut net.layers {
        match l {
            Layer::Lifb(n) => n.leak = Leak::Fixed { d: 0 },
            Layer::LifRecurrent(n) => n.leak = Leak::Fixed { d: 0 },
            _ => {}
        }
    }
    let out = export(&net, &ExportOptions { dt: 1.0 }).unwrap();
    let dir = common::Scratch::new("nir-int");
    let path = dir.join("int.nir");
    std::fs::write(&path, &out.bytes).unwrap();
    let inputs: Vec<Vec<u32>> = (0..5)
        .map(|s| (0..4).map(|i| ((s * 7 + i * 5) % 16) as u32).collect())
        .collect();
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({"inputs": inputs, "steps": 10}).to_string(),
    )
    .unwrap();
    let o = std::process::Command::new(&py)
        .args(["-c", NIR_SIM])
        .arg(&path)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let results: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sim = Sim::<i32>::new(&net).unwrap();
    let mut spikes = 0u64;
    for (s, input) in inputs.iter().enumerate() {
        let t = sim
            .run(
                input,
                s as u64,
                10,
                TraceOptions {
                    counts: true,
                    membranes: false,
                },
            )
            .unwrap();
        for (li, lt) in t.layers.iter().enumerate() {
            assert_eq!(
                serde_json::to_value(&lt.counts).unwrap(),
                results[s]["spikes"][li],
                "sample {s}, layer {li}"
            );
            spikes += lt.counts.iter().flatten().map(|&c| c as u64).sum::<u64>();
        }
    }
    assert!(spikes > 50, "needs spike activity, got {spikes}");
}

#[test]
fn mutated_exported_files_never_panic() {
    // Our own files exercise the metadata paths (integer networks, recurrent groups, lengths).
    let mut seed = 99u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut errors = 0;
    for net in [
        AnyNetwork::Integer(int_net()),
        AnyNetwork::Float(float_conv_net()),
    ] {
        let bytes = export_any(&net, &ExportOptions::default()).unwrap().bytes;
        for i in 0..200 {
            let mut b = bytes.clone();
            if i % 4 == 0 {
                b.truncate(next(bytes.len()));
            } else {
                for _ in 0..1 + next(3) {
                    let at = next(b.len());
                    b[at] ^= 1 << next(8);
                }
            }
            match std::panic::catch_unwind(|| import_bytes(&b, &ImportOptions::default())) {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    assert!(
                        !e.message.contains("internal error"),
                        "mutation {i}: decoder panicked: {e}"
                    );
                    errors += 1;
                }
                Err(_) => panic!("mutation {i} panicked"),
            }
        }
    }
    assert!(errors > 0);
}
