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
