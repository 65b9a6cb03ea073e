//! Hardening of the engine (issue 10, items 1, 5, 7, 8): no shell ever sees a user's path, the
//! co-simulation cache runs only what the user alone could have written, integer arithmetic
//! never wraps around, and decoupling a spatial last layer keeps the readout.

use crate::common;

use crate::common::bin;
use lifb_hdl::decouple::{self, Form};
use lifb_hdl::error::ErrorKind;
use lifb_hdl::golden::{IntSim, TraceOptions};
use lifb_hdl::ir::random::{random_inputs, random_network, RandomSpec};
use lifb_hdl::ir::{
    Conv2d, Dense, Encoding, FixedPoint, InputSpec, IntNetwork, Layer, Leak, LifRecurrent, Lifb,
    Network, Reset, Shape,
};
use lifb_hdl::verify::compare;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files named PWNED* anywhere under `root` (what an injected `touch PWNED...` would leave).
fn planted(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with("PWNED") {
                found.push(p.clone());
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    found
}

fn small_model(dir: &Path) -> PathBuf {
    let net = random_network(
        7,
        &RandomSpec {
            max_inputs: 6,
            max_width: 5,
            max_hidden: 1,
            max_burst: 3,
            current_readout: false,
            conv: false,
        },
    );
    let p = dir.join("model.json");
    lifb_hdl::format::save(&net, &p).unwrap();
    p
}

fn cosim_in(cwd: &Path, model: &Path, cache: &str) -> std::process::Output {
    bin()
        .args(["cosim", "--random", "3", "--steps", "4", "--model"])
        .arg(model)
        .arg("--cache")
        .arg(cache)
        .env_remove("LIFB_COSIM_CACHE")
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// A working folder and a cache folder named with shell syntax: the co-simulation builds, runs and
/// passes, and no injected command runs. A planted executable in the cache is not run (the entry is
/// rebuilt), and a cache folder that others can write is refused with exit 2.
#[test]
fn cosim_in_folders_named_with_shell_syntax() {
    let test = "cosim_in_folders_named_with_shell_syntax";
    if Command::new("verilator").arg("--version").output().is_err() {
        common::skip(test, "verilator is not installed");
        return;
    }
    let root = common::Scratch::new("hardening_injection");
    let cwd = root.join("w;touch PWNED1;y $(touch PWNED2) `touch PWNED3` 'q\" z");
    std::fs::create_dir_all(&cwd).unwrap();
    let model = small_model(&root);
    let cache = "c;touch PWNED4 && touch PWNED5|$(touch PWNED6)`touch PWNED7` 'x\"";
    let out = cosim_in(&cwd, &model, cache);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("co-simulation OK"), "{text}");
    assert_eq!(planted(&root), Vec::<PathBuf>::new(), "{text}");

    // The one entry of the cache: replace its simulator with a script and make it group-writable.
    let cache_dir = cwd.join(cache);
    let entry = std::fs::read_dir(&cache_dir)
        .unwrap()
        .flatten()
        .find(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .expect("a cache entry")
        .path();
    let exe = entry.join("obj").join("Vlifb_top");
    assert!(exe.is_file(), "{}", exe.display());
    assert_eq!(
        std::fs::metadata(&cache_dir).unwrap().permissions().mode() & 0o777,
        0o700,
        "the cache is created private"
    );
    std::fs::write(&exe, "#!/bin/sh\ntouch PWNED_planted\nexit 0\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o775)).unwrap();
    let out = cosim_in(&cwd, &model, cache);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        !text.contains("(cached)"),
        "the planted entry must be rebuilt: {text}"
    );
    assert_eq!(planted(&root), Vec::<PathBuf>::new(), "{text}");

    // An entry without its completion marker is not trusted either.
    std::fs::remove_file(entry.join("complete")).unwrap();
    std::fs::write(&exe, "#!/bin/sh\ntouch PWNED_unfinished\nexit 0\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o700)).unwrap();
    // ... and a complete, private entry is reused.
    let out = cosim_in(&cwd, &model, cache);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("(cached)"), "{text}");
    let out = cosim_in(&cwd, &model, cache);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("(cached)"), "{text}");
    assert_eq!(planted(&root), Vec::<PathBuf>::new(), "{text}");

    // A cache others can write is refused.
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = cosim_in(&cwd, &model, cache);
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("others can write it"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

fn fixed(membrane_bits: u32, layers: usize) -> FixedPoint {
    FixedPoint {
        weight_bits: 8,
        membrane_bits,
        input_bits: 4,
        leak_frac_bits: 4,
        scales: vec![1.0; layers],
    }
}

fn net(input: Shape, layers: Vec<Layer<i32>>, membrane_bits: u32) -> IntNetwork {
    let n = layers.len();
    Network {
        name: "crafted".into(),
        input: InputSpec {
            shape: input,
            encoding: Encoding::Rate { seed: 3 },
        },
        layers,
        fixed: Some(fixed(membrane_bits, n)),
        meta: BTreeMap::new(),
    }
}

/// A pure-LIF layer whose lateral weights, added to the current, would pass 2^31 - 1: refused
/// when the network is validated, built or loaded (exit 2, naming the layer), where it used to
/// wrap the membrane to -2^31 with all-positive inputs.
#[test]
fn lateral_currents_beyond_32_bits_are_refused() {
    let big = i32::MAX - 10;
    let crafted = |lateral: i32| {
        net(
            Shape::flat(1),
            vec![
                Layer::Dense(Dense {
                    in_features: 1,
                    out_features: 2,
                    weight: vec![100, 100],
                    bias: None,
                }),
                Layer::LifRecurrent(LifRecurrent {
                    leak: Leak::Fixed { d: 0 },
                    group: 2,
                    thresholds: vec![1, 1],
                    lateral: vec![lateral, lateral, lateral, lateral],
                }),
            ],
            32,
        )
    };
    // Within the bound: 100 + 2 * 1000 fits.
    crafted(1000).validate().unwrap();
    let bad = crafted(big);
    let e = bad.validate().unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput, "{e}");
    assert!(e.message.contains("layer 1 (lif_recurrent)"), "{e}");
    assert!(e.message.contains("lateral"), "{e}");
    let e = IntSim::new(&bad).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput, "{e}");

    // Loading refuses it too (exit 2 from the command line).
    let dir = common::Scratch::new("hardening_lateral");
    let good = dir.join("m.json");
    lifb_hdl::format::save(&crafted(1000), &good).unwrap();
    let text = std::fs::read_to_string(&good).unwrap();
    let tensors = lifb_hdl::format::tensors_path(&good);
    // Rewrite the lateral tensor in place: the same shape, huge values.
    let bytes = std::fs::read(&tensors).unwrap();
    let needle: Vec<u8> = [1000i32; 4].iter().flat_map(|v| v.to_le_bytes()).collect();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("lateral tensor bytes");
    let mut patched = bytes.clone();
    let huge: Vec<u8> = [big; 4].iter().flat_map(|v| v.to_le_bytes()).collect();
    patched[at..at + 16].copy_from_slice(&huge);
    std::fs::write(&tensors, &patched).unwrap();
    // The manifest pins the tensors' hash: give it the patched file's (as the writer computes it).
    let old_hash = lifb_hdl::util::sha256_plain_hex(&bytes);
    assert!(
        text.contains(&old_hash),
        "the manifest names its tensors' hash"
    );
    let new_hash = lifb_hdl::util::sha256_plain_hex(&patched);
    std::fs::write(&good, text.replace(&old_hash, &new_hash)).unwrap();
    let out = bin().arg("inspect").arg(&good).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("lif_recurrent") && !err.contains("panicked"),
        "{err}"
    );
}

