//! `lifb-hdl flow` end to end on the shipped digits model: golden evaluation, generation,
//! Verilator co-simulation, synthesis for the iCE40 UP5K, report and summary table.

use crate::common::{checked_report, have_tools, lifb, ok, Scratch};

#[test]
fn flow_on_the_digits_model() {
    if !have_tools(&["verilator", "yosys", "nextpnr-ice40"]) {
        return;
    }
    let out = Scratch::file("flow-digits", "out");
    let stdout = ok(&lifb(&[
        "flow",
        "--model",
        "examples/digits-lifb.json",
        "--target",
        "ice40-up5k",
        "--backend",
        "debian",
        "--form",
        "native",
        "--lanes",
        "2,2",
        "--cosim-images",
        "30",
        "--out",
        out.to_str().unwrap(),
    ]));
    for row in [
        "lifb-hdl flow summary",
        "accuracy integer",
        "spike-exact on 30 samples",
        "logic cells",
        "fmax",
        "latency",
    ] {
        assert!(stdout.contains(row), "summary lacks {row:?}:\n{stdout}");
    }
    // The real report follows the published schema.
    let report = checked_report(&out);
    let data = report.get("data").unwrap_or(&report);
    assert_eq!(data["verification"]["spike_exact"], true, "{report}");
    assert!(data["accuracy"]["integer"].as_f64().unwrap() > 0.9);
    assert!(data["cycles_per_image"].as_u64().unwrap() > 0);
    // Resources per module: both engines, the FIFOs and the top's own logic, from the
    // hierarchy-keeping synthesis; their LUT4 sum is close to the flat synthesis's.
    let modules = report["synth"]["modules"].as_array().expect("modules");
    let names: Vec<&str> = modules
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    for m in ["lifb_top_l0", "lifb_top_l1", "lifb_fifo", "lifb_top"] {
        assert!(names.contains(&m), "{m} not in {names:?}");
    }
    let lut4: u64 = modules.iter().map(|m| m["lut4"].as_u64().unwrap()).sum();
    let flat = report["synth"]["resources"]["lut4"].as_u64().unwrap();
    eprintln!("LUT4: {lut4} in the rows per module, {flat} flat");
    assert!(
        lut4 as f64 > 0.7 * flat as f64 && (lut4 as f64) < 1.5 * flat as f64,
        "rows {lut4} vs flat {flat}"
    );
    // The shipped model records its training: the curve is drawn.
    assert!(report["training"].as_array().unwrap().len() > 1);
    let repro = &report["reproducibility"];
    assert!(repro["command"]
        .as_str()
        .unwrap()
        .contains("flow --model examples/digits-lifb.json"));
    let tools: Vec<&str> = repro["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["verilator", "yosys", "nextpnr"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.matches("<svg").count() >= 4, "report has its figures");
    for part in [
        "<svg id=\"fig-training\"",
        "<svg id=\"fig-modules\"",
        "<h2>Reproducibility</h2>",
    ] {
        assert!(html.contains(part), "{part}");
    }
    assert!(out.join("rtl/lifb_top.v").is_file());
    assert!(out.join("trace.json").is_file());
}

/// The report's synaptic operations are the hardware's: input events x fan-out, counted here
/// from the trace on their own. With inputs of 0 and 1 the direct-coded input's events are its
/// ones (accumulated once, not per step); every non-zero spike count of the hidden layer at
/// every step is one event reaching all 10 neurons of the last dense layer.
#[test]
fn report_counts_synaptic_operations_as_events_times_fan_out() {
    if !have_tools(&["verilator"]) {
        return;
    }
    let s = Scratch::new("flow-sops");
    let samples: Vec<Vec<f64>> = (0..12)
        .map(|i| {
            (0..64)
                .map(|j| f64::from((i * 7 + j * 13) % 5 < 2))
                .collect()
        })
        .collect();
    let inputs = s.dir().join("in.json");
    std::fs::write(
        &inputs,
        serde_json::json!({ "samples": samples }).to_string(),
    )
    .unwrap();
    let out = s.dir().join("out");
    ok(&lifb(&[
        "flow",
        "--model",
        "examples/digits-lifb.json",
        "--inputs",
        inputs.to_str().unwrap(),
        "--cosim-images",
        "12",
        "--no-synth",
        "--out",
        out.to_str().unwrap(),
    ]));
    let report = checked_report(&out);
    let data = report.get("data").unwrap_or(&report);
    let trace = crate::common::read_json(&out.join("trace.json"));
    let traced = trace["samples"].as_array().unwrap();
    assert_eq!(traced.len(), samples.len());
    let mut ops = 0u64;
    for (x, t) in samples.iter().zip(traced) {
        // 64 -> 32: each input that is 1 reaches the 32 hidden neurons once
        ops += 32 * x.iter().filter(|&&v| v > 0.0).count() as u64;
        // 32 -> 10: each hidden neuron with a non-zero count at a step, 10 synapses
        for step in t["layers"][0]["counts"].as_array().unwrap() {
            let active = step
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c.as_u64() != Some(0));
            ops += 10 * active.count() as u64;
        }
    }
    let want = ops as f64 / samples.len() as f64;
    let got = data["synaptic_ops_per_image"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "report {got}, counted {want}");
}

/// The README's iCE40 UP5K claim: the shipped MNIST model with its first layer's weights in the
/// four SPRAM blocks and its state in block RAM co-simulates spike-exact and fits the part.
#[test]
fn mnist_fits_the_up5k_with_spram_and_block_ram_state() {
    if !have_tools(&["verilator", "yosys", "nextpnr-ice40"]) {
        return;
    }
    let out = Scratch::file("flow-mnist-up5k", "out");
    let stdout = ok(&lifb(&[
        "flow",
        "--target",
        "ice40-up5k",
        "--backend",
        "debian",
        "--lanes",
        "8,10",
        "--units",
        "2,2",
        "--spram",
        "0",
        "--state-bram",
        "0",
        "--cosim-images",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]));
    for row in ["spike-exact on 20 samples", "of 5280"] {
        assert!(stdout.contains(row), "summary lacks {row:?}:\n{stdout}");
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("SPRAM ") && l.trim_end().ends_with("4 of 4")),
        "summary lacks the SPRAM row:\n{stdout}"
    );
    let report = checked_report(&out);
    let synth = &report["synth"];
    assert_eq!(synth["utilisation"]["ICESTORM_SPRAM"]["used"], 4, "{synth}");
    let cells = &synth["resources"]["logic_cells"];
    assert!(
        cells["used"].as_u64().unwrap() <= cells["available"].as_u64().unwrap(),
        "{cells}"
    );
    assert_eq!(report["verification"]["spike_exact"], true);
}
