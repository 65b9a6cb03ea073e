//! Fuzzing the four readers of untrusted files: the model loader (manifest + safetensors), the
//! NIR importer, the state-dict importer (safetensors + architecture) and the input-set reader.
//! None may panic, hang or allocate without bound, whatever the bytes; docs/reliability.md has
//! the figures of the long campaigns.
//!
//! `cargo test --release --test fuzz` runs a short slice of each campaign (a few seconds per
//! target). The long campaign (scripts/fuzz.sh):
//!
//! ```text
//! LIFB_FUZZ_EXECS=1000000 cargo test --release --test fuzz -- --nocapture --test-threads=1
//! ```
//!
//! Variables: LIFB_FUZZ_EXECS (executions per target), LIFB_FUZZ_SEED (default 1),
//! LIFB_FUZZ_OUT (default target/fuzz-out, target/fuzz-slice for the slice; reproducers go to
//! <out>/<target>/<kind>-<exec>/),
//! LIFB_FUZZ_TIMEOUT_MS (hang limit, default 2000), LIFB_FUZZ_MEM_CAP (live bytes one execution
//! may add, default 1 GiB), LIFB_FUZZ_MEM_HARD (the process stops above, default 3 GiB).
//! A reproducer replays with `LIFB_FUZZ_REPLAY=<folder> cargo test --release --test fuzz replay
//! -- --nocapture`.

mod engine;
mod mutate;

use engine::{Input, Outcome, Target};
use lifb_hdl::format::{self, AnyNetwork};
use lifb_hdl::import::{import_parts, Arch};
use lifb_hdl::inputs::{InputFile, InputSet, TrainRules};
use lifb_hdl::ir::random::{random_network, RandomSpec};
use lifb_hdl::ir::{FloatNetwork, IntNetwork, Layer, Network};
use lifb_hdl::nir::{self, ImportOptions, Preset};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, TensorView};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[global_allocator]
static ALLOC: engine::CountingAlloc = engine::CountingAlloc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------- the model loader

