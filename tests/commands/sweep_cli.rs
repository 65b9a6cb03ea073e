//! `lifb-hdl sweep --model`: the sweep generates, co-simulates and synthesizes its own variants of
//! the shipped digits model (64-32-10). The `--hdl` mode is tested in tests/hardware/synth_cli.rs.

use crate::common::{skip, Scratch};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Run from the crate root so that the Verilator build cache (target/lifb-cosim) is shared.
fn sweep(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifb-hdl"))
        .current_dir(ROOT)
        .arg("sweep")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn have_verilator() -> bool {
    Command::new("verilator").arg("--version").output().is_ok()
}

fn rows(out: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    v.as_array()
        .expect("sweep.json is a list of variants")
        .clone()
}

fn row<'a>(rows: &'a [Value], label: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no variant {label} in {rows:?}"))
}

#[test]
fn sweep_without_synthesis_measures_cycles_of_every_variant() {
    if !have_verilator() {
        skip("sweep_no_synth", "verilator missing");
        return;
    }
    let dir = Scratch::new("sweep_no_synth");
    let out = dir.join("out");
    let o = sweep(
        &[
            "--model",
            "examples/digits-lifb.json",
            "--no-synth",
            "--forms",
            "native,decoupled",
            "--lanes",
            "1,1;4,4",
            "--lanes",
            "all",
            "--cosim-images",
            "10",
        ],
        &out,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    for h in [
        "variant",
        "spike-exact",
        "cycles/img",
        "logic cells",
        "Pareto",
    ] {
        assert!(stdout.contains(h), "table lacks {h:?}:\n{stdout}");
    }
    let rows = rows(&out);
    assert_eq!(rows.len(), 6, "2 forms x 3 lane settings: {rows:?}");
    for form in ["native", "decoupled"] {
        let cycles: Vec<u64> = ["1-1", "4-4", "all"]
            .iter()
            .map(|l| {
                let r = row(&rows, &format!("{form}-{l}"));
                assert_eq!(r["form"], form);
                assert_eq!(r["spike_exact"], true, "{r}");
                assert_eq!(r["cosim_images"], 10);
                assert!(r["fits"].is_null() && r["logic_cells"].is_null(), "{r}");
                assert!(r["pareto_optimal"].is_null(), "no front without synthesis");
                assert!(
                    Path::new(r["hdl"].as_str().unwrap())
                        .join("lifb_top.v")
                        .is_file(),
                    "{r}"
                );
                assert!(stdout.contains(r["label"].as_str().unwrap()), "{stdout}");
                r["cycles_per_image"].as_u64().unwrap()
            })
            .collect();
        assert!(
            cycles[0] > cycles[1] && cycles[1] > cycles[2],
            "{form}: more lanes, fewer cycles: {cycles:?}"
        );
    }
    // "all" is one lane per neuron: 32 in the hidden engine and 10 in the readout.
    assert_eq!(
        row(&rows, "native-all")["engine_lanes"],
        serde_json::json!([32, 10])
    );
    assert_eq!(
        row(&rows, "decoupled-4-4")["engine_lanes"],
        serde_json::json!([4, 4])
    );
    let html = std::fs::read_to_string(out.join("sweep.html")).unwrap();
    assert!(html.contains("<table>") && html.contains("decoupled-all"));
}

#[test]
fn sweep_refuses_bad_input_with_exit_2_and_writes_nothing() {
    let dir = Scratch::new("sweep_bad_input");
    let out = dir.join("out");
    let model = ["--model", "examples/digits-lifb.json", "--no-synth"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--lanes="], "empty"),
        (vec!["--lanes", "4;;8"], "empty lane setting"),
        (vec!["--lanes", "0"], "'0' is not a positive number"),
        (vec!["--lanes", "4,4,4"], "3 values for 2 engines"),
        (vec!["--lanes", "4;4"], "given twice"),
        (vec!["--forms", "native,lif"], "invalid value 'lif'"),
        (vec!["--cosim-images", "0"], "at least one image"),
        (vec!["--steps", "0"], "--steps"),
        (vec!["--random", "0"], "--random 0 would check nothing"),
        (
            vec!["--inputs", "examples/mnist-inputs.json"],
            "has 784 values, the model takes 64",
        ),
    ];
    for (extra, msg) in cases {
        let args: Vec<&str> = model.iter().copied().chain(extra.iter().copied()).collect();
        let o = sweep(&args, &out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(msg), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} left files behind");
    }
    let o = sweep(&["--model", "examples/no-such-model.json"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-model.json"));
    // The two modes exclude each other, and one of them is needed.
    let o = sweep(
        &[
            "--model",
            "examples/digits-lifb.json",
            "--hdl",
            "x",
            "--target",
            "ice40-up5k",
        ],
        &out,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be used with"));
    let o = sweep(&["--target", "ice40-up5k"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--model <FILE>|--hdl <DIR>"));
    assert!(!out.exists());
}

#[test]
fn sweep_synthesizes_variants_and_plots_the_pareto_front() {
    if !have_verilator() {
        skip("sweep_synth", "verilator missing");
        return;
    }
    if lifb_hdl::synth::tools::resolve(
        lifb_hdl::synth::Backend::Debian,
        lifb_hdl::synth::Family::Ice40,
        None,
    )
    .is_err()
    {
        skip("sweep_synth", "Debian yosys/nextpnr-ice40 missing");
        return;
    }
    let dir = Scratch::new("sweep_synth");
    let out = dir.join("out");
    let o = sweep(
        &[
            "--model",
            "examples/digits-lifb.json",
            "--target",
            "ice40-up5k",
            "--backend",
            "debian",
            "--forms",
            "native",
            "--lanes",
            "1,1;2,2;all",
            "--units",
            "all",
            "--cosim-images",
            "5",
        ],
        &out,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    let rows = rows(&out);
    assert_eq!(rows.len(), 3);
    // A lane and a fire unit per neuron need more logic cells than the UP5K has: a result, not a
    // failure.
    let big = row(&rows, "native-all");
    assert_eq!(big["fits"], false, "{big}");
    assert_eq!(big["pareto_optimal"], false);
    assert!(big["logic_cells"].is_null() && big["latency_us"].is_null());
    assert!(
        big["shortfalls"][0]
            .as_str()
            .unwrap()
            .starts_with("logic cells"),
        "{big}"
    );
    assert!(stdout.contains("does not fit: logic cells"), "{stdout}");
    assert!(!out.join("native-all/synth/synth.json").exists());
    for r in rows.iter().filter(|r| r["label"] != "native-all") {
        let label = r["label"].as_str().unwrap();
        let saved: lifb_hdl::synth::SynthResult = serde_json::from_slice(
            &std::fs::read(out.join(label).join("synth/synth.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(r["spike_exact"], true, "{r}");
        assert_eq!(r["fits"], true, "{r}");
        assert_eq!(
            r["logic_cells"].as_u64(),
            Some(saved.resources.logic_cells.used)
        );
        assert_eq!(
            r["block_ram"].as_u64(),
            Some(saved.resources.block_ram.used)
        );
        let fmax = saved.min_fmax_mhz().unwrap();
        assert_eq!(r["fmax_mhz"].as_f64(), Some(fmax));
        let cycles = r["cycles_per_image"].as_f64().unwrap();
        assert!(cycles > 0.0);
        assert!((r["latency_us"].as_f64().unwrap() - cycles / fmax).abs() < 1e-9);
        assert!(r["pareto_optimal"].is_boolean(), "{r}");
        assert!(stdout.contains(label), "{stdout}");
    }
    assert!(
        rows.iter().any(|r| r["pareto_optimal"] == true),
        "a front is never empty: {rows:?}"
    );
    // Fewer lanes: more cycles per image.
    let cycles = |l: &str| row(&rows, l)["cycles_per_image"].as_u64().unwrap();
    assert!(cycles("native-1-1") > cycles("native-2-2"));
    assert!(cycles("native-2-2") > cycles("native-all"));
    let html = std::fs::read_to_string(out.join("sweep.html")).unwrap();
    assert!(html.contains("<svg id=\"fig-pareto\""), "{html}");
    // Both fitting variants are plotted; the one that does not fit is only in the table.
    assert_eq!(html.matches("<circle").count(), 2, "{html}");
    assert!(html.contains("does not fit: logic cells"));
}
