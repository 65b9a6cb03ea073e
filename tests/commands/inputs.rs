//! Inputs beyond the built-in data sets: `flow` on an imported model that has no data set, with
//! random samples or an input set file, runs to its report, and the report says what was measured.

use crate::common::{checked_report, fixture, have_tool, Scratch, ROOT};
use std::path::Path;

/// The 32-input snnTorch-style NIR network (32-48-10), imported.
fn imported_nir(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("nir.json");
    let nir = fixture(&["nir", "snntorch_real.nir"]);
    let args = [
        "import",
        "--preset",
        "snntorch",
        "--nir",
        s(&nir),
        "-o",
        s(&model),
    ];
    succeeds(&args);
    model
}

/// A path as an argument (scratch and fixture paths are UTF-8).
fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// lifb-hdl run from the crate root: exit code, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = crate::common::lifb(args);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A run that must succeed: stdout and stderr.
fn succeeds(args: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, Some(0), "{args:?}: {stdout}\n{stderr}");
    (stdout, stderr)
}

/// A run that must end with exit 2 (bad input, never a panic): stderr.
fn refused(args: &[&str]) -> String {
    let (code, _, stderr) = run(args);
    assert_eq!(code, Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

/// report.json's data, checked against the published schema (a report without labels has nulls
/// where the accuracies would be).
fn report(out: &Path) -> serde_json::Value {
    let v = checked_report(out);
    v.get("data").cloned().unwrap_or(v)
}

/// Without a data set of its size, flow stops with a message that names the way out.
#[test]
fn flow_on_a_model_without_a_data_set_names_inputs_and_random() {
    let dir = Scratch::new("inputs-flow-nodata");
    let model = imported_nir(&dir);
    let out = dir.join("out");
    let err = refused(&["flow", "--no-synth", "--model", s(&model), "--out", s(&out)]);
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
    let (stdout, _) = succeeds(&[
        "flow",
        "--no-synth",
        "--random",
        "6",
        "--seed",
        "3",
        "--cosim-images",
        "4",
        "--lanes",
        "8",
        "--steps",
        "6",
        "--model",
        s(&model),
        "--out",
        s(&out),
    ]);
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
    let (stdout, _) = succeeds(&[
        "flow",
        "--no-synth",
        "--cosim-images",
        "2",
        "--lanes",
        "8",
        "--steps",
        "4",
        "--inputs",
        s(&file),
        "--model",
        s(&model),
        "--out",
        s(&out),
    ]);
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

// ---- per-step input trains ----

const DIGITS: &str = "examples/digits-lifb.json";
const TRAINS: &str = "examples/digits-trains.json";

fn root() -> &'static Path {
    Path::new(ROOT)
}

/// The digits model as flow quantizes it, and its integer inputs for the first two test images.
fn digits() -> (lifb_hdl::ir::IntNetwork, u32, Vec<Vec<u32>>) {
    use lifb_hdl::data::{self, eval, DataSetKind, Split};
    let (_, int, steps) =
        lifb_hdl::pipeline::load_and_quantize(&root().join(DIGITS), None, None, None).unwrap();
    let ds = data::load(DataSetKind::Digits, Split::Test, &root().join("data")).unwrap();
    let bits = int.fixed.as_ref().unwrap().input_bits;
    let mut x = eval::int_inputs(&ds, bits);
    x.truncate(2);
    (int, steps, x)
}

fn trace(net: &lifb_hdl::ir::IntNetwork, x: &[u32], steps: u32) -> lifb_hdl::golden::SampleTrace {
    let opts = lifb_hdl::golden::TraceOptions {
        counts: true,
        membranes: true,
    };
    lifb_hdl::golden::IntSim::new(net)
        .unwrap()
        .run(x, 0, steps, opts)
        .unwrap()
}

/// A train that repeats one vector at every step is that vector as a static sample, membrane for
/// membrane; a train whose step 1 differs is not (so step t's vector is what step t reads).
#[test]
fn a_constant_train_is_the_static_sample_and_a_changed_step_changes_the_result() {
    let (int, steps, x) = digits();
    let per_step = lifb_hdl::pipeline::per_step_network(&int).unwrap();
    let repeat = |v: &[&Vec<u32>]| {
        v.iter()
            .flat_map(|s| s.iter().copied())
            .collect::<Vec<u32>>()
    };
    let fixed = trace(&int, &x[0], steps);
    let constant: Vec<&Vec<u32>> = (0..steps).map(|_| &x[0]).collect();
    assert_eq!(trace(&per_step, &repeat(&constant), steps), fixed);
    // step 1 shows the other image: step 0 is unchanged, step 1 on differs
    let mut changed = constant.clone();
    changed[1] = &x[1];
    let t = trace(&per_step, &repeat(&changed), steps);
    let first = &t.layers[0];
    assert_eq!(first.counts[0], fixed.layers[0].counts[0]);
    assert_eq!(
        first.membranes.as_ref().unwrap()[0],
        fixed.layers[0].membranes.as_ref().unwrap()[0]
    );
    assert_ne!(
        first.membranes.as_ref().unwrap()[1],
        fixed.layers[0].membranes.as_ref().unwrap()[1],
        "step 1 must read the train's step-1 vector"
    );
    // a static-input network refuses a train's length, and a train's network a static sample
    assert!(lifb_hdl::golden::IntSim::new(&int)
        .unwrap()
        .run(&repeat(&constant), 0, steps, Default::default())
        .is_err());
    assert!(lifb_hdl::golden::IntSim::new(&per_step)
        .unwrap()
        .run(&x[0], 0, steps, Default::default())
        .is_err());
}

/// `simulate` on the shipped trains file: the trace is the golden model's on the trains (both
/// forms of a train, dense and events, read as the same counts).
#[test]
fn simulate_reads_dense_and_event_trains() {
    let (int, steps, x) = digits();
    let dir = Scratch::new("inputs-sim-trains");
    let model = dir.join("int.json");
    lifb_hdl::format::save(&int, &model).unwrap();
    let out = dir.join("trace.json");
    let (stdout, _) = succeeds(&[
        "simulate",
        "--membranes",
        "--inputs",
        TRAINS,
        "--model",
        s(&model),
        "-o",
        s(&out),
    ]);
    assert!(stdout.contains("2 samples x 4 steps"), "{stdout}");
    let got = lifb_hdl::golden::Trace::read(&out).unwrap();
    assert_eq!(steps, 4);
    let per_step = lifb_hdl::pipeline::per_step_network(&int).unwrap();
    // train 0: image 0 at every step; train 1 (events): image 1 in steps 0 and 1, then nothing
    let t0: Vec<u32> = (0..4).flat_map(|_| x[0].clone()).collect();
    let mut t1: Vec<u32> = (0..2).flat_map(|_| x[1].clone()).collect();
    t1.extend(std::iter::repeat_n(0, 2 * x[1].len()));
    for (s, t) in [t0, t1].iter().enumerate() {
        let mut want = lifb_hdl::golden::IntSim::new(&per_step)
            .unwrap()
            .run(
                t,
                s as u64,
                steps,
                lifb_hdl::golden::TraceOptions {
                    counts: true,
                    membranes: true,
                },
            )
            .unwrap();
        want.label = got.samples[s].label;
        assert_eq!(got.samples[s], want, "sample {s}");
    }
}

fn write(dir: &Path, name: &str, json: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, json).unwrap();
    p
}

/// Bad train files: exit 2 before any simulation, and the message says what is wrong and where.
#[test]
fn bad_train_files_exit_2_with_a_clear_message() {
    let dir = Scratch::new("inputs-bad-trains");
    let row = |v: u32| format!("[{}]", vec![v.to_string(); 64].join(","));
    let dense = |steps: usize| format!("[{}]", vec![row(1); steps].join(","));
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "wrong-t",
            format!("{{\"trains\": [{}]}}", dense(4)),
            vec!["--steps", "6"],
            "the trains have 4 time steps",
        ),
        (
            "ragged-t",
            format!("{{\"trains\": [{}, {}]}}", dense(4), dense(3)),
            vec![],
            "train 1 has 3 steps, the run has 4",
        ),
        (
            "wrong-n",
            "{\"trains\": [[[1, 2, 3]]]}".into(),
            vec![],
            "train 0, step 0: 3 counts, the model takes 64 inputs",
        ),
        (
            "too-large",
            format!("{{\"trains\": [[{}]]}}", row(16)),
            vec![],
            "count 16 is above 15, the largest value of the model's 4-bit inputs",
        ),
        (
            "negative",
            "{\"steps\": 2, \"trains\": [{\"events\": [[1, 5, -1]]}]}".into(),
            vec![],
            "train 0, event 0: count -1 is negative",
        ),
        (
            "duplicate",
            "{\"steps\": 2, \"trains\": [{\"events\": [[1, 5, 1], [0, 5, 2], [1, 5, 3]]}]}".into(),
            vec![],
            "train 0, event 2: a second event for step 1, input 5",
        ),
        (
            "event-step",
            "{\"steps\": 2, \"trains\": [{\"events\": [[2, 5, 1]]}]}".into(),
            vec![],
            "step 2 is outside 0..2",
        ),
        (
            "event-index",
            "{\"steps\": 2, \"trains\": [{\"events\": [[0, 64, 1]]}]}".into(),
            vec![],
            "input 64 is outside 0..64",
        ),
        (
            "both",
            format!("{{\"samples\": [[0.5]], \"trains\": [{}]}}", dense(4)),
            vec![],
            "holds both \"samples\" and \"trains\"",
        ),
        (
            "labels",
            format!("{{\"trains\": [{}], \"labels\": [1, 2]}}", dense(4)),
            vec![],
            "2 labels for 1 trains",
        ),
    ];
    for (name, json, extra, want) in cases {
        let f = write(&dir, &format!("{name}.json"), &json);
        let mut args = vec!["simulate", "--model", DIGITS, "--inputs", s(&f)];
        args.extend(extra);
        let err = refused(&args);
        assert!(
            err.contains(want) && err.contains(&format!("{name}.json")),
            "{name}: {err}"
        );
    }
    // cosim refuses the same before building anything
    let f = write(
        &dir,
        "too-large-cosim.json",
        &format!("{{\"trains\": [[{}]]}}", row(16)),
    );
    refused(&["cosim", "--model", DIGITS, "--inputs", s(&f)]);
    // a rate-coded model takes no trains
    let (int, _, _) = digits();
    let mut rate = int.clone();
    rate.input.encoding = lifb_hdl::ir::Encoding::Rate { seed: 1 };
    let e = lifb_hdl::pipeline::per_step_network(&rate).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.message.contains("replace a direct encoding only"), "{e}");
}

