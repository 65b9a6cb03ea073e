//! The generated Verilog is lint-clean (Verilator -Wall, zero warnings; also with weights in SPRAM
//! and state in block RAM), accepted by Icarus in
//! Verilog-2005 mode, byte-identical when generated twice, and equal to the reviewed snapshots in
//! tests/hardware/snapshots (`cargo insta review` after an intended change shows the difference).

use crate::common;

use crate::common::{random_net, Neuron, Spec};
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

/// Verilator -Wall (zero warnings) and Icarus -g2005 on a written design.
fn lint(d: &lifb_hdl::codegen::Design, tag: &str) {
    let dir = common::Scratch::new(tag);
    write(d, &dir).unwrap();
    let files: Vec<String> = verilog_files(d)
        .map(|(n, _)| dir.join(n).display().to_string())
        .collect();
    if common::have_tool("verilator") {
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
    if common::have_tool("iverilog") {
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

/// Conv designs (every conv test structure, both forms) lint clean, generate deterministically,
/// and one small one matches its reviewed snapshot.
#[test]
fn conv_designs_are_lint_clean_and_snapshotted() {
    use common::conv::{conv_structures, random_conv_net};
    for (si, (spec, lanes, units)) in conv_structures().into_iter().enumerate() {
        for form in [Form::Native, Form::Decoupled] {
            let net = random_conv_net(&spec, 300 + si as u64);
            let opts = Options {
                lanes: Lanes::List(lanes.clone()),
                units: Lanes::List(units.clone()),
                form,
                ..Default::default()
            };
            let a = generate(&net, &opts).unwrap();
            let b = generate(&net, &opts).unwrap();
            assert_eq!(a.files, b.files, "generation is not deterministic");
            lint(&a, &format!("lint-conv-{si}-{form}"));
            if si == 0 && form == Form::Native {
                insta::assert_snapshot!("conv_0", generated_rtl(&net, &opts));
            }
        }
    }
}

#[test]
fn generated_verilog_is_lint_clean_and_deterministic() {
    for (si, (spec, lanes, units)) in specs().into_iter().enumerate() {
        for form in [Form::Native, Form::Decoupled] {
            let net = random_net(&spec, 100 + si as u64);
            let opts = Options {
                lanes: lanes.clone(),
                units: units.clone(),
                form,
                ..Default::default()
            };
            let a = generate(&net, &opts).unwrap();
            let b = generate(&net, &opts).unwrap();
            assert_eq!(a.files, b.files, "generation is not deterministic");
            lint(&a, &format!("lint-{si}-{form}"));
            // every engine's weights in SPRAM and its state in block RAM (the iCE40 UltraPlus shape)
            let all: Vec<usize> = (0..spec.layers.len()).collect();
            let opts = Options {
                spram: all.clone(),
                state_bram: all,
                ..opts
            };
            lint(
                &generate(&net, &opts).unwrap(),
                &format!("lint-{si}-{form}-bram"),
            );
        }
    }
}

/// The generated wrappers (top and engines; the hdl/ modules are copied verbatim) of a design, as
/// one text with a header per file and the version number masked (a release changes nothing else).
fn generated_rtl(net: &lifb_hdl::ir::IntNetwork, opts: &Options) -> String {
    let d = generate(net, opts).unwrap();
    let hdl: Vec<&str> = lifb_hdl::codegen::HDL_MODULES
        .iter()
        .map(|(n, _)| *n)
        .chain(["lifb_event_route.v"])
        .collect();
    let mut out = String::new();
    for (name, bytes) in verilog_files(&d).filter(|(n, _)| !hdl.contains(&n.as_str())) {
        out += &format!("==> {name} <==\n");
        out += &String::from_utf8(bytes.clone())
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "[version]");
    }
    out
}

#[test]
fn generated_rtl_matches_the_reviewed_snapshots() {
    let (digits, _, _) = common::digits_int(0);
    for form in [Form::Native, Form::Decoupled] {
        let opts = Options {
            lanes: Lanes::List(vec![8, 0]),
            units: Lanes::Default,
            form,
            ..Default::default()
        };
        insta::assert_snapshot!(format!("digits_{form}"), generated_rtl(&digits, &opts));
    }
    // multiplied leak + subtract reset and no leak + zero reset (constant input), then a group
    // with subtract reset and a shift leak before a current readout, one lane
    for (si, (spec, lanes, units)) in specs().into_iter().take(2).enumerate() {
        let net = random_net(&spec, 100 + si as u64);
        let opts = Options {
            lanes,
            units,
            form: Form::Native,
            ..Default::default()
        };
        insta::assert_snapshot!(format!("random_{si}"), generated_rtl(&net, &opts));
    }
}

/// The named sizes of the engine wrappers at the edges: one lane (a pass per neuron, one unit),
/// one pass (all lanes), unit groups that leave the last group partly empty, counts of the widest
/// input and of a burst, and values that change nothing (negative weights: widths come from the
/// declared fixed point only).
#[test]
fn engine_params_follow_the_width_rules() {
    use lifb_hdl::codegen::{plan, rtl::EngineParams};
    let spec = Spec {
        inputs: 5,
        layers: vec![
            (7, Neuron::Lifb(7, Reset::Subtract, 3)),
            (3, Neuron::Group(2, Reset::Subtract, 8)),
        ],
        encoding: Encoding::Direct,
        weight_bits: 6,
        membrane_bits: 10,
        input_bits: 8,
        leak_frac_bits: 4,
    };
    let mut net = random_net(&spec, 7);
    let params = |net: &lifb_hdl::ir::IntNetwork, lanes: Vec<usize>, units: Vec<usize>| {
        let opts = Options {
            lanes: Lanes::List(lanes),
            units: Lanes::List(units),
            form: Form::Native,
            ..Default::default()
        };
        let p = plan(net, &opts).unwrap();
        p.engines.iter().map(EngineParams::of).collect::<Vec<_>>()
    };
    // engine 0: one lane; engine 1: one pass of all three lanes, in unit groups of two
    let e = params(&net, vec![1, 0], vec![1, 2]);
    let (a, b) = (&e[0], &e[1]);
    assert_eq!(
        (a.lanes, a.passes, a.units, a.unit_groups, a.words),
        (1, 7, 1, 1, 7)
    );
    assert_eq!(
        (a.last_pass, a.last_pass_neurons, a.last_word, a.last_group),
        (6, 1, 6, 0)
    );
    // a pass index 0..6 needs 3 bits, a counter 0..=7 also 3; one unit group still gets 1 bit
    assert_eq!((a.pass_bits, a.pass_count_bits, a.group_bits), (3, 3, 1));
    assert_eq!((a.word_bits, a.word_count_bits), (3, 3));
    // direct 8-bit inputs: counts up to 255; B = 7 burst counts need 3 bits
    assert_eq!(
        (a.in_index_bits, a.in_count_bits, a.out_count_bits),
        (3, 8, 3)
    );
    // accumulator: bits of 2^9 + 5 * 2^5 * 255 = 41,312 plus a sign: 17; sum two bits wider
    assert_eq!(
        (a.acc_bits, a.membrane_bits, a.state_bits, a.sum_bits),
        (17, 10, 10, 19)
    );
    // bias and seven thresholds; multiplied leak d = 3 of 2^4
    assert_eq!((a.param_bits, a.thresholds, a.events), (80, 7, 1));
    assert_eq!((a.neuron, a.reset, a.leak), ("lifb", "subtract", "mul"));
    assert_eq!((a.leak_mul, a.leak_mul_bits, a.leak_frac), (3, 2, 4));
    assert_eq!((a.weight_depth, a.weight_addr_bits), (35, 6));
    assert_eq!(
        (b.lanes, b.passes, b.units, b.unit_groups, b.words),
        (3, 1, 2, 2, 2)
    );
    assert_eq!((b.last_pass, b.last_pass_neurons, b.last_group), (0, 3, 1));
    assert_eq!((b.pass_bits, b.pass_count_bits, b.group_bits), (1, 1, 1));
    // a group of two sub-units: two events per unit, each a binary spike; rho in 9 bits
    assert_eq!(
        (b.neuron, b.events, b.pending, b.out_count_bits),
        ("group", 2, 4, 1)
    );
    assert_eq!((b.in_count_bits, b.rho_bits), (3, 9));
    assert_eq!(b.param_bits, 10 * 3 + 2 * 9);
    // subtract reset: V down to -2^9 - 2 * (2^9 - 1) needs 12 bits; the sum is two wider
    assert_eq!((b.state_bits, b.sum_bits), (12, b.acc_bits.max(12) + 2));
    assert_eq!((b.leak, b.leak_shift), ("shift", 1));
    assert_eq!(b.out_index_bits, 3); // 3 neurons x 2 sub-units: indices 0..5
                                     // the same structure with every weight negative: identical sizes
    for l in &mut net.layers {
        if let lifb_hdl::ir::Layer::Dense(d) = l {
            for w in &mut d.weight {
                *w = -w.abs().max(1);
            }
        }
    }
    assert_eq!(params(&net, vec![1, 0], vec![1, 2]), e);
}

/// lifb_spram's shapes: words in two banks (17,500 words), exactly 16,384 words (a 14-bit
/// address), and a 64-bit weight word in four slices; each with its state in block RAM.
#[test]
fn spram_shapes_are_lint_clean() {
    for (k, (inputs, neurons, lanes, weight_bits)) in
        [(700, 50, 2, 6), (512, 64, 2, 6), (20, 16, 16, 4)]
            .into_iter()
            .enumerate()
    {
        let spec = Spec {
            inputs,
            layers: vec![(neurons, Neuron::Lifb(3, Reset::Subtract, 2))],
            encoding: Encoding::Direct,
            weight_bits,
            membrane_bits: 14,
            input_bits: 4,
            leak_frac_bits: 4,
        };
        let net = random_net(&spec, 40 + k as u64);
        let opts = Options {
            lanes: Lanes::List(vec![lanes]),
            spram: vec![0],
            state_bram: vec![0],
            ..Default::default()
        };
        let d = generate(&net, &opts).unwrap();
        let sp = d.plan.engines[0].memories.spram.clone().unwrap();
        let shape = [(1, 2), (1, 1), (4, 1)][k];
        assert_eq!((sp.slices, sp.banks), shape, "case {k}");
        lint(&d, &format!("lint-spram-{k}"));
    }
}
