//! Co-simulation speed and cycles-per-inference figures for MLPs shaped like the example models
//! (784-256-10 and 64-32-10). Not a pass/fail test: run it to print the figures recorded in
//! docs/benchmarks.md:
//!   cargo test --release --test hardware cosim_bench:: -- --ignored --nocapture

use crate::common;

use crate::common::{random_inputs, random_net, Neuron, Spec};
use lifb_hdl::codegen::{Form, Lanes, Options};
use lifb_hdl::cosim::{cosim, CosimOptions};
use lifb_hdl::ir::{Encoding, Reset};

fn run(name: &str, spec: &Spec, samples: usize, steps: u32, lanes: Vec<usize>) {
    let net = random_net(spec, 42);
    let inputs = random_inputs(&net, samples, 3);
    for form in [Form::Native, Form::Decoupled] {
        let opts = CosimOptions {
            steps,
            codegen: Options {
                lanes: Lanes::List(lanes.clone()),
                form,
                ..Default::default()
            },
            cache_dir: std::path::PathBuf::from("target").join("lifb-cosim-bench"),
            ..Default::default()
        };
        // Twice: the first run builds (or reuses) the simulator, the second measures it warm.
        cosim(&net, &inputs, &opts).unwrap();
        let r = cosim(&net, &inputs, &opts).unwrap();
        println!(
            "{name}, {} form, lanes {lanes:?}, T = {steps}:",
            form.name()
        );
        print!("{}", r.summary());
        assert!(r.divergence.is_none(), "{}", r.divergence.unwrap());
    }
}

#[test]
#[ignore]
fn cosim_speed_and_cycles() {
    if !common::have_tool("verilator") {
        return;
    }
    let mlp = |inputs, hidden, b| Spec {
        inputs,
        layers: vec![
            (hidden, Neuron::Lifb(b, Reset::Subtract, 1)),
            (10, Neuron::Lifb(b, Reset::Subtract, 0)),
        ],
        encoding: Encoding::Direct,
        weight_bits: 8,
        membrane_bits: 16,
        input_bits: 4,
        leak_frac_bits: 4,
    };
    run("64-32-10", &mlp(64, 32, 4), 100, 8, vec![16, 10]);
    run("784-256-10", &mlp(784, 256, 4), 100, 8, vec![16, 10]);
    run("784-256-10", &mlp(784, 256, 4), 100, 8, vec![64, 10]);
}
