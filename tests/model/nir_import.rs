//! NIR import against the fixtures written by scripts/make-nir-fixtures.py: every fixture
//! imports, simulates to the reference spikes stored beside it (computed with the exporter's own
//! update equations), refusals name node and type, corrupt files give clear errors, never panics.

use crate::common::nir_reference;
use lifb_hdl::error::ErrorKind;
use lifb_hdl::format::AnyNetwork;
use lifb_hdl::golden::Sim;
use lifb_hdl::ir::Reset;
use lifb_hdl::nir::{import_bytes, import_file, Compare, ImportOptions, Preset};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nir")
}

fn fixtures(prefix: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(prefix) && n.ends_with(ext)
        })
        .collect();
    v.sort();
    v
}

fn options(args: &serde_json::Value) -> ImportOptions {
    ImportOptions {
        preset: args["preset"].as_str().map(|p| match p {
            "snntorch" => Preset::Snntorch,
            "norse" => Preset::Norse,
            "generic" => Preset::Generic,
            other => panic!("unknown preset {other}"),
        }),
        dt: args["dt"].as_f64(),
        reset: args["reset"].as_str().map(|r| match r {
            "zero" => Reset::Zero,
            _ => Reset::Subtract,
        }),
        ..ImportOptions::default()
    }
}

fn reference_fixtures() -> Vec<(PathBuf, serde_json::Value)> {
    let refs = fixtures("", ".ref.json");
    assert!(
        refs.len() >= 5,
        "expected the reference fixtures, found {}",
        refs.len()
    );
    refs.into_iter()
        .map(|r| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&r).unwrap()).unwrap();
            (dir().join(v["fixture"].as_str().unwrap()), v)
        })
        .collect()
}

#[test]
fn every_fixture_simulates_to_its_reference_spikes() {
    let mut checked_spikes = 0u64;
    for (nir, reference) in reference_fixtures() {
        if reference["exact"] == serde_json::Value::Bool(false) {
            continue; // measured in realistic_snntorch_export_agreement
        }
        let opts = options(&reference["import_args"]);
        let imp = import_file(&nir, &opts)
            .unwrap_or_else(|e| panic!("{}: import failed: {e}", nir.display()));
        let net = match imp.network {
            AnyNetwork::Float(n) => n,
            AnyNetwork::Integer(_) => panic!("a NIR fixture imports as a float network"),
        };
        let sim = Sim::<f32>::new(&net).unwrap();
        let steps = nir_reference::steps(&reference);
        for (si, sample) in nir_reference::samples(&reference).iter().enumerate() {
            let trace = nir_reference::simulate(&sim, &sample.input, si, steps);
            let ref_layers = &sample.layers;
            assert_eq!(
                trace.layers.len(),
                ref_layers.len(),
                "{}: neuron layer count",
                nir.display()
            );
            for (lt, (node, rc)) in trace.layers.iter().zip(ref_layers) {
                assert_eq!(lt.counts.len(), rc.len());
                for (step, (got, want)) in lt.counts.iter().zip(rc).enumerate() {
                    for (n, (g, w)) in got.iter().zip(want).enumerate() {
                        assert_eq!(
                            g,
                            w,
                            "{}: sample {si}, layer {} (NIR node '{node}'), neuron {n}, step {step}: expected {w} spikes, got {g}",
                            nir.display(),
                            lt.layer
                        );
                        checked_spikes += *w as u64;
                    }
                    assert_eq!(got.len(), want.len());
                }
            }
            assert_eq!(
                Some(&trace.readout),
                sample.readout.as_ref(),
                "{}: sample {si}: readout",
                nir.display()
            );
        }
    }
    assert!(
        checked_spikes > 1000,
        "the references must carry real spike activity"
    );
}

#[test]
fn strict_threshold_matters_on_ties() {
    // generic_conv has exact ties v == v_threshold; mapping ">" as ">=" must change spikes, so
    // the reference test above really checks the comparison mapping.
    let (nir, reference) = reference_fixtures()
        .into_iter()
        .find(|(p, _)| p.ends_with("generic_conv.nir"))
        .unwrap();
    assert!(reference["threshold_ties"].as_u64().unwrap() > 0);
    let mut opts = options(&reference["import_args"]);
    opts.compare = Compare::AsGe;
    let imp = import_file(&nir, &opts).unwrap();
    assert!(imp.warnings.iter().any(|w| w.contains("as-ge")));
    let AnyNetwork::Float(net) = imp.network else {
        panic!()
    };
    let sim = Sim::<f32>::new(&net).unwrap();
    let sample = &nir_reference::samples(&reference)[0];
    let t = nir_reference::simulate(&sim, &sample.input, 0, 8);
    assert_ne!(
        t.layers[0].counts, sample.layers[0].1,
        "as-ge must differ from the strict reference on ties"
    );
}

