//! `import --safetensors --arch`: snnTorch state_dicts reproduce the snnTorch reference spikes of
//! the NIR fixtures (same weights, framework equations), BrainCog LIFNode networks reproduce a
//! reference computed here with BrainCog's equations, BurstLIFNode is refused with the reason.

use crate::common::nir_reference;
use lifb_hdl::format::AnyNetwork;
use lifb_hdl::golden::{Sim, TraceOptions};
use lifb_hdl::import::{import_parts, Arch};
use lifb_hdl::nir::read::{read_bytes, Value};
use safetensors::tensor::{Dtype, TensorView};
use std::path::Path;

struct T {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn f32t(name: &str, shape: Vec<usize>, v: &[f64]) -> T {
    T {
        name: name.into(),
        dtype: Dtype::F32,
        shape,
        bytes: v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect(),
    }
}

fn i64t(name: &str, v: i64) -> T {
    T {
        name: name.into(),
        dtype: Dtype::I64,
        shape: vec![],
        bytes: v.to_le_bytes().to_vec(),
    }
}

fn safetensors_bytes(ts: &[T]) -> Vec<u8> {
    let views: Vec<(String, TensorView)> = ts
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                TensorView::new(t.dtype, t.shape.clone(), &t.bytes).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn arch(json: serde_json::Value) -> Arch {
    serde_json::from_value(json).unwrap()
}

/// The raw tensors of one node of a NIR fixture.
fn nir_param(file: &Value, node: &str, p: &str) -> (Vec<usize>, Vec<f64>) {
    let Value::Group(root) = file else { panic!() };
    let Some(Value::Group(nodes)) = root.members.get("nodes") else {
        panic!()
    };
    let Some(Value::Group(n)) = nodes.members.get(node) else {
        panic!("{node}")
    };
    let Some(Value::Tensor(t)) = n.members.get(p) else {
        panic!("{node}.{p}")
    };
    (t.shape.clone(), t.data.clone())
}

fn check_against_reference(net: &lifb_hdl::ir::FloatNetwork, reference: &serde_json::Value) {
    let sim = Sim::<f32>::new(net).unwrap();
    let steps = nir_reference::steps(reference);
    for (si, sample) in nir_reference::samples(reference).iter().enumerate() {
        let t = nir_reference::simulate(&sim, &sample.input, si, steps);
        for (li, (lt, (_, counts))) in t.layers.iter().zip(&sample.layers).enumerate() {
            assert_eq!(&lt.counts, counts, "sample {si}, neuron layer {li}");
        }
    }
}

#[test]
fn snntorch_state_dicts_reproduce_the_snntorch_reference() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nir");
    for (fixture, reset_val) in [("snntorch_mlp_subtract", 0), ("snntorch_mlp_zero", 1)] {
        let file = read_bytes(&std::fs::read(dir.join(format!("{fixture}.nir"))).unwrap()).unwrap();
        let root = Value::Group(file.node);
        let reference: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{fixture}.ref.json"))).unwrap(),
        )
        .unwrap();
        let mut ts = Vec::new();
        for (fc, lif) in [("fc1", "lif1"), ("fc2", "lif2")] {
            let (ws, w) = nir_param(&root, fc, "weight");
            let (bs, b) = nir_param(&root, fc, "bias");
            ts.push(f32t(&format!("{fc}.weight"), ws, &w));
            ts.push(f32t(&format!("{fc}.bias"), bs, &b));
            // snnTorch's own buffers: beta = 1 - dt/tau, threshold, reset_mechanism_val.
            let (sh, tau) = nir_param(&root, lif, "tau");
            let beta: Vec<f64> = tau
                .iter()
                .map(|&t| ((1.0 - 1e-4 / t) as f32) as f64)
                .collect();
            ts.push(f32t(&format!("{lif}.beta"), sh, &beta));
            let (sh, thr) = nir_param(&root, lif, "v_threshold");
            ts.push(f32t(&format!("{lif}.threshold"), sh, &thr));
            ts.push(i64t(&format!("{lif}.reset_mechanism_val"), reset_val));
            ts.push(f32t(&format!("{lif}.graded_spikes_factor"), vec![], &[1.0]));
        }
        let a = arch(serde_json::json!({
            "convention": "snntorch", "input": [8],
            "layers": [{"type": "linear", "name": "fc1"}, {"type": "leaky", "name": "lif1"},
                       {"type": "linear", "name": "fc2"}, {"type": "leaky", "name": "lif2"}]
        }));
        let imp = import_parts(&safetensors_bytes(&ts), &a, Some("snn")).unwrap();
        check_against_reference(&imp.network, &reference);
        // The same network as the NIR import of the fixture (up to provenance).
        let opts = lifb_hdl::nir::ImportOptions {
            preset: Some(lifb_hdl::nir::Preset::Snntorch),
            reset: (reset_val == 1).then_some(lifb_hdl::ir::Reset::Zero),
            ..Default::default()
        };
        let AnyNetwork::Float(from_nir) =
            lifb_hdl::nir::import_file(&dir.join(format!("{fixture}.nir")), &opts)
                .unwrap()
                .network
        else {
            panic!()
        };
        assert_eq!(imp.network.layers, from_nir.layers, "{fixture}");
    }
}