/// Conv padding, kernel and stride near 2^63 used to wrap the shape arithmetic (and simulate
/// zeros): every size is now checked, and such a layer is bad input.
#[test]
fn huge_conv_sizes_are_refused_not_wrapped() {
    let conv = |kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2], out: usize| {
        let w = out
            .checked_mul(kernel[0])
            .and_then(|x| x.checked_mul(kernel[1]))
            .filter(|&n| n <= 1 << 20)
            .unwrap_or(1);
        net(
            Shape::chw(1, 4, 4),
            vec![
                Layer::Conv2d(Conv2d {
                    in_channels: 1,
                    out_channels: out,
                    kernel,
                    stride,
                    padding,
                    weight: vec![1; w],
                    bias: None,
                }),
                Layer::Lifb(Lifb {
                    leak: Leak::Fixed { d: 0 },
                    threshold: vec![4],
                    spacing: vec![1],
                    max_burst: 1,
                    reset: Reset::Subtract,
                }),
            ],
            16,
        )
    };
    conv([3, 3], [1, 1], [1, 1], 2).validate().unwrap();
    for (k, s, p, o) in [
        ([3, 3], [1, 1], [1 << 63, 0], 2),
        ([3, 3], [1, 1], [usize::MAX / 2, 1], 2),
        ([3, 3], [1 << 62, 1], [1 << 62, 1], 2),
        ([1 << 62, 3], [1, 1], [1 << 62, 1], 2),
        ([3, 1 << 40], [1, 1], [1, 1], 1 << 30),
        ([3, 3], [0, 1], [1, 1], 2),
    ] {
        let n = conv(k, s, p, o);
        let e = n.validate().unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadInput, "{k:?} {s:?} {p:?}: {e}");
        assert!(IntSim::new(&n).is_err());
    }
}

/// A conv network whose last neuron layer is spatial, with per-channel thresholds.
fn spatial_last_layer(seed: u64) -> IntNetwork {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (co, k) = (3usize, 3usize);
    net(
        Shape::chw(2, 5, 5),
        vec![
            Layer::Conv2d(Conv2d {
                in_channels: 2,
                out_channels: co,
                kernel: [k, k],
                stride: [1, 1],
                padding: [1, 1],
                weight: (0..co * 2 * k * k)
                    .map(|_| rng.random_range(-20..=60))
                    .collect(),
                bias: Some((0..co).map(|_| rng.random_range(-5..=5)).collect()),
            }),
            Layer::Lifb(Lifb {
                leak: Leak::Fixed { d: 2 },
                threshold: (0..co).map(|_| rng.random_range(20..=60)).collect(),
                spacing: vec![15],
                max_burst: 4,
                reset: Reset::Subtract,
            }),
        ],
        16,
    )
}

