//! The pipeline as a library: named steps in order, a run up to a named step without EDA tools,
//! a run from a named step on the artifacts an earlier run kept, and clean errors (exit 2) for
//! bad step names and impossible ranges.

use crate::common::{bin, have_tools, lifb, ok, Scratch, ROOT};
use lifb_hdl::codegen::{self, plan::apply_form, Form};
use lifb_hdl::error::ErrorKind;
use lifb_hdl::pipeline::{self, FlowOptions, Step, Verify};
use std::path::Path;

const DIGITS: &str = "examples/digits-lifb.json";

/// A flow's output folder (not created) in a fresh scratch directory.
fn scratch(name: &str) -> Scratch {
    Scratch::file(&format!("pipeline-{name}"), "out")
}

fn options(out: &Path) -> FlowOptions {
    let mut o = FlowOptions::new(DIGITS, out);
    o.target = lifb_hdl::synth::Target::Ice40Up5k;
    o.cosim_images = 5;
    o.lanes_text = "2,2".into();
    o.codegen.lanes = codegen::Lanes::parse("2,2").unwrap();
    o
}

#[test]
fn steps_are_named_in_run_order() {
    assert_eq!(
        pipeline::step_names(),
        ["quantize", "decouple", "evaluate", "generate", "cosim", "synth", "report"]
    );
    for (k, s) in Step::ALL.into_iter().enumerate() {
        assert_eq!(s.index(), k);
        assert_eq!(Step::parse(s.name()).unwrap(), s);
        assert!(!s.artifact().is_empty() && !s.title().is_empty());
    }
    let e = Step::parse("synthesis").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput);
    assert_eq!(e.exit_code(), 2);
    assert!(e
        .message
        .contains("quantize, decouple, evaluate, generate, cosim, synth, report"));
    assert_eq!(
        Verify::parse("cosim").unwrap(),
        Verify {
            decouple: false,
            cosim: true
        }
    );
    assert_eq!(Verify::parse("sim").unwrap_err().kind, ErrorKind::BadInput);
}

/// Quantize, decouple (verified), evaluate and generate run with no EDA tool; the artifacts are
/// typed values, each step's time is recorded, and the design carries its hardware network.
#[test]
fn digits_to_the_design_step_and_on_from_the_kept_artifacts() {
    let out = scratch("to-design");
    let keep = out.join("keep");
    let mut o = options(&out);
    o.to = Step::Generate;
    o.keep = Some(keep.clone());
    let r = pipeline::run(&o, &mut ()).unwrap();
    assert!(r.failure.is_none());
    let a = &r.artifacts;
    let int = a.integer.as_ref().expect("integer model");
    assert!(
        a.float.is_some(),
        "the digits example is a float model, quantized"
    );
    let check = a.decouple_check.as_ref().expect("decouple verified");
    assert!(check.compared > 0 && check.mismatched == 0);
    let ev = a.evaluation.as_ref().unwrap();
    assert!(ev.labelled && ev.integer.unwrap() > 0.9, "{ev:?}");
    assert_eq!(ev.decoupled, ev.integer, "decoupling is lossless");
    assert_eq!(ev.decoupled_agrees, Some(1.0), "decoupling is lossless");
    let design = a.design.as_ref().unwrap();
    assert_eq!(design.network, apply_form(int, Form::Native).unwrap());
    let names: Vec<&str> = a.times.iter().map(|t| t.step.as_str()).collect();
    assert_eq!(names, ["quantize", "decouple", "evaluate", "generate"]);
    assert!(a.cosim.is_none() && a.synth.is_none() && a.report.is_none());
    assert!(out.join("rtl/lifb_top.v").is_file());
    assert!(
        !out.join("report.json").exists(),
        "no report before the report step"
    );
    for f in [
        "integer.json",
        "quantize.json",
        "decoupled.json",
        "evaluation.json",
    ] {
        assert!(keep.join(f).is_file(), "{f} kept");
    }
    assert!(keep.join("rtl/manifest.json").is_file());

    // From evaluate on the kept models: the same accuracies and the same design.
    let out2 = scratch("from-evaluate");
    let mut o2 = options(&out2);
    o2.from = Step::Evaluate;
    o2.to = Step::Generate;
    o2.keep = Some(keep.clone());
    let r2 = pipeline::run(&o2, &mut ()).unwrap();
    let b = &r2.artifacts;
    assert_eq!(b.evaluation, a.evaluation);
    assert_eq!(b.integer, a.integer);
    assert_eq!(b.design.as_ref().unwrap().files, design.files);
    let names: Vec<&str> = b.times.iter().map(|t| t.step.as_str()).collect();
    assert_eq!(names, ["evaluate", "generate"]);

    // The kept design is read back (the form must match) when starting after generate.
    let out3 = scratch("form-mismatch");
    let mut o3 = options(&out3);
    o3.from = Step::Cosim;
    o3.keep = Some(keep.clone());
    o3.codegen.form = Form::Decoupled;
    let e = pipeline::run(&o3, &mut ()).err().expect("form mismatch");
    assert_eq!(e.kind, ErrorKind::BadInput);
    assert!(e.message.contains("native form"), "{}", e.message);

    if !have_tools(&["verilator"]) {
        return;
    }
    // From cosim to the report, without synthesis: report.json records the step times.
    let out4 = scratch("from-cosim");
    let mut o4 = options(&out4);
    o4.from = Step::Cosim;
    o4.synth = false;
    o4.keep = Some(keep);
    let r4 = pipeline::run(&o4, &mut ()).unwrap();
    assert!(r4.failure.is_none());
    let cs = r4.artifacts.cosim.as_ref().unwrap();
    assert!(cs.divergence.is_none() && cs.samples == 5);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out4.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["verification"]["spike_exact"], true);
    assert_eq!(report["accuracy"]["integer"].as_f64(), ev.integer);
    let steps: Vec<&str> = report["step_seconds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["cosim"]);
    assert!(out4.join("rtl/lifb_top.v").is_file() && out4.join("report.html").is_file());
}

