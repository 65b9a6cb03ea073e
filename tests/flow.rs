//! `lifb-hdl flow` end to end on the shipped digits model: golden evaluation, generation,
//! Verilator co-simulation, synthesis for the iCE40 UP5K, report and summary table.

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
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.matches("<svg").count() >= 4, "report has its figures");
    assert!(out.join("rtl/lifb_top.v").is_file());
    assert!(out.join("trace.json").is_file());
}
