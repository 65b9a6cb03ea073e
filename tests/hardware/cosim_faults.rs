//! Planted faults must be caught: a corrupted weight ROM word, a wrong threshold in the neuron
//! ROM, and an off-by-one in an engine's step counter each make co-simulation report a divergence,
//! under the verification stimulus (stalls, gaps, random beat order, resets, random initial
//! values; LIFB_COSIM_SEED sets the seed). The fault classes that escaped comparing counts only
//! are in tests/hardware/cosim_verify.rs.

use crate::common;

use crate::common::{random_net, Neuron, Spec};
use lifb_hdl::codegen::{generate, Design, Form, Lanes, Options};
use lifb_hdl::cosim::{cosim_design, CosimOptions, Stimulus};
use lifb_hdl::golden::{IntSim, TraceOptions};
use lifb_hdl::ir::{Encoding, IntNetwork, Layer, Reset};

fn spec() -> Spec {
    Spec {
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
    }
}

fn options() -> CosimOptions {
    CosimOptions {
        steps: 5,
        codegen: Options {
            lanes: Lanes::List(vec![2, 0]),
            units: Lanes::List(vec![1, 2]),
            form: Form::Native,
            ..Default::default()
        },
        cache_dir: common::cosim_cache(),
        stimulus: Stimulus::verify(common::stim_seed()),
        fifo_depth: None,
        cycle_margin: None,
    }
}

fn setup() -> (IntNetwork, Vec<Vec<u32>>) {
    let net = random_net(&spec(), 7);
    let inputs = common::random_inputs(&net, 60, 5);
    (net, inputs)
}

/// The inputs on which the faulty network's golden trace differs from the clean one's: a fault
/// that changes no spike on any input is not observable, so the test streams only these.
fn observable(net: &IntNetwork, faulty: &IntNetwork, candidates: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let (a, b) = (IntSim::new(net).unwrap(), IntSim::new(faulty).unwrap());
    let o = TraceOptions {
        counts: true,
        membranes: false,
    };
    let picked: Vec<Vec<u32>> = candidates
        .iter()
        .enumerate()
        .filter(|(s, x)| a.run(x, *s as u64, 5, o).unwrap() != b.run(x, *s as u64, 5, o).unwrap())
        .map(|(_, x)| x.clone())
        .take(3)
        .collect();
    assert!(
        !picked.is_empty(),
        "the planted fault changes no spike on any candidate input"
    );
    picked
}

fn check_caught(net: &IntNetwork, design: &Design, inputs: &[Vec<u32>], what: &str) {
    let clean = generate(net, &options().codegen).unwrap();
    let ok = cosim_design(&clean, inputs, &options()).unwrap();
    assert!(
        ok.divergence.is_none(),
        "clean design diverged: {:?}",
        ok.divergence
    );
    // the stimulus really stalled, gapped and compared membranes and the output stream
    let c = &ok.coverage;
    assert!(
        c.blocked_cycles > 0 && c.gap_cycles > 0 && c.membranes_compared > 0,
        "{what}: the clean run reached no stall, gap or membrane: {}",
        c.summary()
    );
    let bad = cosim_design(design, inputs, &options()).unwrap();
    let d = bad
        .divergence
        .unwrap_or_else(|| panic!("{what} was not caught"));
    eprintln!("{what}: {d}");
    assert!(
        d.contains("sample") && d.contains("step"),
        "report lacks location: {d}"
    );
}

#[test]
fn corrupted_rom_word_is_caught() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, inputs) = setup();
    let mut d = generate(&net, &options().codegen).unwrap();
    // Word 0 of the first weight ROM (input 0, lanes 0-1): invert every bit.
    let hex = common::design_file_mut(&mut d, "lifb_top_l0_w.hex");
    let text = String::from_utf8(hex.clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let digits = lines[0].len();
    let v = u64::from_str_radix(&lines[0], 16).unwrap();
    let mask = if digits * 4 >= 64 {
        u64::MAX
    } else {
        (1u64 << (digits * 4)) - 1
    };
    lines[0] = format!("{:0digits$x}", !v & mask);
    *hex = (lines.join("\n") + "\n").into_bytes();
    // The same fault as a network: lanes 0 and 1 of input 0 get weight !w = -w - 1.
    let mut faulty = net.clone();
    if let Layer::Dense(dl) = &mut faulty.layers[0] {
        for o in 0..2 {
            let w = &mut dl.weight[o * dl.in_features];
            *w = -*w - 1;
        }
    }
    let inputs = observable(&net, &faulty, &inputs);
    check_caught(&net, &d, &inputs, "corrupted ROM word");
}

