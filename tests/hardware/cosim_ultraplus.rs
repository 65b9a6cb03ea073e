//! The iCE40 UltraPlus shape of the hardware: weights in single-port RAM (`--spram`) and engine
//! state in block RAM with a registered read (`--state-bram`).
//!
//! SPRAM starts with random contents (the verification stimulus), the harness writes the load
//! file through the top level's load port, and co-simulation must then be spike-exact: several
//! 16-bit slices of a weight word, two engines on one load port, two banks of 16K words. The state
//! memories read every word a cycle ahead; they must give the same spikes, membranes and cycles,
//! also when an entry is written and read in one cycle (the bypass). Planted faults in both must
//! be caught, and impossible requests refused with the numbers.

use crate::common;

use crate::common::{random_net, Neuron, Spec};
use lifb_hdl::codegen::{generate, Design, Form, Lanes, Options, SPRAM_LOAD_FILE};
use lifb_hdl::cosim::{cosim_design, cosim_design_with, CosimOptions, Simulator, Stimulus};
use lifb_hdl::ir::{Encoding, IntNetwork, Reset};

/// Two engines, both in SPRAM: 8 lanes x 6 bits = 3 slices, 2 lanes x 6 bits = 1 slice (4 blocks).
fn two_engines() -> (IntNetwork, Options) {
    let spec = Spec {
        inputs: 40,
        layers: vec![
            (24, Neuron::Lifb(3, Reset::Subtract, 2)),
            (6, Neuron::Lifb(2, Reset::Zero, 0)),
        ],
        encoding: Encoding::Direct,
        weight_bits: 6,
        membrane_bits: 12,
        input_bits: 4,
        leak_frac_bits: 4,
    };
    let opts = Options {
        lanes: Lanes::List(vec![8, 2]),
        units: Lanes::List(vec![2, 1]),
        form: Form::Native,
        spram: vec![0, 1],
        ..Default::default()
    };
    (random_net(&spec, 11), opts)
}

/// One engine of 700 x 25 weight words (2 lanes of 50 neurons): two banks of 16K words.
fn two_banks() -> (IntNetwork, Options) {
    let spec = Spec {
        inputs: 700,
        layers: vec![
            (50, Neuron::Lifb(3, Reset::Subtract, 2)),
            (4, Neuron::Lifb(2, Reset::Zero, 0)),
        ],
        encoding: Encoding::Direct,
        weight_bits: 6,
        membrane_bits: 14,
        input_bits: 4,
        leak_frac_bits: 4,
    };
    let opts = Options {
        lanes: Lanes::List(vec![2, 4]),
        units: Lanes::List(vec![1, 2]),
        form: Form::Native,
        spram: vec![0],
        ..Default::default()
    };
    (random_net(&spec, 12), opts)
}

fn cosim_options(codegen: Options) -> CosimOptions {
    CosimOptions {
        steps: 4,
        codegen,
        cache_dir: common::cosim_cache(),
        stimulus: Stimulus::verify(common::stim_seed()),
        fifo_depth: None,
        cycle_margin: None,
    }
}

/// Replace the first `from` by `to` in a design file.
fn plant(d: &mut Design, file: &str, from: &str, to: &str) {
    let f = common::design_file_mut(d, file);
    let text = String::from_utf8(f.clone()).unwrap();
    assert!(text.contains(from), "{file}: '{from}'");
    *f = text.replacen(from, to, 1).into_bytes();
}

fn clean_run(net: &IntNetwork, opts: &CosimOptions, inputs: &[Vec<u32>], what: &str) {
    let d = generate(net, &opts.codegen).unwrap();
    let r = cosim_design(&d, inputs, opts).unwrap();
    assert!(r.divergence.is_none(), "{what}: {:?}", r.divergence);
    assert!(
        r.coverage.membranes_compared > 0 && r.coverage.blocked_cycles > 0,
        "{what}: compared nothing or never stalled: {}",
        r.coverage.summary()
    );
}

fn caught(d: &Design, opts: &CosimOptions, inputs: &[Vec<u32>], what: &str) {
    let r = cosim_design(d, inputs, opts).unwrap();
    let div = r
        .divergence
        .unwrap_or_else(|| panic!("{what} was not caught"));
    eprintln!("{what}: {div}");
    assert!(div.contains("step"), "{what}: no location in '{div}'");
}

