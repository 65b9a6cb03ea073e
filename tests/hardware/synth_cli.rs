//! `lifb-hdl synth` as a user runs it: exit codes and messages.

use crate::common::{bin, fixture, ok, skip, Scratch};

#[test]
fn missing_tools_name_the_install_command() {
    let empty = Scratch::new("cli_empty_path");
    let out = bin()
        .args(["synth", "--hdl"])
        .arg(fixture(&["synth", "lif_rom"]))
        .args(["--target", "ice40-up5k", "--backend", "debian", "--out"])
        .arg(empty.join("out"))
        .env("PATH", &empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("yosys") && stderr.contains("scripts/setup-eda.sh"),
        "{stderr}"
    );

    let out = bin()
        .args(["synth", "--hdl"])
        .arg(fixture(&["synth", "lif_rom"]))
        .args(["--target", "ecp5-45k", "--backend", "debian"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nextpnr-ecp5") && stderr.contains("--backend yowasp"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_exit_2() {
    let out = bin()
        .args([
            "synth",
            "--hdl",
            "/nonexistent/rtl",
            "--target",
            "ice40-up5k",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
    let out = bin()
        .args(["synth", "--hdl", "x", "--target", "ecp5-12k"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ecp5-45k"),
        "lists the valid targets"
    );
}

/// Whether the Debian yosys and nextpnr-ice40 run; if not, `test` is skipped by the one policy.
fn debian_ice40_tools(test: &str) -> bool {
    let found = lifb_hdl::synth::tools::resolve(
        lifb_hdl::synth::Backend::Debian,
        lifb_hdl::synth::Family::Ice40,
        None,
    )
    .is_ok();
    if !found {
        skip(test, "Debian yosys/nextpnr-ice40 missing");
    }
    found
}

#[test]
fn synth_command_prints_table_and_writes_synth_json() {
    if !debian_ice40_tools("cli_synth") {
        return;
    }
    let dir = Scratch::new("cli_synth");
    let out = bin()
        .args(["synth", "--hdl"])
        .arg(fixture(&["synth", "lif_layer"]))
        .args([
            "--target",
            "ice40-hx8k",
            "--backend",
            "debian",
            "--top",
            "layer_top",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("logic cells") && stdout.contains("fmax clk"),
        "{stdout}"
    );
    let saved: lifb_hdl::synth::SynthResult =
        serde_json::from_slice(&std::fs::read(dir.join("synth.json")).unwrap()).unwrap();
    assert_eq!(saved.target, lifb_hdl::synth::Target::Ice40Hx8k);
    assert_eq!(saved.resources.dsp.available, 0);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn sweep_compares_variants_and_plots_the_pareto_front() {
    if lifb_hdl::synth::tools::resolve(
        lifb_hdl::synth::Backend::Debian,
        lifb_hdl::synth::Family::Ice40,
        None,
    )
    .is_err()
    {
        skip("cli_sweep", "Debian yosys/nextpnr-ice40 missing");
        return;
    }
    let dir = Scratch::new("cli_sweep");
    // Two variants: one neuron (slow: 8 neurons' work in sequence) and eight in parallel.
    for (name, src, top, cycles) in [
        ("serial", "lif_rom", "lif_top", 8000),
        ("parallel", "lif_layer", "layer_top", 1000),
    ] {
        let v = dir.join(name);
        copy_dir(&fixture(&["synth", src]), &v);
        std::fs::write(
            v.join("manifest.json"),
            format!(r#"{{"top": "{top}", "label": "{name}", "cycles_per_image": {cycles}}}"#),
        )
        .unwrap();
    }
    let out = bin()
        .args([
            "sweep",
            "--target",
            "ice40-hx8k",
            "--backend",
            "debian",
            "--hdl",
        ])
        .arg(dir.join("serial"))
        .arg("--hdl")
        .arg(dir.join("parallel"))
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("serial") && stdout.contains("parallel"),
        "{stdout}"
    );
    let rows: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/sweep.json")).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert_eq!(r["fits"], true);
        let lat = r["latency_us"].as_f64().unwrap();
        let expect = r["cycles_per_image"].as_f64().unwrap() / r["fmax_mhz"].as_f64().unwrap();
        assert!((lat - expect).abs() < 1e-9);
    }
    assert!(rows[0]["logic_cells"].as_u64() < rows[1]["logic_cells"].as_u64());
    let html = std::fs::read_to_string(dir.join("out/sweep.html")).unwrap();
    assert!(
        html.contains("<svg id=\"fig-pareto\"") && html.contains("<polyline"),
        "both points are on the front"
    );
}

/// A design with its weights in SPRAM (`generate --spram`) places and routes on the UP5K with the
/// SB_SPRAM256KA blocks it asks for, and any other target is refused before a tool runs.
#[test]
fn spram_design_uses_the_up5k_spram_and_is_refused_elsewhere() {
    let dir = Scratch::new("cli_synth_spram");
    let rtl = dir.join("rtl");
    let out = bin()
        .args(["generate", "--model"])
        .arg(crate::common::example("digits-lifb.json"))
        .args(["--lanes", "2,2", "--spram", "0", "--no-sim", "--out"])
        .arg(&rtl)
        .output()
        .unwrap();
    let stdout = ok(&out);
    assert!(stdout.contains("weight SPRAM (1 block(s))"), "{stdout}");
    let elsewhere = bin()
        .args(["synth", "--hdl"])
        .arg(&rtl)
        .args(["--target", "ecp5-45k", "--out"])
        .arg(dir.join("ecp5"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&elsewhere.stderr);
    assert_eq!(elsewhere.status.code(), Some(2), "{err}");
    assert!(
        err.contains("single-port RAM") && err.contains("ice40-up5k"),
        "{err}"
    );
    if !debian_ice40_tools("cli_synth_spram") {
        return;
    }
    let out = bin()
        .args(["synth", "--hdl"])
        .arg(&rtl)
        .args(["--target", "ice40-up5k", "--backend", "debian", "--out"])
        .arg(dir.join("up5k"))
        .output()
        .unwrap();
    let stdout = ok(&out);
    assert!(stdout.contains("SPRAM"), "{stdout}");
    let saved: lifb_hdl::synth::SynthResult =
        serde_json::from_slice(&std::fs::read(dir.join("up5k").join("synth.json")).unwrap())
            .unwrap();
    assert_eq!(saved.utilisation["ICESTORM_SPRAM"].used, 1);
    assert_eq!(saved.yosys_cells["SB_SPRAM256KA"], 1);
}
