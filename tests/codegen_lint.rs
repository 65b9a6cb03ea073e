//! The generated Verilog is lint-clean (Verilator -Wall, zero warnings), accepted by Icarus in
//! Verilog-2005 mode, and byte-identical when generated twice.

mod hw_common;

use hw_common::{random_net, Neuron, Spec};
use lifb_hdl::codegen::{generate, verilog_files, write, Form, Lanes, Options};
use lifb_hdl::ir::{Encoding, Reset};
use std::process::Command;

fn specs() -> Vec<(Spec, Lanes, Lanes)> {
    vec![
        (
            Spec {
                inputs: 12,
                layers: vec![
                    (7, Neuron::Lifb(3, Reset::Subtract, 3)),
                    (5, Neuron::Lifb(1, Reset::Zero, 0)),
                ],
                encoding: Encoding::Direct,
                weight_bits: 6,
                membrane_bits: 12,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            Lanes::List(vec![3, 0]),
            Lanes::List(vec![2, 3]),
        ),
        (
            Spec {
                inputs: 9,
                layers: vec![(6, Neuron::Group(4, Reset::Subtract, 8)), (3, Neuron::None)],
                encoding: Encoding::Rate { seed: 7 },
                weight_bits: 5,
                membrane_bits: 10,
                input_bits: 3,
                leak_frac_bits: 4,
            },
            Lanes::List(vec![1]),
            Lanes::Default,
        ),
        (
            Spec {
                inputs: 10,
                layers: vec![
                    (4, Neuron::Group(3, Reset::Zero, 5)),
                    (4, Neuron::Group(1, Reset::Subtract, 0)),
                ],
                encoding: Encoding::Burst { max_count: 5 },
                weight_bits: 8,
                membrane_bits: 16,
                input_bits: 8,
                leak_frac_bits: 3,
            },
            Lanes::List(vec![0]),
            Lanes::List(vec![2]),
        ),
    ]
}

#[test]
fn generated_verilog_is_lint_clean_and_deterministic() {
    let have_verilator = hw_common::have_tool("verilator");
    let have_iverilog = hw_common::have_tool("iverilog");
    for (si, (spec, lanes, units)) in specs().into_iter().enumerate() {
        for form in [Form::Native, Form::Decoupled] {
            let net = random_net(&spec, 100 + si as u64);
            let opts = Options {
                lanes: lanes.clone(),
                units: units.clone(),
                form,
            };
            let a = generate(&net, &opts).unwrap();
            let b = generate(&net, &opts).unwrap();
            assert_eq!(a.files, b.files, "generation is not deterministic");
            let dir = hw_common::Scratch::new(&format!("lint-{si}-{form}"));
            write(&a, &dir).unwrap();
            let files: Vec<String> = verilog_files(&a)
                .map(|(n, _)| dir.join(n).display().to_string())
                .collect();
            if have_verilator {
                let out = Command::new("verilator")
                    .args(["--lint-only", "-Wall", "--top-module", "lifb_top"])
                    .args(&files)
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success() && !text.contains("%Warning"),
                    "verilator lint of {}:\n{text}",
                    dir.display()
                );
            }
            if have_iverilog {
                let out = Command::new("iverilog")
                    .args(["-g2005", "-Wall", "-o", "/dev/null", "-s", "lifb_top"])
                    .args(&files)
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success() && text.trim().is_empty(),
                    "iverilog of {}:\n{text}",
                    dir.display()
                );
            }
        }
    }
}