/// The RTL takes a train step by step: cosim on the shipped trains (whose second train changes
/// between steps) is spike-exact against the golden model, with stalls and shuffled beats; a
/// design folder for static inputs is refused for trains with the command that makes the right
/// one, and that folder co-simulates.
#[test]
fn cosim_with_trains_is_spike_exact_and_needs_a_per_step_design() {
    let dir = Scratch::new("inputs-cosim-trains");
    // generate works without a simulator: the static folder and the per-step folder
    let rtl_static = dir.join("rtl-static");
    let rtl_steps = dir.join("rtl-steps");
    for (out, extra) in [
        (&rtl_static, vec![]),
        (&rtl_steps, vec!["--sim-inputs", TRAINS]),
    ] {
        let mut args = vec![
            "generate",
            "--lanes",
            "4",
            "--model",
            DIGITS,
            "--out",
            s(out),
        ];
        args.extend(extra);
        succeeds(&args);
    }
    let err = refused(&[
        "cosim",
        "--model",
        DIGITS,
        "--inputs",
        TRAINS,
        "--hdl",
        s(&rtl_static),
    ]);
    assert!(
        err.contains("per-step trains need a design generated for them")
            && err.contains("--sim-inputs"),
        "{err}"
    );
    if have_tool("iverilog") {
        let (stdout, _) = succeeds(&[
            "cosim",
            "--model",
            DIGITS,
            "--inputs",
            TRAINS,
            "--simulator",
            "icarus",
            "--hdl",
            s(&rtl_steps),
        ]);
        assert!(stdout.contains("spike-exact"), "{stdout}");
    }
    if !have_tool("verilator") {
        return;
    }
    for extra in [
        vec!["--lanes", "4", "--stall"],
        vec!["--hdl", s(&rtl_steps)],
    ] {
        let mut args = vec!["cosim", "--model", DIGITS, "--inputs", TRAINS];
        args.extend(extra);
        let (stdout, _) = succeeds(&args);
        assert!(
            stdout.contains(
                "co-simulation OK: 2 samples x 4 steps, every layer and step spike-exact"
            ),
            "{stdout}"
        );
    }
}

/// flow with a trains file: the trains set the steps and the report covers them.
#[test]
fn flow_with_trains_runs_to_its_report() {
    if !have_tool("verilator") {
        return;
    }
    let dir = Scratch::new("inputs-flow-trains");
    let out = dir.join("out");
    let (stdout, stderr) = succeeds(&[
        "flow",
        "--no-synth",
        "--lanes",
        "4",
        "--model",
        DIGITS,
        "--inputs",
        TRAINS,
        "--out",
        s(&out),
    ]);
    assert!(stdout.contains("spike-exact on 2 samples"), "{stdout}");
    assert!(
        stderr.contains(
            "T = 4 (from the per-step trains of digits-trains.json; input given per step)"
        ),
        "{stderr}"
    );
    let d = report(&out);
    assert_eq!(d["accuracy"]["images"], 2, "{d}");
    assert_eq!(d["verification"]["spike_exact"], true, "{d}");
}