/// Group-decoupling a network whose last neuron layer is spatial keeps every count and the
/// readout: a class is a neuron (channel, position), and its score sums that neuron's sub-units,
/// not neighbouring entries of the flattened output.
#[test]
fn decoupled_spatial_readout_matches_the_original() {
    for seed in 0..6 {
        let net = spatial_last_layer(seed);
        let dec = decouple::decouple(&net, Form::Decoupled).unwrap();
        let inputs = random_inputs(&net, seed, 8, 0.7);
        let eq = compare(&net, &dec, &inputs, 6).unwrap();
        assert!(eq.compared > 0);
        assert!(eq.exact(), "seed {seed}: {eq:?}");
        let (a, b) = (IntSim::new(&net).unwrap(), IntSim::new(&dec).unwrap());
        assert_eq!(a.classes(), b.classes());
        let mut spiking = 0;
        for (s, x) in inputs.iter().enumerate() {
            let ta = a.run(x, s as u64, 6, TraceOptions::default()).unwrap();
            let tb = b.run(x, s as u64, 6, TraceOptions::default()).unwrap();
            assert_eq!(ta.readout, tb.readout, "seed {seed} sample {s}");
            assert_eq!(ta.predicted, tb.predicted);
            spiking += ta.readout.iter().filter(|&&r| r > 0.0).count();
        }
        assert!(
            spiking > 0,
            "seed {seed}: the check compared silent networks"
        );
    }
}

/// The decouple command writes the model only when the check finds no difference: a pure-LIF form
/// with a leak that differs exits 1 and leaves no output; the group form of a spatial network
/// passes and is written.
#[test]
fn decouple_command_fails_on_a_difference_and_writes_nothing() {
    let dir = common::Scratch::new("hardening_decouple_cli");
    let model = dir.join("spatial.json");
    lifb_hdl::format::save(&spatial_last_layer(1), &model).unwrap();
    let out_path = dir.join("group.json");
    let out = bin()
        .args(["decouple", "--form", "group", "--check", "16", "--model"])
        .arg(&model)
        .arg("-o")
        .arg(&out_path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" 0 predicted classes differ"), "{text}");
    assert!(out_path.is_file());

    // The pure-LIF form with a leak (d = 2) is not exact: a found difference is exit 1, no file.
    let pure = dir.join("pure.json");
    let out = bin()
        .args([
            "decouple", "--form", "pure-lif", "--check", "32", "--steps", "12", "--model",
        ])
        .arg(&model)
        .arg("-o")
        .arg(&pure)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!pure.exists(), "nothing written after a failed check");
    assert!(!lifb_hdl::format::tensors_path(&pure).exists());
}

/// Quantization sizes the membrane from the top burst threshold of every neuron: with a
/// per-channel threshold beside a per-neuron spacing on a conv layer, neuron 4 (channel 1) pairs
/// threshold 1.0 with spacing 1.0 (the `r % len` pairing took channel 0's threshold and chose a
/// membrane without the documented 4x headroom).
#[test]
fn quantized_membrane_width_holds_the_true_top_threshold() {
    use lifb_hdl::quant::{quantize, QuantOptions};
    let mut spacing = vec![0.01f32; 8];
    spacing[4] = 1.0;
    let float: Network<f32> = Network {
        name: "mixed".into(),
        input: InputSpec {
            shape: Shape::chw(1, 3, 3),
            encoding: Encoding::Direct,
        },
        layers: vec![
            Layer::Conv2d(Conv2d {
                in_channels: 1,
                out_channels: 2,
                kernel: [2, 2],
                stride: [1, 1],
                padding: [0, 0],
                weight: vec![1.0; 8],
                bias: None,
            }),
            Layer::Lifb(Lifb {
                leak: Leak::Lambda { lam: 1.0 },
                threshold: vec![0.01, 1.0],
                spacing,
                max_burst: 2,
                reset: Reset::Subtract,
            }),
        ],
        fixed: None,
        meta: BTreeMap::new(),
    };
    let (int, report) = quantize(&float, &QuantOptions::default(), None).unwrap();
    let Layer::Lifb(n) = &int.layers[1] else {
        panic!("lifb")
    };
    let shape = int.shapes().unwrap()[1];
    let top = (0..shape.len())
        .map(|i| {
            let th = n.threshold[lifb_hdl::ir::param_row(n.threshold.len(), 1, shape, i)] as i64;
            let sp = n.spacing[lifb_hdl::ir::param_row(n.spacing.len(), 1, shape, i)] as i64;
            th + sp
        })
        .max()
        .unwrap();
    let fx = int.fixed.as_ref().unwrap();
    assert!(
        fx.v_max() >= 4 * top,
        "{}-bit membrane (max {}) for a top threshold {top}",
        report.membrane_bits,
        fx.v_max()
    );
}