/// Float copies of integer networks (weights halved), so both precisions are seeds.
fn to_float(net: &IntNetwork) -> Option<FloatNetwork> {
    let f = |v: &Vec<i32>| v.iter().map(|&x| x as f32 * 0.5).collect::<Vec<f32>>();
    let layers = net
        .layers
        .iter()
        .map(|l| {
            Some(match l {
                Layer::Dense(d) => Layer::Dense(lifb_hdl::ir::Dense {
                    in_features: d.in_features,
                    out_features: d.out_features,
                    weight: f(&d.weight),
                    bias: d.bias.as_ref().map(f),
                }),
                Layer::Conv2d(c) => Layer::Conv2d(lifb_hdl::ir::Conv2d {
                    in_channels: c.in_channels,
                    out_channels: c.out_channels,
                    kernel: c.kernel,
                    stride: c.stride,
                    padding: c.padding,
                    weight: f(&c.weight),
                    bias: c.bias.as_ref().map(f),
                }),
                Layer::Lifb(n) => Layer::Lifb(lifb_hdl::ir::Lifb {
                    leak: lifb_hdl::ir::Leak::Lambda { lam: 0.75 },
                    threshold: f(&n.threshold),
                    spacing: f(&n.spacing),
                    max_burst: n.max_burst,
                    reset: n.reset,
                }),
                Layer::Pool(p) => Layer::Pool(*p),
                Layer::Flatten => Layer::Flatten,
                _ => return None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let n = Network {
        name: net.name.clone(),
        input: net.input.clone(),
        layers,
        fixed: None,
        meta: net.meta.clone(),
    };
    n.validate().ok().map(|_| n)
}

/// Small networks with every layer kind, in both precisions.
fn small_networks() -> Vec<AnyNetwork> {
    let mut out = Vec::new();
    for seed in 0..6 {
        let spec = RandomSpec {
            conv: seed % 2 == 1,
            max_inputs: 8,
            max_width: 6,
            max_hidden: 2,
            ..RandomSpec::default()
        };
        let net = random_network(seed, &spec);
        if let Ok(g) = lifb_hdl::decouple::to_lif_groups(&net) {
            out.push(AnyNetwork::Integer(g));
        }
        if let Ok(p) = lifb_hdl::decouple::to_pure_lif(&net) {
            out.push(AnyNetwork::Integer(p));
        }
        if let Some(f) = to_float(&net) {
            out.push(AnyNetwork::Float(f));
        }
        out.push(AnyNetwork::Integer(net));
    }
    out
}

fn encode(net: &AnyNetwork) -> lifb_hdl::Result<(Vec<u8>, Vec<u8>)> {
    match net {
        AnyNetwork::Float(n) => format::to_bytes(n, "model.safetensors"),
        AnyNetwork::Integer(n) => format::to_bytes(n, "model.safetensors"),
    }
}

/// How the loader hashes the tensors file, learnt from a model it wrote (so that the fuzzer
/// follows the format if the hash definition changes).
fn tensors_digest(t: &[u8]) -> String {
    static PLAIN: OnceLock<bool> = OnceLock::new();
    let plain = *PLAIN.get_or_init(|| {
        let (m, t) = encode(&small_networks()[0]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        let want = v["tensors_sha256"].as_str().unwrap().to_string();
        if want == plain_sha256(&t) {
            true
        } else {
            assert_eq!(
                want,
                lifb_hdl::util::sha256_hex(&[&t]),
                "unknown tensors hash"
            );
            false
        }
    });
    if plain {
        plain_sha256(t)
    } else {
        lifb_hdl::util::sha256_hex(&[t])
    }
}

fn plain_sha256(t: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(t)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Put the tensors' hash into the manifest text (wherever its field is, even in a mutated
/// manifest), so that mutations reach past the hash check.
fn fix_hash(manifest: &mut Vec<u8>, tensors: &[u8]) {
    let key = b"\"tensors_sha256\"";
    let Some(k) = manifest.windows(key.len()).position(|w| w == key) else {
        return;
    };
    let mut i = k + key.len();
    while i < manifest.len() && matches!(manifest[i], b' ' | b'\n' | b'\t' | b'\r' | b':') {
        i += 1;
    }
    if i >= manifest.len() || manifest[i] != b'"' {
        return;
    }
    let s = i + 1;
    let Some(e) = manifest[s..].iter().position(|&b| b == b'"') else {
        return;
    };
    let d = tensors_digest(tensors);
    manifest.splice(s..s + e, d.bytes());
}

fn model_target() -> Target {
    let mut seeds: Vec<Input> = Vec::new();
    for name in ["digits-lifb", "mnist-lifb"] {
        let dir = root().join("examples");
        seeds.push(vec![
            read(&dir.join(format!("{name}.json"))),
            read(&dir.join(format!("{name}.safetensors"))),
        ]);
    }
    for n in small_networks() {
        let (m, t) = encode(&n).unwrap();
        seeds.push(vec![m, t]);
    }
    Target {
        name: "model",
        parts: &["model.json", "model.safetensors"],
        seeds,
        mutate: mutate_model,
        run: run_model,
    }
}

fn mutate_model(rng: &mut ChaCha8Rng, x: &mut Input, donor: &Input) {
    for _ in 0..mutate::stack(rng) {
        match rng.random_range(0..10) {
            0..=2 => {
                if !mutate::json(rng, &mut x[0]) {
                    mutate::bytes(rng, &mut x[0], &donor[0]);
                }
            }
            3 => mutate::bytes(rng, &mut x[0], &donor[0]),
            4..=6 => {
                if !mutate::safetensors(rng, &mut x[1]) {
                    mutate::bytes(rng, &mut x[1], &donor[1]);
                }
            }
            7 | 8 => mutate::bytes(rng, &mut x[1], &donor[1]),
            _ => x[1].clone_from(&donor[1]),
        }
    }
    if rng.random_bool(0.95) {
        let (m, t) = x.split_at_mut(1);
        fix_hash(&mut m[0], &t[0]);
    }
}

/// A loaded model re-encodes, and the re-encoding loads to the same model (byte-identical).
/// `meta` is left out: free-form JSON numbers there do not survive a save and load exactly
/// (serde_json's default float parser is not correctly rounded: "1e-45" reads as
/// 1.0000000000000001e-45); see docs/reliability.md.
fn round_trip(net: &AnyNetwork) {
    let mut net = net.clone();
    match &mut net {
        AnyNetwork::Float(n) => n.meta.clear(),
        AnyNetwork::Integer(n) => n.meta.clear(),
    }
    let (m, t) = encode(&net).expect("an accepted model must re-encode");
    let again = format::load_from_bytes(&m, &t).expect("a re-encoded model must load");
    let (m2, t2) = encode(&again).expect("re-encode");
    if (&m2, &t2) != (&m, &t) {
        let at = m
            .iter()
            .zip(&m2)
            .position(|(a, b)| a != b)
            .unwrap_or(m.len().min(m2.len()));
        let show = |x: &[u8]| {
            String::from_utf8_lossy(&x[at.saturating_sub(80)..(at + 80).min(x.len())]).into_owned()
        };
        panic!(
            "a loaded model does not survive a save and load: the manifests differ at byte {at}: {:?} became {:?} (tensors equal: {})",
            show(&m),
            show(&m2),
            t == t2
        );
    }
}

fn run_model(x: &[Vec<u8>]) -> Outcome {
    match format::load_from_bytes(&x[0], &x[1]) {
        Ok(net) => {
            round_trip(&net);
            Outcome::Ok
        }
        Err(e) => Outcome::Err(e),
    }
}

// ---------------------------------------------------------------- the NIR importer

/// Import options as a line of text (a part of the input, so that reproducers carry them).
fn nir_options(text: &[u8]) -> ImportOptions {
    let mut o = ImportOptions::default();
    for tok in String::from_utf8_lossy(text).split_whitespace() {
        match tok.split_once('=') {
            Some(("preset", p)) => {
                o.preset = match p {
                    "snntorch" => Some(Preset::Snntorch),
                    "norse" => Some(Preset::Norse),
                    "generic" => Some(Preset::Generic),
                    _ => None,
                }
            }
            Some(("dt", v)) => o.dt = v.parse().ok(),
            Some(("reset", "zero")) => o.reset = Some(lifb_hdl::ir::Reset::Zero),
            Some(("reset", _)) => o.reset = Some(lifb_hdl::ir::Reset::Subtract),
            Some(("promote", v)) => {
                o.promote = v
                    .split_once(',')
                    .and_then(|(b, s)| Some((b.parse().ok()?, s.parse().ok()?)))
            }
            None if tok == "li" => o.li_readout_sum = true,
            None if tok == "as-ge" => o.compare = nir::Compare::AsGe,
            _ => {}
        }
    }
    o
}

const NIR_OPTIONS: [&str; 10] = [
    "",
    "preset=generic",
    "preset=generic dt=1",
    "preset=snntorch",
    "preset=snntorch reset=zero",
    "preset=norse",
    "preset=generic dt=0.001 li",
    "preset=norse promote=3,0.5",
    "preset=generic dt=1 as-ge",
    "preset=generic dt=1e-300",
];

fn nir_target() -> Target {
    let dir = root().join("tests/fixtures/nir");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nir"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the NIR fixtures are missing");
    let mut seeds: Vec<Input> = Vec::new();
    for f in &files {
        // The options the reference fixtures were made for.
        let r = f.with_extension("ref.json");
        let mut opts = "preset=generic dt=1".to_string();
        if let Ok(t) = std::fs::read_to_string(&r) {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            let a = &v["import_args"];
            opts = format!("preset={}", a["preset"].as_str().unwrap_or("generic"));
            if let Some(dt) = a["dt"].as_f64() {
                opts += &format!(" dt={dt}");
            }
            if let Some(r) = a["reset"].as_str() {
                opts += &format!(" reset={r}");
            }
        }
        seeds.push(vec![read(f), opts.into_bytes()]);
    }
    // Files this tool writes (read with their own metadata, no preset).
    let lif_only = (0..6).map(|seed| {
        let spec = RandomSpec {
            conv: seed % 2 == 1,
            max_inputs: 8,
            max_width: 6,
            max_hidden: 2,
            max_burst: 1,
            ..RandomSpec::default()
        };
        AnyNetwork::Integer(random_network(100 + seed, &spec))
    });
    for n in small_networks().into_iter().chain(lif_only) {
        // Only LIF and pure-LIF (recurrent) networks have a NIR form.
        if let Ok(e) = nir::export_any(&n, &nir::ExportOptions::default()) {
            seeds.push(vec![e.bytes, Vec::new()]);
        }
    }
    Target {
        name: "nir",
        parts: &["file.nir", "options.txt"],
        seeds,
        mutate: mutate_nir,
        run: run_nir,
    }
}

fn mutate_nir(rng: &mut ChaCha8Rng, x: &mut Input, donor: &Input) {
    for _ in 0..mutate::stack(rng) {
        match rng.random_range(0..20) {
            0..=8 => mutate::bytes(rng, &mut x[0], &donor[0]),
            9..=17 => {
                if !mutate::hdf5(rng, &mut x[0]) {
                    mutate::bytes(rng, &mut x[0], &donor[0]);
                }
            }
            _ => x[1] = NIR_OPTIONS[rng.random_range(0..NIR_OPTIONS.len())].into(),
        }
    }
}

fn run_nir(x: &[Vec<u8>]) -> Outcome {
    match nir::import_bytes(&x[0], &nir_options(&x[1])) {
        Ok(imp) => {
            round_trip(&imp.network);
            Outcome::Ok
        }
        Err(e) => Outcome::Err(e),
    }
}

// ---------------------------------------------------------------- the state-dict importer

fn st_bytes(ts: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView)> = ts
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn f32s(n: usize, k: u32) -> Vec<u8> {
    (0..n)
        .flat_map(|i| ((((i as u32 * 7 + k) % 11) as f32 - 5.0) / 8.0).to_le_bytes())
        .collect()
}

fn state_dict_target() -> Target {
    use Dtype::{F32, F64, I64};
    let mut seeds: Vec<Input> = Vec::new();
    // snnTorch MLP with every buffer snnTorch saves.
    seeds.push(vec![
        st_bytes(&[
            ("fc1.weight", F32, vec![4, 3], f32s(12, 1)),
            ("fc1.bias", F32, vec![4], f32s(4, 2)),
            ("lif1.beta", F32, vec![], 0.9f32.to_le_bytes().to_vec()),
            ("lif1.threshold", F32, vec![], 1.0f32.to_le_bytes().to_vec()),
            ("lif1.reset_mechanism_val", I64, vec![], 0i64.to_le_bytes().to_vec()),
            ("lif1.graded_spikes_factor", F32, vec![], 1.0f32.to_le_bytes().to_vec()),
            ("fc2.weight", F32, vec![2, 4], f32s(8, 3)),
            ("lif2.beta", F32, vec![2], [0.8f32, 0.8].iter().flat_map(|v| v.to_le_bytes()).collect()),
        ]),
        serde_json::to_vec_pretty(&serde_json::json!({
            "convention": "snntorch", "name": "mlp", "input": [3],
            "layers": [{"type": "linear", "name": "fc1"}, {"type": "leaky", "name": "lif1"},
                       {"type": "linear", "name": "fc2"}, {"type": "leaky", "name": "lif2", "reset": "subtract"}]
        }))
        .unwrap(),
    ]);
    // snnTorch convolutional network, zero reset, parameters from the architecture.
    seeds.push(vec![
        st_bytes(&[
            ("conv1.weight", F32, vec![2, 1, 3, 3], f32s(18, 4)),
            ("conv1.bias", F32, vec![2], f32s(2, 5)),
            ("fc.weight", F64, vec![3, 8], {
                (0..24).flat_map(|i| (i as f64 / 16.0 - 0.7).to_le_bytes()).collect()
            }),
        ]),
        serde_json::to_vec(&serde_json::json!({
            "convention": "snntorch", "input": [1, 6, 6],
            "layers": [{"type": "conv2d", "name": "conv1", "stride": 1, "padding": 1},
                       {"type": "leaky", "name": "lif1", "beta": 0.5, "threshold": 0.75, "reset": "zero"},
                       {"type": "sum_pool2d", "name": "pool", "kernel": 3},
                       {"type": "flatten", "name": "flat"},
                       {"type": "linear", "name": "fc"},
                       {"type": "leaky", "name": "lif2", "beta": 1.0, "reset": "zero"}]
        }))
        .unwrap(),
    ]);
    // BrainCog LIFNode MLP, and a BurstLIFNode (refused).
    seeds.push(vec![
        st_bytes(&[
            ("fc1.weight", F32, vec![5, 6], f32s(30, 6)),
            ("fc2.weight", F32, vec![3, 5], f32s(15, 7)),
            ("node1.threshold", F32, vec![], 0.5f32.to_le_bytes().to_vec()),
        ]),
        serde_json::to_vec_pretty(&serde_json::json!({
            "convention": "braincog", "input": [6],
            "layers": [{"type": "linear", "name": "fc1"}, {"type": "lif", "name": "node1", "tau": 2.0},
                       {"type": "linear", "name": "fc2"}, {"type": "lif", "name": "node2", "tau": 2.0, "threshold": 0.5}]
        }))
        .unwrap(),
    ]);
    seeds.push(vec![
        st_bytes(&[
            ("conv.weight", F32, vec![1, 1, 2, 2], f32s(4, 8)),
            ("fc.weight", F32, vec![2, 4], f32s(8, 9)),
        ]),
        serde_json::to_vec(&serde_json::json!({
            "convention": "braincog", "input": [1, 4, 4],
            "layers": [{"type": "conv2d", "name": "conv", "stride": 2},
                       {"type": "lif", "name": "n1"},
                       {"type": "avg_pool2d", "name": "pool", "kernel": 1, "stride": 1},
                       {"type": "flatten"},
                       {"type": "linear", "name": "fc"},
                       {"type": "burst_lif", "name": "n2"}]
        }))
        .unwrap(),
    ]);
    Target {
        name: "state-dict",
        parts: &["weights.safetensors", "arch.json"],
        seeds,
        mutate: mutate_state_dict,
        run: run_state_dict,
    }
}

fn mutate_state_dict(rng: &mut ChaCha8Rng, x: &mut Input, donor: &Input) {
    for _ in 0..mutate::stack(rng) {
        match rng.random_range(0..20) {
            0..=6 => {
                if !mutate::json(rng, &mut x[1]) {
                    mutate::bytes(rng, &mut x[1], &donor[1]);
                }
            }
            7 | 8 => mutate::bytes(rng, &mut x[1], &donor[1]),
            9..=14 => {
                if !mutate::safetensors(rng, &mut x[0]) {
                    mutate::bytes(rng, &mut x[0], &donor[0]);
                }
            }
            15..=18 => mutate::bytes(rng, &mut x[0], &donor[0]),
            _ => {
                let i = rng.random_range(0..2);
                x[i].clone_from(&donor[i]);
            }
        }
    }
}

fn run_state_dict(x: &[Vec<u8>]) -> Outcome {
    // As `import_state_dict` reads the architecture file.
    let arch: Arch = match serde_json::from_slice(&x[1]) {
        Ok(a) => a,
        Err(e) => return Outcome::Err(lifb_hdl::Error::bad_input(format!("arch.json: {e}"))),
    };
    match import_parts(&x[0], &arch, None) {
        Ok(imp) => {
            round_trip(&AnyNetwork::Float(imp.network));
            Outcome::Ok
        }
        Err(e) => Outcome::Err(e),
    }
}

// ---------------------------------------------------------------- the input-set reader

fn inputs_target() -> Target {
    let mut seeds: Vec<Input> = Vec::new();
    let vals = [0.0f32, 1.0, 0.5, 1e-7, 0.999_999_94, 0.25, 0.1, 0.333];
    for (k, len) in [1usize, 4, 64, 3].into_iter().enumerate() {
        let samples: Vec<Vec<f32>> = (0..k + 1)
            .map(|s| (0..len).map(|i| vals[(i * 3 + s) % vals.len()]).collect())
            .collect();
        let labels = (k % 2 == 0).then(|| (0..=k as u32).collect::<Vec<u32>>());
        let set = InputSet { samples, labels };
        let bytes = if k == 3 {
            serde_json::to_vec_pretty(&set).unwrap()
        } else {
            serde_json::to_vec(&set).unwrap()
        };
        seeds.push(vec![bytes, len.to_string().into_bytes()]);
    }
    Target {
        name: "inputs",
        parts: &["inputs.json", "input_len.txt"],
        seeds,
        mutate: mutate_inputs,
        run: run_inputs,
    }
}

fn mutate_inputs(rng: &mut ChaCha8Rng, x: &mut Input, donor: &Input) {
    for _ in 0..mutate::stack(rng) {
        match rng.random_range(0..20) {
            0..=9 => {
                if !mutate::json(rng, &mut x[0]) {
                    mutate::bytes(rng, &mut x[0], &donor[0]);
                }
            }
            10..=18 => mutate::bytes(rng, &mut x[0], &donor[0]),
            _ => {
                const L: [usize; 8] = [0, 1, 2, 3, 4, 64, 784, usize::MAX];
                x[1] = L[rng.random_range(0..L.len())].to_string().into_bytes();
            }
        }
    }
}

fn run_inputs(x: &[Vec<u8>]) -> Outcome {
    let len: usize = String::from_utf8_lossy(&x[1]).trim().parse().unwrap_or(4);
    match InputSet::from_bytes(&x[0], len) {
        Ok(set) => {
            // What was accepted is in range and survives a write and a read.
            assert!(set
                .samples
                .iter()
                .flatten()
                .all(|v| (0.0..=1.0).contains(v)));
            let again = InputSet::from_bytes(&serde_json::to_vec(&set).unwrap(), len)
                .expect("an accepted input set must read back");
            assert_eq!(
                again, set,
                "an input set does not survive a write and a read"
            );
            Outcome::Ok
        }
        Err(e) => Outcome::Err(e),
    }
}

// ---------------------------------------------------------------- the input-train reader

fn trains_target() -> Target {
    let seeds: Vec<Input> = [
        (r#"{"steps": 3, "trains": [[[0, 1, 2], [3, 0, 0], [0, 0, 15]]], "labels": [1]}"#, 3),
        (r#"{"trains": [{"events": [[0, 1, 2], [2, 3, 1], [3, 0, 3]]}, [[1,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,2]]]}"#, 4),
        (r#"{"steps": 2, "trains": [{"events": []}, {"events": [[1, 63, 7]]}], "labels": [0, 9]}"#, 64),
        (r#"{"samples": [[0.5, 1.0]], "labels": [2]}"#, 2),
    ]
    .iter()
    .map(|(json, n)| vec![json.as_bytes().to_vec(), n.to_string().into_bytes()])
    .collect();
    Target {
        name: "trains",
        parts: &["inputs.json", "input_len.txt"],
        seeds,
        mutate: mutate_inputs,
        run: run_trains,
    }
}

fn run_trains(x: &[Vec<u8>]) -> Outcome {
    let n: usize = String::from_utf8_lossy(&x[1]).trim().parse().unwrap_or(4);
    let rules = TrainRules {
        inputs: n,
        max: 15,
        input_bits: 4,
        steps_given: None,
        steps_default: 4,
    };
    match InputFile::parse(&x[0], &rules, &"fuzz.json") {
        Ok(InputFile::Trains(t)) => {
            // What was accepted has T x N counts per sample, each within the input width.
            assert!(t.counts.iter().all(|c| c.len() == t.steps as usize * n));
            assert!(t.counts.iter().flatten().all(|&c| c <= 15));
            Outcome::Ok
        }
        Ok(InputFile::Values(_)) => Outcome::Ok,
        Err(e) => Outcome::Err(e),
    }
}

// ---------------------------------------------------------------- the campaigns

fn check(st: &engine::Stats, name: &str) {
    println!(
        "fuzz {name}: {} executions ({:.0}/s): {} accepted, {} refused, {} other errors; {} panics ({} contained), {} hangs, {} over the memory cap; peak {} bytes, slowest {} us",
        st.execs,
        st.execs_per_s(),
        st.ok,
        st.refused,
        st.other_errors,
        st.panics,
        st.contained_panics,
        st.hangs,
        st.over_cap,
        st.peak_bytes,
        st.slowest_us
    );
    assert!(st.execs > 0, "{name}: nothing was executed");
    assert_eq!(
        st.findings(),
        0,
        "{name}: the fuzzer found panics, hangs or unbounded memory; the reproducers are under target/fuzz-slice/{name}/ (target/fuzz-out/ for a long campaign, or LIFB_FUZZ_OUT)"
    );
}

#[test]
fn fuzz_model_loader() {
    let _one = engine::lock();
    let st = engine::campaign(&model_target(), "fuzz_model_loader", 6000);
    check(&st, "model");
}

#[test]
fn fuzz_nir_importer() {
    let _one = engine::lock();
    let st = engine::campaign(&nir_target(), "fuzz_nir_importer", 10000);
    check(&st, "nir");
}

#[test]
fn fuzz_state_dict_importer() {
    let _one = engine::lock();
    let st = engine::campaign(&state_dict_target(), "fuzz_state_dict_importer", 20000);
    check(&st, "state-dict");
}

#[test]
fn fuzz_input_trains() {
    let _one = engine::lock();
    let st = engine::campaign(&trains_target(), "fuzz_input_trains", 20000);
    check(&st, "trains");
}

#[test]
fn fuzz_input_sets() {
    let _one = engine::lock();
    let st = engine::campaign(&inputs_target(), "fuzz_input_sets", 40000);
    check(&st, "inputs");
}

/// The seeds are what they claim: the valid ones load (so mutations start from inputs that
/// pass every check, not from the first refusal).
#[test]
fn seeds_are_accepted() {
    let _one = engine::lock();
    for s in &model_target().seeds {
        format::load_from_bytes(&s[0], &s[1]).unwrap();
    }
    for s in &state_dict_target().seeds[..3] {
        if let Outcome::Err(e) = run_state_dict(s) {
            panic!("{e}");
        }
    }
    for s in &inputs_target().seeds {
        assert!(matches!(run_inputs(s), Outcome::Ok));
    }
    for s in &trains_target().seeds {
        if let Outcome::Err(e) = run_trains(s) {
            panic!("{e}");
        }
    }
    let t = nir_target();
    let ok = t
        .seeds
        .iter()
        .filter(|s| match run_nir(s) {
            Outcome::Ok => true,
            Outcome::Err(e) => {
                println!("NIR seed refused: {e}");
                false
            }
        })
        .count();
    println!("{ok} of {} NIR seeds import", t.seeds.len());
    assert!(ok >= 12, "only {ok} NIR seeds import");
}

/// The engine sees what it must: a panic, a hang-free error, and memory, on a target made to
/// misbehave.
#[test]
fn engine_catches_panics_and_memory() {
    fn run(x: &[Vec<u8>]) -> Outcome {
        match x[0].first() {
            Some(0) => panic!("planted"),
            Some(1) => {
                let v = vec![1u8; 64 << 20];
                std::hint::black_box(&v);
                Outcome::Ok
            }
            _ => Outcome::Err(lifb_hdl::Error::bad_input("no")),
        }
    }
    fn mutate(rng: &mut ChaCha8Rng, x: &mut Input, _: &Input) {
        x[0] = vec![rng.random_range(0..3u8)];
    }
    let t = Target {
        name: "self-test",
        parts: &["x"],
        seeds: vec![vec![vec![2]]],
        mutate,
        run,
    };
    let _one = engine::lock();
    let mut cfg = engine::Config::from_env(300);
    cfg.start = 0;
    cfg.end = 300;
    cfg.persist = false;
    cfg.soft_cap = 32 << 20;
    cfg.out = std::env::temp_dir().join(format!("lifb-fuzz-self-{}", std::process::id()));
    let st = engine::run_worker(&t, &cfg, false);
    let _ = std::fs::remove_dir_all(&cfg.out);
    assert_eq!(st.execs, 300);
    assert!(
        st.panics > 50 && st.over_cap > 50 && st.refused > 50,
        "{st:?}"
    );
    assert_eq!(st.panics + st.over_cap + st.refused, 300, "{st:?}");
    assert!(st.peak_bytes >= 64 << 20, "{st:?}");
}

/// A target that hangs (computing) on byte 0 and allocates 256 MB on byte 1.
fn misbehaving_target() -> Target {
    fn run(x: &[Vec<u8>]) -> Outcome {
        match x[0].first() {
            Some(0) => {
                let t0 = std::time::Instant::now();
                let mut n = 0u64;
                while t0.elapsed() < std::time::Duration::from_secs(20) {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
                Outcome::Ok
            }
            Some(1) => {
                let v = vec![1u8; 256 << 20];
                std::hint::black_box(&v);
                Outcome::Ok
            }
            _ => Outcome::Err(lifb_hdl::Error::bad_input("no")),
        }
    }
    fn mutate(rng: &mut ChaCha8Rng, x: &mut Input, _: &Input) {
        x[0] = vec![match rng.random_range(0..12u8) {
            0 => 0,
            1 => 1,
            _ => 2,
        }];
    }
    Target {
        name: "self-test-supervised",
        parts: &["x"],
        seeds: vec![vec![vec![2]]],
        mutate,
        run,
    }
}

/// The supervisor records hangs and executions over the memory ceiling (which end their worker
/// process), saves their inputs, and finishes the campaign after them.
#[test]
fn engine_supervisor_survives_hangs_and_memory() {
    let name = "engine_supervisor_survives_hangs_and_memory";
    if std::env::var_os("LIFB_FUZZ_WORKER").is_some() {
        engine::campaign(&misbehaving_target(), name, 0);
        return;
    }
    let _one = engine::lock();
    let out = std::env::temp_dir().join(format!("lifb-fuzz-supervised-{}", std::process::id()));
    let cfg = engine::Config {
        seed: 3,
        start: 0,
        end: 40,
        out: out.clone(),
        timeout: std::time::Duration::from_millis(1000),
        soft_cap: 64 << 20,
        hard_cap: 128 << 20,
        persist: true,
        save_each: false,
        progress_every: 1024,
    };
    let t = misbehaving_target();
    let st = engine::supervise(&t, name, &cfg);
    let saved: Vec<String> = std::fs::read_dir(out.join(t.name))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&out);
    assert_eq!(st.execs, 40, "{st:?}");
    assert!(st.hangs >= 1 && st.over_cap >= 1, "{st:?}");
    let count = |p: &str| saved.iter().filter(|n| n.starts_with(p)).count() as u64;
    assert_eq!(count("hang-"), st.hangs, "{saved:?}");
    assert_eq!(count("overcap-hard-"), st.over_cap, "{saved:?}");
}

/// Every reproducer the campaigns found (tests/fixtures/fuzz-regressions: small NIR files that
/// declared huge datasets or printed huge messages, architectures whose padding or input size
/// asked for billions of neurons) is refused cleanly: no panic, a bounded time, bounded memory.
#[test]
fn regressions_are_refused_within_bounds() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("target.txt").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 16,
        "the regression corpus is missing ({} folders)",
        dirs.len()
    );
    for dir in &dirs {
        let name = std::fs::read_to_string(dir.join("target.txt")).unwrap();
        let t = match name.trim() {
            "model" => model_target(),
            "nir" => nir_target(),
            "state-dict" => state_dict_target(),
            "inputs" => inputs_target(),
            "trains" => trains_target(),
            o => panic!("unknown target {o}"),
        };
        let input = engine::load_input(dir, t.parts);
        // CPU time, as the campaigns' watchdog measures it, so that a loaded machine does not fail
        // the test
        let cpu0 = engine::process_cpu_ms();
        let (r, peak) = engine::run_once(&t, &input);
        let cpu = engine::process_cpu_ms() - cpu0;
        match r {
            Ok(Outcome::Ok) => {}
            Ok(Outcome::Err(e)) => {
                assert_eq!(
                    e.kind,
                    lifb_hdl::error::ErrorKind::BadInput,
                    "{}: {}",
                    dir.display(),
                    engine::clip(&e.message, 400)
                );
                // a message names a few values, not the millions a crafted file declares
                assert!(
                    e.message.len() < 4096,
                    "{}: a message of {} bytes",
                    dir.display(),
                    e.message.len()
                );
            }
            Err(p) => panic!("{}: panic: {}", dir.display(), engine::clip(&p, 2000)),
        }
        assert!(cpu < 2000, "{}: {cpu} ms of CPU time", dir.display());
        // Bounded by the NIR reader's total element cap (2^24 values as f64) and its transients.
        assert!(peak < 512 << 20, "{}: peak {peak} bytes", dir.display());
    }
}

/// Replay one reproducer folder (LIFB_FUZZ_REPLAY); does nothing without it.
#[test]
fn replay() {
    let Some(dir) = std::env::var_os("LIFB_FUZZ_REPLAY").map(PathBuf::from) else {
        return;
    };
    let name = std::fs::read_to_string(dir.join("target.txt")).unwrap();
    let t = match name.trim() {
        "model" => model_target(),
        "nir" => nir_target(),
        "state-dict" => state_dict_target(),
        "inputs" => inputs_target(),
        "trains" => trains_target(),
        o => panic!("unknown target {o}"),
    };
    let input = engine::load_input(&dir, t.parts);
    let t0 = std::time::Instant::now();
    let (r, peak) = engine::run_once(&t, &input);
    let took = t0.elapsed();
    match r {
        Ok(Outcome::Ok) => println!("accepted in {took:?}, peak {peak} bytes"),
        Ok(Outcome::Err(e)) => println!(
            "refused ({:?}) in {took:?}, peak {peak} bytes: {}",
            e.kind,
            engine::clip(&e.message, 400)
        ),
        Err(p) => panic!("panic: {}", engine::clip(&p, 2000)),
    }
}
