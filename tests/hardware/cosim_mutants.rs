//! The mutation campaign (src/cosim/mutate.rs): the catalogue follows the RTL sources, and a
//! representative slice (one mutant or more per fault class, and an equivalent one) runs under
//! the suite's co-simulation settings in Icarus (each mutant compiles in a fraction of a
//! second). The whole campaign, in both simulators, is a documented command
//! (docs/reliability.md, "Planted faults"):
//!   lifb-hdl mutate --builtin --simulator icarus
//!   lifb-hdl mutate --builtin --simulator verilator

use crate::common;

use lifb_hdl::codegen::{generate, generate_with_fifo_depth};
use lifb_hdl::cosim::mutate::{
    apply, campaign, campaign_codegen, campaign_inputs, campaign_network, campaign_options,
    catalogue, score, Class,
};
use lifb_hdl::cosim::Simulator;

#[test]
fn catalogue_is_large_unique_and_follows_the_sources() {
    let cat = catalogue();
    assert!(cat.len() >= 50, "{}", cat.len());
    let mut ids: Vec<&str> = cat.iter().map(|m| m.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), cat.len(), "duplicate mutant id");
    let net = campaign_network();
    net.validate().unwrap();
    let d = generate_with_fifo_depth(&net, &campaign_codegen(), Some(2)).unwrap();
    for m in &cat {
        let x = apply(&d, m).unwrap_or_else(|e| panic!("{}: {e}", m.id));
        assert_ne!(x.files, d.files, "{} changes nothing", m.id);
    }
    for class in [
        Class::Comparison,
        Class::Counter,
        Class::Index,
        Class::BankSelect,
        Class::Saturation,
        Class::HexWord,
        Class::FifoFlag,
        Class::Handshake,
        Class::OutputPort,
        Class::TapMembrane,
        Class::Argmax,
        Class::ZeroReset,
        Class::SubtractReset,
        Class::Leak,
    ] {
        assert!(
            cat.iter()
                .any(|m| m.class == class && m.equivalent.is_none()),
            "{class:?}"
        );
    }
}

#[test]
fn an_absent_text_is_an_error_and_words_carry() {
    let net = campaign_network();
    let d = generate(&net, &campaign_codegen()).unwrap();
    let mut x = catalogue()[0].clone();
    x.find = "this text is in no template";
    let e = apply(&d, &x).unwrap_err().to_string();
    assert!(e.contains("catalogue"), "{e}");
    // a ROM word mutant adds at its bit with a carry: bias + 1 on word 0 = 0ff -> 100
    let mut d2 = d.clone();
    let f = d2.plan.engines[0].memories.neuron_file.clone();
    d2.files.iter_mut().find(|(n, _)| *n == f).unwrap().1 = b"0ff\n123\n".to_vec();
    let bias = catalogue()
        .into_iter()
        .find(|m| m.id == "hex-bias-plus-one")
        .unwrap();
    let out = apply(&d2, &bias).unwrap();
    let (_, b) = out.files.iter().find(|(n, _)| *n == f).unwrap();
    assert_eq!(b, b"100\n123\n");
}

