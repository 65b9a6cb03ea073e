//! The native model format: lossless round trips, and clear errors (never a panic) on truncated,
//! corrupted or inconsistent files.

use crate::common::Scratch;
use lifb_hdl::error::ErrorKind;
use lifb_hdl::format::{self, AnyNetwork};
use lifb_hdl::ir::random::{random_network, RandomSpec};
use lifb_hdl::ir::{FloatNetwork, Layer, Leak, Network};
use std::path::Path;

/// A model path in a scratch directory that is removed when the test ends.
fn tmp(name: &str) -> Scratch {
    Scratch::file(&format!("format-{name}"), "model.json")
}

fn to_float(net: &lifb_hdl::ir::IntNetwork) -> FloatNetwork {
    let f = |v: &Vec<i32>| v.iter().map(|&x| x as f32 * 0.5).collect::<Vec<f32>>();
    let layers = net
        .layers
        .iter()
        .map(|l| match l {
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
                leak: Leak::Lambda { lam: 0.75 },
                threshold: f(&n.threshold),
                spacing: f(&n.spacing),
                max_burst: n.max_burst,
                reset: n.reset,
            }),
            Layer::Pool(p) => Layer::Pool(*p),
            Layer::Flatten => Layer::Flatten,
            _ => unreachable!("random networks have no decoupled layers"),
        })
        .collect();
    Network {
        name: net.name.clone(),
        input: net.input.clone(),
        layers,
        fixed: None,
        meta: net.meta.clone(),
    }
}

#[test]
fn round_trip_is_lossless() {
    for seed in 0..60 {
        let net = random_network(
            seed,
            &RandomSpec {
                conv: true,
                ..RandomSpec::default()
            },
        );
        let p = tmp(&format!("rt{seed}"));
        format::save(&net, &p).unwrap();
        assert_eq!(
            format::load(&p).unwrap(),
            AnyNetwork::Integer(net.clone()),
            "seed {seed}"
        );
        let dec = lifb_hdl::decouple::to_lif_groups(&net).unwrap();
        format::save(&dec, &p).unwrap();
        assert_eq!(format::load(&p).unwrap(), AnyNetwork::Integer(dec));
        if let Ok(pure) = lifb_hdl::decouple::to_pure_lif(&net) {
            format::save(&pure, &p).unwrap();
            assert_eq!(format::load(&p).unwrap(), AnyNetwork::Integer(pure));
        }
        let fl = to_float(&net);
        format::save(&fl, &p).unwrap();
        assert_eq!(format::load(&p).unwrap(), AnyNetwork::Float(fl));
    }
}

#[test]
fn saving_is_deterministic() {
    let net = random_network(3, &RandomSpec::default());
    let (a, b) = (tmp("det-a"), tmp("det-b"));
    format::save(&net, &a).unwrap();
    format::save(&net, &b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(
        std::fs::read(format::tensors_path(&a)).unwrap(),
        std::fs::read(format::tensors_path(&b)).unwrap()
    );
    assert_eq!(
        format::model_hash(&net).unwrap(),
        format::model_hash(&net).unwrap()
    );
}

fn expect_bad(p: &Path, what: &str) -> String {
    match format::load(p) {
        Ok(_) => panic!("{what}: a damaged model loaded"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::BadInput, "{what}: {e}");
            assert!(!e.message.is_empty());
            e.message
        }
    }
}

