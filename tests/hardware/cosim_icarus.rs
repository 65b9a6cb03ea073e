//! The second simulator: Icarus Verilog under the plain Verilog testbench sim/tb_lifb.v reaches
//! the same verdict as Verilator on the digits example and on random structures, with the same
//! cycle counts and the same coverage counters (both are driven by one seeded stimulus and
//! compared by one piece of code), and it catches planted faults too.

use crate::common;

use crate::common::{random_net, Neuron, Spec};
use lifb_hdl::codegen::{generate_with_fifo_depth, Form, Lanes, Options};
use lifb_hdl::cosim::{cosim_design_with, cosim_with, CosimOptions, Simulator, Stimulus};
use lifb_hdl::ir::random::{random_inputs, random_network, RandomSpec};
use lifb_hdl::ir::{Encoding, IntNetwork, Reset};

fn have_both() -> bool {
    common::have_tool("iverilog") && common::have_tool("verilator")
}

fn opts(steps: u32, codegen: Options, fifo: usize, seed: u64) -> CosimOptions {
    CosimOptions {
        steps,
        codegen,
        cache_dir: common::cosim_cache(),
        stimulus: Stimulus::verify(seed),
        fifo_depth: Some(fifo),
        cycle_margin: None,
    }
}

/// Run both simulators; both must pass with identical cycles and coverage.
fn same_verdict(
    what: &str,
    net: &IntNetwork,
    inputs: &[Vec<u32>],
    o: &CosimOptions,
) -> lifb_hdl::cosim::CosimReport {
    let iv = cosim_with(Simulator::Icarus, net, inputs, o)
        .unwrap_or_else(|e| panic!("{what}: icarus: {e}"));
    let vl = cosim_with(Simulator::Verilator, net, inputs, o)
        .unwrap_or_else(|e| panic!("{what}: verilator: {e}"));
    assert_eq!(iv.failure(), None, "{what}: icarus");
    assert_eq!(vl.failure(), None, "{what}: verilator");
    assert_eq!(iv.cycles, vl.cycles, "{what}: cycles differ");
    assert_eq!(iv.coverage, vl.coverage, "{what}: coverage differs");
    assert!(
        iv.coverage.blocked_cycles > 0,
        "{what}: {}",
        iv.coverage.summary()
    );
    eprintln!(
        "{what}: both pass, {} cycles per inference",
        iv.cycles_per_sample()
    );
    iv
}

#[test]
fn digits_example_same_verdict_as_verilator() {
    if !have_both() {
        return;
    }
    let (net, inputs, steps) = common::digits_int(12);
    let codegen = Options {
        lanes: Lanes::List(vec![16, 10]),
        units: Lanes::Default,
        form: Form::Native,
        ..Default::default()
    };
    let r = same_verdict(
        "digits",
        &net,
        &inputs,
        &opts(steps, codegen, 4, common::stim_seed()),
    );
    let c = &r.coverage;
    assert!(
        c.membranes_compared > 100 && c.gap_cycles > 0 && c.fifo_full_total() > 0,
        "{}",
        c.summary()
    );
}

#[test]
fn random_structures_same_verdict_as_verilator() {
    if !have_both() {
        return;
    }
    // Icarus alone on more structures (it compiles in a fraction of a second) ...
    for seed in 0..8u64 {
        let net = random_network(seed, &RandomSpec::default());
        let inputs = random_inputs(&net, seed, 4, 0.6);
        for (fi, form) in [Form::Native, Form::Decoupled].into_iter().enumerate() {
            let codegen = Options {
                lanes: Lanes::List(vec![1 + (seed as usize + fi) % 5]),
                units: Lanes::List(vec![1 + (seed as usize) % 3]),
                form,
                ..Default::default()
            };
            let o = opts(5, codegen, 4, common::stim_seed() ^ seed);
            let r = cosim_with(Simulator::Icarus, &net, &inputs, &o)
                .unwrap_or_else(|e| panic!("seed {seed} ({}): {e}", form.name()));
            assert_eq!(r.failure(), None, "seed {seed} ({} form)", form.name());
            // ... and against Verilator on two (each a Verilator build)
            if seed < 2 && form == Form::Native {
                same_verdict(&format!("random structure {seed}"), &net, &inputs, &o);
            }
        }
    }
}

/// Planted faults in the RTL text: both simulators report a divergence, at the same place.
#[test]
fn planted_faults_are_caught_by_icarus_too() {
    if !have_both() {
        return;
    }
    let spec = Spec {
        inputs: 8,
        layers: vec![
            (6, Neuron::Lifb(3, Reset::Subtract, 2)),
            (4, Neuron::Lifb(2, Reset::Zero, 0)),
        ],
        encoding: Encoding::Direct,
        weight_bits: 6,
        membrane_bits: 12,
        input_bits: 4,
        leak_frac_bits: 4,
    };
    let net = random_net(&spec, 7);
    let inputs = common::random_inputs(&net, 12, 5);
    let codegen = Options {
        lanes: Lanes::List(vec![2, 0]),
        units: Lanes::List(vec![1, 2]),
        form: Form::Native,
        ..Default::default()
    };
    let o = opts(5, codegen.clone(), 2, common::stim_seed());
    let clean = generate_with_fifo_depth(&net, &codegen, Some(2)).unwrap();
    let r = cosim_design_with(Simulator::Icarus, &clean, &inputs, &o).unwrap();
    assert_eq!(r.failure(), None);
    let faults = [
        (
            "lifb_engine_core.v",
            "wire last_step = (step == steps_m1);",
            "wire last_step = (step == steps_m1 - 16'd1);",
        ),
        (
            "lifb_fifo.v",
            "assign wr_ready = !full;",
            "assign wr_ready = 1'b1;",
        ),
    ];
    for (file, find, replace) in faults {
        let mut d = clean.clone();
        let f = &mut d.files.iter_mut().find(|(n, _)| n == file).unwrap().1;
        let text = String::from_utf8(f.clone()).unwrap();
        assert!(text.contains(find), "{file}: {find}");
        *f = text.replacen(find, replace, 1).into_bytes();
        let iv = cosim_design_with(Simulator::Icarus, &d, &inputs, &o).unwrap();
        let vl = cosim_design_with(Simulator::Verilator, &d, &inputs, &o).unwrap();
        let fi = iv
            .failure()
            .unwrap_or_else(|| panic!("icarus missed: {replace}"));
        let fv = vl
            .failure()
            .unwrap_or_else(|| panic!("verilator missed: {replace}"));
        eprintln!("{replace}\n  icarus: {fi}\n  verilator: {fv}");
        assert!(fi.contains("sample"), "{fi}");
    }
}

/// The command line: `cosim --simulator icarus` passes a clean design and names the simulator.
#[test]
fn cosim_cli_runs_icarus() {
    if !common::have_tool("iverilog") {
        return;
    }
    let dir = common::Scratch::new("cosim-icarus");
    let net = random_network(3, &RandomSpec::default());
    let model = dir.join("model.json");
    lifb_hdl::format::save(&net, &model).unwrap();
    let cache = std::fs::canonicalize(".")
        .unwrap()
        .join(common::cosim_cache());
    let o = common::bin()
        .args(["cosim", "--model"])
        .arg(&model)
        .args([
            "--random",
            "5",
            "--steps",
            "4",
            "--stall",
            "--simulator",
            "icarus",
        ])
        .arg("--cache")
        .arg(&cache)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("co-simulation OK") && out.contains("icarus"),
        "{out}"
    );
}