#[test]
fn snntorch_reset_convention_matters() {
    // The snnTorch fixture imported with NIR's own reading (reset to v_reset = 0) must differ
    // from the snnTorch reference: the preset is doing real work.
    let (nir, reference) = reference_fixtures()
        .into_iter()
        .find(|(p, _)| p.ends_with("snntorch_mlp_subtract.nir"))
        .unwrap();
    let mut opts = options(&reference["import_args"]);
    opts.preset = Some(Preset::Generic);
    opts.dt = Some(1e-4);
    let AnyNetwork::Float(net) = import_file(&nir, &opts).unwrap().network else {
        panic!()
    };
    let sim = Sim::<f32>::new(&net).unwrap();
    let mut differs = false;
    for (si, sample) in nir_reference::samples(&reference).iter().enumerate() {
        let t = nir_reference::simulate(&sim, &sample.input, si, 8);
        for (lt, (_, counts)) in t.layers.iter().zip(&sample.layers) {
            differs |= lt.counts != *counts;
        }
    }
    assert!(differs);
}

#[test]
fn refusals_name_the_node_and_type() {
    let expect = [
        ("refuse_cubalif.nir", "'mid' (CubaLIF)"),
        ("refuse_delay.nir", "'delay' (Delay)"),
        ("refuse_branch.nir", "branches are not supported"),
        ("refuse_dilation.nir", "'conv' (Conv2d)"),
        ("refuse_li_readout.nir", "'mid' (LI)"),
        ("refuse_tau_per_neuron.nir", "'mid' (LIF)"),
        ("refuse_vreset.nir", "'mid' (LIF)"),
    ];
    let files = fixtures("refuse_", ".nir");
    assert_eq!(
        files.len(),
        expect.len(),
        "every refusal fixture has an expectation"
    );
    for (f, want) in expect {
        let opts = ImportOptions {
            preset: Some(Preset::Generic),
            dt: Some(1.0),
            ..ImportOptions::default()
        };
        let e = import_file(&dir().join(f), &opts).expect_err(f);
        assert_eq!(e.kind, ErrorKind::BadInput, "{f}: {e}");
        assert!(
            e.message.contains(want),
            "{f}: '{}' lacks '{want}'",
            e.message
        );
    }
}

#[test]
fn li_readout_is_accepted_only_when_asked_and_warned() {
    let opts = ImportOptions {
        preset: Some(Preset::Generic),
        dt: Some(1.0),
        li_readout_sum: true,
        ..ImportOptions::default()
    };
    let imp = import_file(&dir().join("refuse_li_readout.nir"), &opts).unwrap();
    assert!(imp.warnings.iter().any(|w| w.contains("'mid' (LI)")));
}

#[test]
fn a_preset_is_required_for_foreign_files() {
    let e = import_file(&dir().join("norse_mlp.nir"), &ImportOptions::default()).unwrap_err();
    assert!(e.message.contains("--preset"), "{e}");
    let e = import_file(
        &dir().join("norse_mlp.nir"),
        &ImportOptions {
            preset: Some(Preset::Generic),
            ..ImportOptions::default()
        },
    )
    .unwrap_err();
    assert!(e.message.contains("--dt"), "{e}");
}