/// Rewrite the manifest's JSON and store it (the tensors file stays as it is).
fn edit_manifest(p: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn manifest_errors_are_clear() {
    let net = random_network(
        11,
        &RandomSpec {
            current_readout: false,
            ..RandomSpec::default()
        },
    );
    let p = tmp("manifest");
    let fresh = || {
        format::save(&net, &p).unwrap();
    };
    fresh();
    edit_manifest(&p, |v| v["version"] = 99.into());
    assert!(expect_bad(&p, "version").contains("version 99"));
    fresh();
    edit_manifest(&p, |v| v["layers"][1]["max_burst"] = 0.into());
    assert!(expect_bad(&p, "B = 0").contains("max_burst"));
    fresh();
    edit_manifest(&p, |v| v["fixed"]["weight_bits"] = 40.into());
    assert!(expect_bad(&p, "weight bits").contains("weight_bits"));
    fresh();
    edit_manifest(&p, |v| v["layers"][0]["out_features"] = 1000.into());
    assert!(expect_bad(&p, "shape").contains("shape"));
    fresh();
    edit_manifest(&p, |v| v["precision"] = "float".into());
    expect_bad(&p, "dtype");
    fresh();
    edit_manifest(&p, |v| v["tensors"] = "../../etc/passwd".into());
    assert!(expect_bad(&p, "path").contains("plain file name"));
    fresh();
    edit_manifest(&p, |v| v["surprise"] = 1.into());
    expect_bad(&p, "unknown field");
    fresh();
    std::fs::remove_file(format::tensors_path(&p)).unwrap();
    expect_bad(&p, "missing tensors");
    assert_eq!(
        format::load(Path::new("/nonexistent/model.json"))
            .unwrap_err()
            .kind,
        ErrorKind::BadInput
    );
}

/// Tensors whose values are invalid but whose hash was recomputed (a crafted file, not damage).
#[test]
fn invalid_values_are_refused() {
    let mut net = random_network(
        5,
        &RandomSpec {
            current_readout: false,
            ..RandomSpec::default()
        },
    );
    let p = tmp("values");
    if let Layer::Lifb(n) = &mut net.layers[1] {
        n.threshold[0] = -3;
    }
    // save() validates, so write the invalid network by hand through a float twin.
    assert!(
        format::save(&net, &p).is_err(),
        "saving an invalid network must fail"
    );
    let mut fl = to_float(&random_network(
        5,
        &RandomSpec {
            current_readout: false,
            ..RandomSpec::default()
        },
    ));
    if let Layer::Dense(d) = &mut fl.layers[0] {
        d.weight[0] = f32::NAN;
    }
    let e = format::save(&fl, &p).unwrap_err();
    assert!(e.message.contains("not finite"), "{e}");
}

/// Fuzz-style: truncations and byte flips of both files never panic and always explain.
#[test]
fn damaged_files_never_panic() {
    let net = random_network(
        21,
        &RandomSpec {
            conv: true,
            ..RandomSpec::default()
        },
    );
    let p = tmp("fuzz");
    format::save(&net, &p).unwrap();
    let manifest = std::fs::read(&p).unwrap();
    let tensors = std::fs::read(format::tensors_path(&p)).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..400 {
        let (mut m, mut t) = (manifest.clone(), tensors.clone());
        let target = if round % 2 == 0 { &mut m } else { &mut t };
        match next() % 3 {
            0 => target.truncate((next() as usize) % target.len()),
            1 => {
                let i = (next() as usize) % target.len();
                target[i] ^= 1 << (next() % 8);
            }
            _ => {
                let i = (next() as usize) % target.len();
                let n = 1 + (next() as usize) % 16;
                target.splice(i..i, (0..n).map(|_| next() as u8));
            }
        }
        std::fs::write(&p, &m).unwrap();
        std::fs::write(format::tensors_path(&p), &t).unwrap();
        let r = std::panic::catch_unwind(|| format::load(&p));
        match r {
            Err(_) => panic!("round {round}: the loader panicked"),
            Ok(Ok(_)) => {} // e.g. whitespace flipped inside the manifest: still a valid model
            Ok(Err(e)) => assert!(!e.message.is_empty()),
        }
    }
}

/// Tensor data with a consistent hash but wrong shapes or names: the safetensors side checks.
#[test]
fn tensor_shape_and_name_errors() {
    use safetensors::tensor::{Dtype, TensorView};
    let net = random_network(
        8,
        &RandomSpec {
            current_readout: false,
            ..RandomSpec::default()
        },
    );
    let p = tmp("tensors");
    format::save(&net, &p).unwrap();
    let tp = format::tensors_path(&p);
    let bytes = std::fs::read(&tp).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let rewrite = |drop: Option<&str>, extra: bool, reshape: Option<&str>| {
        let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = st
            .tensors()
            .into_iter()
            .filter(|(n, _)| Some(n.as_str()) != drop)
            .map(|(n, v)| {
                let mut shape = v.shape().to_vec();
                if Some(n.as_str()) == reshape {
                    shape = vec![v.data().len() / 4];
                }
                (n, shape, v.data().to_vec())
            })
            .collect();
        if extra {
            owned.push(("stray".into(), vec![1], vec![0, 0, 0, 0]));
        }
        let views: Vec<(String, TensorView)> = owned
            .iter()
            .map(|(n, s, d)| {
                (
                    n.clone(),
                    TensorView::new(Dtype::I32, s.clone(), d).unwrap(),
                )
            })
            .collect();
        let out = safetensors::serialize(views, None).unwrap();
        std::fs::write(&tp, &out).unwrap();
        let digest = lifb_hdl::util::sha256_hex(&[&out]);
        edit_manifest(&p, |v| v["tensors_sha256"] = digest.into());
    };
    rewrite(Some("layers.0.weight"), false, None);
    assert!(expect_bad(&p, "missing").contains("layers.0.weight"));
    format::save(&net, &p).unwrap();
    rewrite(None, true, None);
    assert!(expect_bad(&p, "extra").contains("stray"));
    format::save(&net, &p).unwrap();
    rewrite(None, false, Some("layers.0.weight"));
    assert!(expect_bad(&p, "reshape").contains("layers.0.weight"));
}

#[test]
fn tensors_sha256_is_the_plain_file_hash_and_old_files_still_load() {
    let p = tmp("sha");
    let net = random_network(11, &RandomSpec::default());
    format::save(&net, &p).unwrap();
    let tp = format::tensors_path(&p);
    let bytes = std::fs::read(&tp).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    // What `sha256sum model.safetensors` prints, so that other tools can write models.
    assert_eq!(
        manifest["tensors_sha256"].as_str().unwrap(),
        lifb_hdl::util::sha256_plain_hex(&bytes)
    );
    // Files written before: sha256 of the length (u64 LE) and then the bytes.
    let legacy = lifb_hdl::util::sha256_hex(&[&bytes]);
    edit_manifest(&p, |v| v["tensors_sha256"] = legacy.into());
    assert!(format::load(&p).is_ok());
    // Any other hash is refused, naming the tensors file.
    edit_manifest(&p, |v| v["tensors_sha256"] = "00".repeat(32).into());
    let e = format::load(&p).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput);
    assert!(e.message.contains("model.safetensors"), "{e}");
}