#[test]
fn wrong_threshold_is_caught() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, inputs) = setup();
    let mut d = generate(&net, &options().codegen).unwrap();
    // The neuron ROM of a network that differs in one threshold only (neuron 0 of layer 1).
    let mut other = net.clone();
    if let Layer::Lifb(l) = &mut other.layers[1] {
        let n = 6;
        if l.threshold.len() == 1 {
            l.threshold = vec![l.threshold[0]; n];
        }
        l.threshold[0] = if l.threshold[0] > 1 { 1 } else { 40 };
        if l.spacing.len() == 1 {
            l.spacing = vec![l.spacing[0]; n];
        }
    }
    let od = generate(&other, &options().codegen).unwrap();
    let wrong = od
        .files
        .iter()
        .find(|(n, _)| n == "lifb_top_l0_n.hex")
        .unwrap()
        .1
        .clone();
    assert_ne!(&wrong, common::design_file_mut(&mut d, "lifb_top_l0_n.hex"));
    *common::design_file_mut(&mut d, "lifb_top_l0_n.hex") = wrong;
    let inputs = observable(&net, &other, &inputs);
    check_caught(&net, &d, &inputs, "wrong threshold");
}

#[test]
fn step_counter_off_by_one_is_caught() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, inputs) = setup();
    let mut d = generate(&net, &options().codegen).unwrap();
    // the step counter is in the engine core every engine instantiates
    let v = common::design_file_mut(&mut d, "lifb_engine_core.v");
    let text = String::from_utf8(v.clone()).unwrap();
    let good = "wire last_step = (step == steps_m1);";
    assert!(text.contains(good));
    *v = text
        .replace(good, "wire last_step = (step == steps_m1 - 16'd1);")
        .into_bytes();
    check_caught(&net, &d, &inputs, "step counter off by one");
}

/// The decoupled form's subtract reset with prefix sums of rho (`lifb_fire_unit`'s
/// `subtract_prefix` branch, which the native mutation campaign network never elaborates):
/// planted faults in it must be caught.
#[test]
fn prefix_rho_faults_are_caught() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, inputs) = setup();
    let mut o = options();
    o.codegen.form = Form::Decoupled;
    let clean = generate(&net, &o.codegen).unwrap();
    let engine0 = String::from_utf8(
        clean
            .files
            .iter()
            .find(|(n, _)| n == "lifb_top_l0.v")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(
        engine0.contains("localparam RHO_PREFIX        = 1;"),
        "engine 0 of the decoupled design does not use prefix sums of rho"
    );
    let ok = cosim_design(&clean, &inputs, &o).unwrap();
    assert!(ok.divergence.is_none(), "clean: {:?}", ok.divergence);
    let prefix_term = "s_nw[MB*K + RHO_BITS*i +: RHO_BITS]});";
    let faults = [
        (
            "the prefix subtract takes sub-unit 0's prefix sum whatever fired",
            prefix_term,
            "s_nw[MB*K + RHO_BITS*0 +: RHO_BITS]});",
        ),
        (
            "the prefix subtract ignores which sub-units fired",
            "if (fired[i]) v_sub = h_x",
            "if (fired[0]) v_sub = h_x",
        ),
    ];
    for (what, find, replace) in faults {
        let mut d = clean.clone();
        let f = common::design_file_mut(&mut d, "lifb_fire_unit.v");
        let text = String::from_utf8(f.clone()).unwrap();
        // the first occurrence of each text is in the subtract_prefix branch
        let at = text.find(find).unwrap_or_else(|| panic!("{what}: {find}"));
        let prefix_branch = text.find("begin : subtract_prefix").unwrap();
        let next_branch = text[prefix_branch..].find("end else begin").unwrap() + prefix_branch;
        assert!(
            at > prefix_branch && at < next_branch,
            "{what}: not in subtract_prefix"
        );
        *f = text.replacen(find, replace, 1).into_bytes();
        let bad = cosim_design(&d, &inputs, &o).unwrap();
        let div = bad
            .divergence
            .unwrap_or_else(|| panic!("{what} was not caught"));
        eprintln!("{what}: {div}");
    }
}