#[test]
fn promotion_to_lifb() {
    let opts = ImportOptions {
        preset: Some(Preset::Norse),
        promote: Some((3, 0.25)),
        ..ImportOptions::default()
    };
    let AnyNetwork::Float(net) = import_file(&dir().join("norse_mlp.nir"), &opts)
        .unwrap()
        .network
    else {
        panic!()
    };
    let lifb: Vec<_> = net
        .layers
        .iter()
        .filter_map(|l| match l {
            lifb_hdl::ir::Layer::Lifb(n) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(lifb.len(), 2);
    assert!(lifb
        .iter()
        .all(|n| n.max_burst == 3 && n.spacing == vec![0.25]));
}

#[test]
fn corrupt_files_give_clear_errors() {
    let expect = [
        ("corrupt_edge_to_nowhere.nir", "ghost"),
        ("corrupt_magic.nir", "not an HDF5 file"),
        ("corrupt_no_edges.nir", "edges"),
        ("corrupt_not_hdf5.nir", "not an HDF5 file"),
        ("corrupt_truncated_half.nir", "end of data"),
        ("corrupt_truncated_header.nir", "end of data"),
        ("corrupt_weight_shape.nir", "'fc' (Affine)"),
    ];
    assert_eq!(fixtures("corrupt_", ".nir").len(), expect.len());
    for (f, want) in expect {
        let opts = ImportOptions {
            preset: Some(Preset::Generic),
            dt: Some(1.0),
            ..ImportOptions::default()
        };
        let e = import_file(&dir().join(f), &opts).expect_err(f);
        assert_eq!(e.kind, ErrorKind::BadInput, "{f}: {e}");
        assert!(
            e.message.contains(want),
            "{f}: '{}' lacks '{want}'",
            e.message
        );
        assert!(
            e.message.contains(f),
            "{f}: the error names the file: {}",
            e.message
        );
    }
}

#[test]
fn random_byte_flips_and_truncations_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let (mut ok, mut err) = (0, 0);
    for (nir, reference) in reference_fixtures() {
        if reference["exact"] == serde_json::Value::Bool(false) {
            continue;
        }
        let bytes = std::fs::read(&nir).unwrap();
        let opts = options(&reference["import_args"]);
        for i in 0..150 {
            let mut b = bytes.clone();
            if i % 3 == 0 {
                b.truncate(rng.random_range(0..bytes.len()));
            } else {
                for _ in 0..rng.random_range(1..4) {
                    let at = rng.random_range(0..b.len());
                    b[at] ^= 1 << rng.random_range(0..8);
                }
            }
            let r = std::panic::catch_unwind(|| import_bytes(&b, &opts));
            match r {
                Ok(Ok(_)) => ok += 1,
                Ok(Err(e)) => {
                    assert!(!e.message.is_empty());
                    assert!(
                        !e.message.contains("internal error"),
                        "{}: mutation {i}: the HDF5 decoder panicked: {e}",
                        nir.display()
                    );
                    err += 1
                }
                Err(_) => panic!("{}: mutation {i} panicked", nir.display()),
            }
        }
    }
    eprintln!("fuzz: {ok} mutated files still imported, {err} gave errors");
    assert!(err > 0);
}

#[test]
fn realistic_snntorch_export_agreement() {
    // beta = 0.9 and Gaussian f32 weights: the mapping is exact in real arithmetic but not in
    // f32 (threshold/beta, operation order of the sums), so this measures, never assumes.
    let (nir, reference) = reference_fixtures()
        .into_iter()
        .find(|(p, _)| p.ends_with("snntorch_real.nir"))
        .unwrap();
    let imp = import_file(&nir, &options(&reference["import_args"])).unwrap();
    assert!(
        imp.warnings.iter().any(|w| w.contains("'lif1' (LIF)")),
        "{:?}",
        imp.warnings
    );
    let AnyNetwork::Float(net) = imp.network else {
        panic!()
    };
    let sim = Sim::<f32>::new(&net).unwrap();
    let steps = nir_reference::steps(&reference);
    let (mut same, mut total, mut spikes, mut first_diff) = (0u64, 0u64, 0u64, None);
    let mut same_class = 0;
    let samples = nir_reference::samples(&reference);
    for (si, sample) in samples.iter().enumerate() {
        let t = nir_reference::simulate(&sim, &sample.input, si, steps);
        for (li, (lt, (_, want))) in t.layers.iter().zip(&sample.layers).enumerate() {
            for (step, (g, w)) in lt.counts.iter().zip(want).enumerate() {
                for (n, (a, b)) in g.iter().zip(w).enumerate() {
                    total += 1;
                    spikes += *b as u64;
                    if a == b {
                        same += 1;
                    } else if first_diff.is_none() {
                        first_diff = Some(format!("sample {si}, layer {li}, neuron {n}, step {step}: snnTorch {b}, ours {a}"));
                    }
                }
            }
        }
        let want = sample.readout.as_ref().expect("readout");
        same_class += (lifb_hdl::golden::argmax(want) == t.predicted) as usize;
    }
    let agreement = same as f64 / total as f64;
    eprintln!(
        "snnTorch beta=0.9 export: {same}/{total} spike entries agree ({:.4} %), {same_class}/{} predicted classes agree, {spikes} reference spikes; first difference: {}",
        agreement * 100.0,
        samples.len(),
        first_diff.as_deref().unwrap_or("none")
    );
    assert!(spikes > 1000);
    assert!(agreement > 0.99, "agreement {agreement}");
}