/// One or more mutants of every class (and one equivalent mutant, which must not be caught),
/// under the campaign's settings: the verification stimulus with 2-word FIFOs, then a quiet run
/// that checks the cycle budget.
#[test]
fn representative_slice_is_caught_in_icarus() {
    if !common::have_tool("iverilog") {
        return;
    }
    let only: Vec<String> = [
        "cmp-fire-gt",
        "cnt-last-step",
        "cnt-pass-no-wrap",
        "idx-event-index",
        "bank-fire",
        "sat-bottom-plus-one",
        "hex-threshold-plus-one",
        "fifo-empty-no-wrap",
        "hs-bubble",
        "out-done-early",
        "tap-membrane-zero",
        "argmax-tie-high",
        "zero-reset-bursts-only",
        "subtract-reset-dropped",
        "leak-shift-logical",
        "arith-mul-add",
        "idx-prienc-order",
        "eq-busy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let net = campaign_network();
    let inputs = campaign_inputs(&net, 24, 1);
    let opts = campaign_options(
        8,
        campaign_codegen(),
        common::cosim_cache(),
        common::stim_seed(),
    );
    let out = campaign(Simulator::Icarus, &net, &inputs, &opts, &only, |o| {
        eprintln!(
            "{} ({:?}): caught {}: {}",
            o.id, o.class, o.caught, o.detail
        )
    })
    .unwrap();
    assert_eq!(out.len(), only.len());
    let escaped: Vec<&str> = out
        .iter()
        .filter(|o| o.equivalent.is_none() && !o.caught)
        .map(|o| o.id.as_str())
        .collect();
    assert!(escaped.is_empty(), "escaped: {escaped:?}");
    let eq = out.iter().find(|o| o.id == "eq-busy").unwrap();
    assert!(!eq.caught, "an equivalent mutant was caught: {}", eq.detail);
    let bubble = out.iter().find(|o| o.id == "hs-bubble").unwrap();
    assert!(bubble.detail.contains("cycle budget"), "{}", bubble.detail);
    let (caught, live, s) = score(&out);
    assert_eq!((caught, live, s), (17, 17, 1.0));
}

fn run(args: &[&str]) -> (i32, String) {
    let o = common::bin().args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// The command line: a caught mutant and an equivalent one pass (JSON with the score); an
/// unknown id is bad input; a model whose RTL lacks a mutated branch is an error naming it.
#[test]
fn mutate_cli() {
    if !common::have_tool("iverilog") {
        return;
    }
    let cache = std::fs::canonicalize(".")
        .unwrap()
        .join(common::cosim_cache());
    let c = cache.to_str().unwrap();
    let (code, out) = run(&[
        "mutate",
        "--builtin",
        "--simulator",
        "icarus",
        "--only",
        "out-index-zero,eq-busy",
        "--json",
        "--cache",
        c,
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["score"], 1.0, "{out}");
    assert_eq!(v["non_equivalent"], 1, "{out}");
    let (code, out) = run(&[
        "mutate",
        "--builtin",
        "--only",
        "no-such-mutant",
        "--cache",
        c,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no-such-mutant"), "{out}");
    let (code, out) = run(&["mutate", "--list"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().count() >= 50 && out.contains("equivalent:"),
        "{out}"
    );
    // --conv: the convolution catalogue, on the conv campaign network with --builtin
    let (code, out) = run(&["mutate", "--list", "--conv"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("conv-walk-zero") && !out.contains("cmp-fire-gt"),
        "{out}"
    );
    let (code, out) = run(&[
        "mutate",
        "--builtin",
        "--conv",
        "--simulator",
        "icarus",
        "--only",
        "conv-walk-zero",
        "--json",
        "--cache",
        c,
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["score"], 1.0, "{out}");
    assert_eq!(v["non_equivalent"], 1, "{out}");
    // a model without a multiplied leak: the leak-mul mutants cannot be planted
    let dir = common::Scratch::new("mutate");
    let (spec, _, _) = &common::structures()[0];
    let mut spec = spec.clone();
    spec.layers = vec![(6, common::Neuron::Lifb(3, lifb_hdl::ir::Reset::Subtract, 0))];
    let net = common::random_net(&spec, 5);
    let model = dir.join("m.json");
    lifb_hdl::format::save(&net, &model).unwrap();
    let (code, out) = run(&[
        "mutate",
        "--model",
        model.to_str().unwrap(),
        "--simulator",
        "icarus",
        "--only",
        "leak-mul-sign",
        "--steps",
        "3",
        "--random",
        "2",
        "--cache",
        c,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("leak-mul-sign") && out.contains("not generated"),
        "{out}"
    );
}
