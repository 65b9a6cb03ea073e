//! `lifb-hdl flow` end to end on the shipped digits model: golden evaluation, generation,
//! Verilator co-simulation, synthesis for the iCE40 UP5K, report and summary table.

mod common;

use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

#[test]
fn flow_on_the_digits_model() {
    if !(have("verilator") && have("yosys") && have("nextpnr-ice40")) {
        assert!(
            std::env::var("LIFB_REQUIRE_EDA").as_deref() != Ok("1"),
            "LIFB_REQUIRE_EDA=1 but verilator, yosys or nextpnr-ice40 is missing (run scripts/setup.sh)"
        );
        eprintln!("SKIPPED flow_on_the_digits_model: verilator/yosys/nextpnr-ice40 missing (run scripts/setup.sh)");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("flow-digits");
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_lifb-hdl"))
        .current_dir(root)
        .args([
            "flow",
            "--model",
            "examples/digits-lifb.json",
            "--target",
            "ice40-up5k",
        ])
        .args([
            "--backend",
            "debian",
            "--form",
            "native",
            "--lanes",
            "2,2",
            "--cosim-images",
            "30",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");
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
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let data = report.get("data").unwrap_or(&report);
    assert_eq!(data["verification"]["spike_exact"], true, "{report}");
    assert!(data["accuracy"]["integer"].as_f64().unwrap() > 0.9);
    assert!(data["cycles_per_image"].as_u64().unwrap() > 0);
    // The real report follows the published schema.
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(std::path::Path::new(root).join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let errors = common::json_schema::validate(&schema, &schema, &report, "report");
    assert!(errors.is_empty(), "{errors:#?}");
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
