//! Inputs beyond the built-in data sets: `flow` on an imported model that has no data set, with
//! random samples or an input set file, runs to its report, and the report says what was measured.

mod common;

use common::{bin, fixture, have_tool, Scratch};
use std::path::Path;
use std::process::Output;

/// The 32-input snnTorch-style NIR network (32-48-10), imported.
fn imported_nir(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("nir.json");
    let o = bin()
        .args(["import", "--preset", "snntorch", "--nir"])
        .arg(fixture(&["nir", "snntorch_real.nir"]))
        .arg("-o")
        .arg(&model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    model
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn report(out: &Path) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    v.get("data").cloned().unwrap_or(v)
}

/// Without a data set of its size, flow stops with a message that names the way out.
#[test]
fn flow_on_a_model_without_a_data_set_names_inputs_and_random() {
    let dir = Scratch::new("inputs-flow-nodata");
    let model = imported_nir(&dir);
    let o = bin()
        .args(["flow", "--no-synth", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the model takes 32") && err.contains("--inputs FILE or --random N"),
        "{err}"
    );
}

/// `flow --random N` on the imported NIR model: golden models, RTL co-simulation and the report,
/// with no accuracy claimed (random samples have no labels) and the agreement measured instead.
#[test]
fn flow_with_random_samples_runs_an_imported_model_to_its_report() {
    if !have_tool("verilator") {
        return;
    }
    let dir = Scratch::new("inputs-flow-random");
    let model = imported_nir(&dir);
    let out = dir.join("out");
    let o = bin()
        .args(["flow", "--no-synth", "--random", "6", "--seed", "3"])
        .args([
            "--cosim-images",
            "4",
            "--lanes",
            "8",
            "--steps",
            "6",
            "--model",
        ])
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    for want in [
        "6 random samples (seed 3) (no labels: no accuracy)",
        "float = integer class",
        "spike-exact on 4 samples",
    ] {
        assert!(stdout.contains(want), "summary lacks {want:?}:\n{stdout}");
    }
    assert!(!stdout.contains("accuracy integer"), "{stdout}");
    let d = report(&out);
    assert_eq!(d["verification"]["spike_exact"], true, "{d}");
    assert_eq!(d["verification"]["inputs_checked"], 4, "{d}");
    for k in ["float", "integer", "decoupled", "rtl", "images"] {
        assert!(d["accuracy"][k].is_null(), "accuracy.{k} claimed: {d}");
    }
    let notes = d["notes"].to_string();
    assert!(
        notes.contains("have no labels, so no accuracy is measured"),
        "{notes}"
    );
    assert!(out.join("report.html").is_file() && out.join("trace.json").is_file());
}

/// `flow --inputs FILE` with labels: the accuracy rows are measured on the file's samples.
#[test]
fn flow_with_an_input_file_measures_accuracy_on_its_labels() {
    if !have_tool("verilator") {
        return;
    }
    let dir = Scratch::new("inputs-flow-file");
    let model = imported_nir(&dir);
    let samples: Vec<Vec<f32>> = (0..5)
        .map(|s| {
            (0..32)
                .map(|i| ((s * 7 + i * 3) % 5) as f32 / 4.0)
                .collect()
        })
        .collect();
    let set = lifb_hdl::inputs::InputSet {
        samples,
        labels: Some(vec![0, 1, 2, 3, 4]),
    };
    let file = dir.join("set.json");
    set.write(&file).unwrap();
    let out = dir.join("out");
    let o = bin()
        .args(["flow", "--no-synth", "--cosim-images", "2", "--lanes", "8"])
        .args(["--steps", "4", "--inputs"])
        .arg(&file)
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("5 samples of set.json"), "{stdout}");
    assert!(stdout.contains("accuracy integer"), "{stdout}");
    let d = report(&out);
    assert_eq!(d["accuracy"]["images"], 5, "{d}");
    assert_eq!(d["accuracy"]["rtl_images"], 2, "{d}");
    let acc = d["accuracy"]["integer"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&acc) && (acc * 5.0).fract() == 0.0,
        "{d}"
    );
}