#[test]
fn impossible_ranges_and_missing_artifacts_are_bad_input() {
    let out = scratch("bad-range");
    let mut o = options(&out);
    o.from = Step::Cosim;
    o.to = Step::Generate;
    o.keep = Some(out.join("keep"));
    let e = pipeline::run(&o, &mut ()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::BadInput);
    assert!(e.message.contains("comes after"), "{}", e.message);

    o.to = Step::Report;
    o.keep = None;
    let e = pipeline::run(&o, &mut ()).err().unwrap();
    assert!(e.message.contains("needs --keep"), "{}", e.message);

    let empty = out.join("empty-keep");
    std::fs::create_dir_all(&empty).unwrap();
    o.keep = Some(empty);
    let e = pipeline::run(&o, &mut ()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::BadInput);
    assert!(e.message.contains("integer.json"), "{}", e.message);
    assert!(!out.join("rtl").exists(), "nothing written");
}

#[test]
fn flow_cli_names_the_steps_and_refuses_a_bad_one_with_exit_2() {
    let text = ok(&lifb(&["flow", "--list-steps"]));
    for s in pipeline::step_names() {
        assert!(text.contains(s), "{text}");
    }
    let out = scratch("cli-bad-step");
    let o = bin()
        .current_dir(ROOT)
        .args(["flow", "--model", DIGITS, "--to", "synthesis", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--to: 'synthesis' is not a step"), "{err}");
    assert!(!out.exists(), "nothing written");

    // The CLI runs up to a named step: the RTL, no report.
    let o = bin()
        .current_dir(ROOT)
        .args([
            "flow", "--model", DIGITS, "--lanes", "2,2", "--to", "generate",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("rtl/lifb_top.v").is_file() && !out.join("report.json").exists());
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("accuracy integer") && summary.contains("hardware form, lanes"));
}

/// The one classification of synthesis outcomes: a tool that times out is a recorded failure
/// (the run goes on to its report), a folder that is not RTL is bad input (the run stops).
#[test]
fn synthesis_outcomes_are_sorted_once() {
    use lifb_hdl::pipeline::{synth_request, synthesize, SynthVerdict};
    use lifb_hdl::synth::{Backend, Target};
    use std::time::Duration;
    let out = scratch("synth-verdict");
    let e = synthesize(&synth_request(
        &out.join("no-such-rtl"),
        Target::Ice40Up5k,
        Backend::Debian,
        out.join("synth"),
        None,
    ))
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput);
    if !have_tools(&["yosys", "nextpnr-ice40"]) {
        return;
    }
    let mut o = options(&out);
    o.to = Step::Generate;
    pipeline::run(&o, &mut ()).unwrap();
    let v = synthesize(&synth_request(
        &out.join("rtl"),
        Target::Ice40Up5k,
        Backend::Debian,
        out.join("synth"),
        Some(Duration::from_millis(1)),
    ))
    .unwrap();
    match &v {
        SynthVerdict::Failed { message, detail } => {
            assert!(detail.starts_with(message.as_str()) && detail.len() > message.len());
            assert!(v.describe(Target::Ice40Up5k).starts_with("failed: "));
        }
        other => panic!("a 1 ms time limit gave {other:?}"),
    }
    assert!(v.result().is_none());
}
