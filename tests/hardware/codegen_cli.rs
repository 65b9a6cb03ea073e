//! `lifb-hdl generate` and `lifb-hdl cosim` from the command line: byte-identical output,
//! Yosys 0.23 synthesis with the weight ROMs in block RAM, exit codes for refused networks and
//! for mismatches.

use crate::common;

use crate::common::{bin, Scratch};
use crate::common::{random_net, Neuron, Spec};
use lifb_hdl::ir::{Conv2d, Encoding, Layer, Reset};
use std::path::Path;
use std::process::Command;

fn spec() -> Spec {
    Spec {
        inputs: 40,
        layers: vec![
            (24, Neuron::Lifb(4, Reset::Subtract, 3)),
            (5, Neuron::Lifb(2, Reset::Zero, 0)),
        ],
        encoding: Encoding::Direct,
        weight_bits: 8,
        membrane_bits: 14,
        input_bits: 4,
        leak_frac_bits: 4,
    }
}

fn tmp(name: &str) -> Scratch {
    Scratch::new(&format!("codegen-{name}"))
}

/// Every file under `d` (the testbench folder sim/ included), by relative path.
fn read_dir(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            v.extend(
                read_dir(&e.path())
                    .into_iter()
                    .map(|(n, b)| (format!("{name}/{n}"), b)),
            );
        } else {
            v.push((name, std::fs::read(e.path()).unwrap()));
        }
    }
    v.sort();
    v
}

#[test]
fn generate_is_byte_identical_and_synthesizes() {
    let dir = tmp("gen");
    let model = dir.join("model.json");
    lifb_hdl::format::save(&random_net(&spec(), 3), &model).unwrap();
    for form in ["native", "decoupled"] {
        let (a, b) = (dir.join(format!("a-{form}")), dir.join(format!("b-{form}")));
        for out in [&a, &b] {
            let o = bin()
                .args(["generate", "--model"])
                .arg(&model)
                .arg("--out")
                .arg(out)
                .args(["--lanes", "8,all", "--form", form])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let (fa, fb) = (read_dir(&a), read_dir(&b));
        assert!(fa.len() > 8);
        assert_eq!(fa, fb, "two runs of generate differ");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(
            manifest["model_hash"].as_str().unwrap(),
            lifb_hdl::format::model_hash(&lifb_hdl::format::load_integer(&model).unwrap()).unwrap()
        );
        if form == "native" && common::have_tool("yosys") {
            let files: Vec<String> = fa
                .iter()
                .filter(|(n, _)| n.ends_with(".v") && !n.contains('/'))
                .map(|(n, _)| n.clone())
                .collect();
            let script = format!(
                "read_verilog {}; synth_ice40 -top lifb_top; stat",
                files.join(" ")
            );
            let o = Command::new("yosys")
                .args(["-p", &script])
                .current_dir(&a)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success(),
                "yosys failed: {text}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                text.contains("SB_RAM40_4K"),
                "no block RAM inferred:\n{text}"
            );
        }
    }
}

#[test]
fn a_1x1_conv_is_generated_and_the_pure_lif_form_exits_2() {
    let dir = tmp("refuse");
    let mut net = random_net(&spec(), 4);
    // The first dense layer as the equivalent 1x1 convolution on (40, 1, 1): a conv engine.
    let Layer::Dense(d) = net.layers[0].clone() else {
        unreachable!()
    };
    net.layers[0] = Layer::Conv2d(Conv2d {
        in_channels: d.in_features,
        out_channels: d.out_features,
        kernel: [1, 1],
        stride: [1, 1],
        padding: [0, 0],
        weight: d.weight,
        bias: d.bias,
    });
    net.validate().unwrap();
    let model = dir.join("conv.json");
    lifb_hdl::format::save(&net, &model).unwrap();
    let o = bin()
        .args(["generate", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The pure-LIF form (lateral synapses) has no hardware: refused, clearly.
    let o = bin()
        .args(["generate", "--form", "pure-lif", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(dir.join("out-pure"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("pure-LIF form"), "{err}");
    assert!(
        !dir.join("out-pure").exists(),
        "a refused design leaves no folder"
    );
    let o = bin()
        .args(["generate", "--model"])
        .arg(dir.join("missing.json"))
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn cosim_command_reports_cycles() {
    if !common::have_tool("verilator") {
        return;
    }
    let dir = tmp("cosim");
    let model = dir.join("model.json");
    lifb_hdl::format::save(&random_net(&spec(), 5), &model).unwrap();
    for form in ["native", "decoupled"] {
        let o = bin()
            .args(["cosim", "--model"])
            .arg(&model)
            .args([
                "--random", "20", "--seed", "9", "--steps", "4", "--form", form, "--cache",
            ])
            .arg(common::cosim_cache())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            out.contains("co-simulation OK") && out.contains("cycles per inference"),
            "{out}"
        );
    }
}
