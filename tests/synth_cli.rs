//! `lifb-hdl synth` as a user runs it: exit codes and messages.

mod common;

use common::{fixture, scratch, skip};
use std::process::Command;

fn lifb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifb-hdl"))
}

#[test]
fn missing_tools_name_the_install_command() {
    let empty = scratch("cli_empty_path");
    let out = lifb()
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

    let out = lifb()
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
    let out = lifb()
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
    let out = lifb()
        .args(["synth", "--hdl", "x", "--target", "ecp5-12k"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ecp5-45k"),
        "lists the valid targets"
    );
}

#[test]
fn synth_command_prints_table_and_writes_synth_json() {
    if lifb_hdl::synth::tools::resolve(
        lifb_hdl::synth::Backend::Debian,
        lifb_hdl::synth::Family::Ice40,
        None,
    )
    .is_err()
    {
        skip("cli_synth", "Debian yosys/nextpnr-ice40 missing");
        return;
    }
    let dir = scratch("cli_synth");
    let out = lifb()
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