#[test]
fn weights_in_spram_are_spike_exact_in_both_forms() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, mut codegen) = two_engines();
    let inputs = common::random_inputs(&net, 12, 3);
    for form in [Form::Native, Form::Decoupled] {
        codegen.form = form;
        let d = generate(&net, &codegen).unwrap();
        // the load file: one line per 16-bit slice of every weight word of both engines
        let load = &d
            .files
            .iter()
            .find(|(n, _)| n == SPRAM_LOAD_FILE)
            .unwrap()
            .1;
        let words: usize = d
            .plan
            .engines
            .iter()
            .map(|e| e.weight_depth() * e.memories.spram.as_ref().unwrap().slices)
            .sum();
        assert_eq!(load.iter().filter(|&&b| b == b'\n').count(), words);
        assert!(
            !d.files.iter().any(|(n, _)| n.contains("_w")),
            "no weight ROM files"
        );
        clean_run(&net, &cosim_options(codegen.clone()), &inputs, form.name());
    }
    let (net, codegen) = two_banks();
    let inputs = common::random_inputs(&net, 4, 5);
    assert_eq!(
        generate(&net, &codegen).unwrap().plan.engines[0]
            .memories
            .spram
            .as_ref()
            .unwrap()
            .banks,
        2
    );
    clean_run(&net, &cosim_options(codegen), &inputs, "two banks");
}

#[test]
fn faults_in_the_load_path_are_caught() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, codegen) = two_engines();
    let opts = cosim_options(codegen.clone());
    let inputs = common::random_inputs(&net, 12, 3);
    let clean = generate(&net, &codegen).unwrap();
    let mut n = 0;
    // every slice written by every beat (the slice field ignored)
    let mut d = clean.clone();
    plant(
        &mut d,
        "lifb_spram.v",
        "ld_en && ld_slice == s && ",
        "ld_en && ",
    );
    caught(&d, &opts, &inputs, "slice select ignored");
    n += 1;
    // engine 1's beats go to engine 0 (the engine field compared with the wrong number)
    let mut d = clean.clone();
    plant(&mut d, "lifb_top.v", "== 2'd1)", "== 2'd0)");
    caught(&d, &opts, &inputs, "engine field");
    n += 1;
    // engine 0's word address off by one bit (the slice field's top bit read as the word's lowest)
    let mut d = clean.clone();
    let aw = clean.plan.engines[0].widths.weight_addr;
    plant(
        &mut d,
        "lifb_top.v",
        &format!(".ld_row(wl_addr[{}:2])", aw + 1),
        &format!(".ld_row(wl_addr[{aw}:1])"),
    );
    caught(&d, &opts, &inputs, "word address shifted");
    n += 1;
    // one data word of the load file corrupted (the first line: input 0's weights of engine 0's
    // first lanes, an input active in about half of the samples)
    let mut d = clean.clone();
    let f = common::design_file_mut(&mut d, SPRAM_LOAD_FILE);
    let text = String::from_utf8(f.clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let (addr, data) = lines[0].split_once(' ').unwrap();
    let v = u16::from_str_radix(data, 16).unwrap();
    lines[0] = format!("{addr} {:04x}", v ^ 0x0fff);
    *f = (lines.join("\n") + "\n").into_bytes();
    caught(&d, &opts, &inputs, "corrupted load word");
    n += 1;
    // the output bank taken from this cycle's address instead of the registered one
    let (net, codegen) = two_banks();
    let opts = cosim_options(codegen.clone());
    let inputs = common::random_inputs(&net, 4, 5);
    let mut d = generate(&net, &codegen).unwrap();
    plant(&mut d, "lifb_spram.v", "q_bank * SLICES", "a_bank * SLICES");
    caught(&d, &opts, &inputs, "bank select not registered");
    n += 1;
    eprintln!("{n} of {n} planted faults in the load path caught");
}

#[test]
fn impossible_spram_requests_are_refused() {
    let (net, mut codegen) = two_engines();
    // 24 lanes x 6 bits = 9 slices of 16 bits: more blocks than a UP5K has
    codegen.lanes = Lanes::List(vec![24, 2]);
    let e = generate(&net, &codegen).unwrap_err().to_string();
    assert!(
        e.contains("10 SPRAM blocks") && e.contains("UP5K has 4") && e.contains("--lanes"),
        "{e}"
    );
    codegen.lanes = Lanes::List(vec![8, 2]);
    codegen.spram = vec![2];
    let e = generate(&net, &codegen).unwrap_err().to_string();
    assert!(
        e.contains("names engine 2") && e.contains("2 engine(s)"),
        "{e}"
    );
    codegen.spram = Vec::new();
    codegen.state_bram = vec![0, 5];
    let e = generate(&net, &codegen).unwrap_err().to_string();
    assert!(e.contains("--state-bram names engine 5"), "{e}");
}