#[test]
fn a_model_is_written_whole_or_not_at_all() {
    let p = tmp("pair");
    let dir = p.parent().unwrap().to_path_buf();
    let a = random_network(12, &RandomSpec::default());
    let b = random_network(13, &RandomSpec::default());
    format::save(&a, &p).unwrap();
    let (m0, t0) = (
        std::fs::read(&p).unwrap(),
        std::fs::read(format::tensors_path(&p)).unwrap(),
    );
    // The manifest cannot be replaced (a directory of that name where it goes): the tensors
    // already renamed are rolled back, so the old pair stays whole and nothing stray is left.
    let q = dir.join("blocked.json");
    format::save(&a, &q).unwrap();
    std::fs::remove_file(&q).unwrap();
    std::fs::create_dir_all(q.join("x")).unwrap();
    let tq = format::tensors_path(&q);
    let tq0 = std::fs::read(&tq).unwrap();
    assert!(format::save(&b, &q).is_err());
    assert_eq!(std::fs::read(&tq).unwrap(), tq0);
    let stray: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "temp files left: {stray:?}");
    // A manifest named .safetensors would be its own tensors file.
    let e = format::save(&b, &dir.join("m.safetensors")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput);
    assert_eq!(std::fs::read(&p).unwrap(), m0);
    assert_eq!(std::fs::read(format::tensors_path(&p)).unwrap(), t0);
}