/// BrainCog LIFNode, in f64: mem += (x - mem)/tau; spike = mem > thr; mem *= 1 - spike.
fn braincog_reference(w1: &[f64], w2: &[f64], x: &[f64], steps: usize) -> Vec<Vec<Vec<u32>>> {
    let (n_in, n_h, n_o) = (6, 5, 3);
    let (tau, thr) = (2.0, 0.5);
    let mut m1 = vec![0.0; n_h];
    let mut m2 = vec![0.0; n_o];
    let mut out = vec![vec![], vec![]];
    for _ in 0..steps {
        let mut s1 = vec![0u32; n_h];
        for o in 0..n_h {
            let i: f64 = (0..n_in).map(|j| w1[o * n_in + j] * x[j]).sum();
            m1[o] += (i - m1[o]) / tau;
            s1[o] = (m1[o] > thr) as u32;
            m1[o] *= 1.0 - s1[o] as f64;
        }
        let mut s2 = vec![0u32; n_o];
        for o in 0..n_o {
            let i: f64 = (0..n_h).map(|j| w2[o * n_h + j] * s1[j] as f64).sum();
            m2[o] += (i - m2[o]) / tau;
            s2[o] = (m2[o] > thr) as u32;
            m2[o] *= 1.0 - s2[o] as f64;
        }
        out[0].push(s1);
        out[1].push(s2);
    }
    out
}

#[test]
fn braincog_lifnode_networks_reproduce_braincog_equations() {
    // Dyadic weights and inputs: exact in f32 and f64, so the comparison is bit-exact.
    let mut seed = 3u64;
    let mut q = |n: usize, den: f64| -> Vec<f64> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((seed >> 33) % 17) as f64 / den - 4.0 / den
            })
            .collect()
    };
    let w1 = q(30, 8.0);
    let w2 = q(15, 8.0);
    let ts = vec![
        f32t("fc1.weight", vec![5, 6], &w1),
        f32t("fc2.weight", vec![3, 5], &w2),
        f32t("node1.threshold", vec![], &[0.5]),
    ];
    let a = arch(serde_json::json!({
        "convention": "braincog", "input": [6],
        "layers": [{"type": "linear", "name": "fc1"}, {"type": "lif", "name": "node1", "tau": 2.0},
                   {"type": "linear", "name": "fc2"}, {"type": "lif", "name": "node2", "tau": 2.0, "threshold": 0.5}]
    }));
    let imp = import_parts(&safetensors_bytes(&ts), &a, None).unwrap();
    let sim = Sim::<f32>::new(&imp.network).unwrap();
    let mut spikes = 0;
    for s in 0..6 {
        let x: Vec<f64> = (0..6)
            .map(|i| (((s * 7 + i * 3) % 5) as f64) / 4.0)
            .collect();
        let want = braincog_reference(&w1, &w2, &x, 10);
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let t = sim
            .run(
                &xf,
                s as u64,
                10,
                TraceOptions {
                    counts: true,
                    membranes: false,
                },
            )
            .unwrap();
        assert_eq!(t.layers.len(), want.len());
        for (l, (lt, w)) in t.layers.iter().zip(&want).enumerate() {
            assert_eq!(&lt.counts, w, "sample {s}, neuron layer {l}");
            spikes += w.iter().flatten().sum::<u32>();
        }
    }
    assert!(spikes > 20, "the test needs spike activity, got {spikes}");
}

#[test]
fn braincog_burst_lif_is_refused_with_the_reason() {
    let ts = vec![f32t("fc1.weight", vec![2, 2], &[1.0, 0.0, 0.0, 1.0])];
    let a = arch(serde_json::json!({
        "convention": "braincog", "input": [2],
        "layers": [{"type": "linear", "name": "fc1"}, {"type": "burst_lif", "name": "burst"}]
    }));
    let e = import_parts(&safetensors_bytes(&ts), &a, None)
        .err()
        .expect("refused");
    assert!(
        e.message.contains("'burst' (BrainCog BurstLIFNode)") && e.message.contains("H*(1 - c)"),
        "{e}"
    );
}

#[test]
fn bad_state_dicts_give_clear_errors() {
    let a = arch(serde_json::json!({"convention": "snntorch", "input": [2],
        "layers": [{"type": "linear", "name": "fc1"}, {"type": "leaky", "name": "lif1", "beta": 0.5}]}));
    let e = import_parts(b"garbage", &a, None).err().unwrap();
    assert!(e.message.contains("safetensors"), "{e}");
    let ts = vec![f32t("fc9.weight", vec![2, 2], &[1.0; 4])];
    let e = import_parts(&safetensors_bytes(&ts), &a, None)
        .err()
        .unwrap();
    assert!(e.message.contains("'fc1.weight'"), "{e}");
}