/// Accumulators and membranes in block RAM: engine 0 with 3 passes and 12 fire words, engine 1 with
/// every neuron in one pass (the same accumulator entry added in consecutive cycles) and two banks.
fn state_in_bram() -> (IntNetwork, Options) {
    let (net, _) = two_engines();
    let opts = Options {
        lanes: Lanes::List(vec![8, 0]),
        units: Lanes::List(vec![2, 3]),
        form: Form::Native,
        state_bram: vec![0, 1],
        ..Default::default()
    };
    (net, opts)
}

#[test]
fn state_in_block_ram_is_spike_exact_and_its_faults_are_caught() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, mut codegen) = state_in_bram();
    let inputs = common::random_inputs(&net, 12, 3);
    for form in [Form::Native, Form::Decoupled] {
        codegen.form = form;
        clean_run(&net, &cosim_options(codegen.clone()), &inputs, form.name());
    }
    codegen.form = Form::Native;
    let opts = cosim_options(codegen.clone());
    let clean = generate(&net, &codegen).unwrap();
    let faults = [
        (
            "lifb_ram.v",
            "assign q = byp ? q_byp : q_ram;",
            "assign q = q_ram;",
            "write-first bypass removed",
        ),
        (
            "lifb_engine_core.v",
            ".fire_next_pass(f_pass_ahead[PASS_BITS-1:0])",
            ".fire_next_pass(f_idx)",
            "accumulator read for the fire process not a cycle ahead",
        ),
        (
            "lifb_engine_core.v",
            ".add_next_pass(r_idx)",
            ".add_next_pass(c_idx)",
            "accumulator read for the add not a cycle ahead",
        ),
        (
            "lifb_engine_core.v",
            ".rd_next(f_ahead[WORD_BITS-1:0])",
            ".rd_next(f_widx)",
            "membrane read not a cycle ahead",
        ),
    ];
    for (file, from, to, what) in faults {
        let mut d = clean.clone();
        plant(&mut d, file, from, to);
        caught(&d, &opts, &inputs, what);
    }
    eprintln!(
        "{n} of {n} planted faults in the block-RAM state caught",
        n = faults.len()
    );
}

#[test]
fn state_in_block_ram_takes_the_same_cycles() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, bram) = state_in_bram();
    let inputs = common::random_inputs(&net, 6, 4);
    let plain = Options {
        state_bram: Vec::new(),
        ..bram.clone()
    };
    let mut opts = cosim_options(bram);
    opts.stimulus = Stimulus::quiet();
    let a = cosim_design(&generate(&net, &opts.codegen).unwrap(), &inputs, &opts).unwrap();
    let b = cosim_design(&generate(&net, &plain).unwrap(), &inputs, &opts).unwrap();
    assert!(a.divergence.is_none() && b.divergence.is_none());
    assert_eq!(
        a.cycles, b.cycles,
        "block-RAM state changed the cycle counts"
    );
}

/// The plain Verilog testbench (Icarus) drives the load port too: the SPRAM + block-RAM-state
/// design is spike-exact there with the cycles Verilator counts.
#[test]
fn icarus_loads_the_spram_too() {
    if !common::have_tools(&["verilator", "iverilog"]) {
        return;
    }
    let (net, mut codegen) = two_engines();
    codegen.state_bram = vec![0, 1];
    let mut opts = cosim_options(codegen);
    opts.stimulus = Stimulus::quiet();
    let inputs = common::random_inputs(&net, 3, 3);
    let d = generate(&net, &opts.codegen).unwrap();
    let v = cosim_design_with(Simulator::Verilator, &d, &inputs, &opts).unwrap();
    let i = cosim_design_with(Simulator::Icarus, &d, &inputs, &opts).unwrap();
    assert!(v.divergence.is_none(), "{:?}", v.divergence);
    assert!(i.divergence.is_none(), "{:?}", i.divergence);
    assert_eq!(v.cycles, i.cycles);
}
