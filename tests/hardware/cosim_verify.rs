//! The co-simulation's own checks: the cycle budget (calibrated on random networks and the
//! digits example without stalls; a handshake bubble fails it), `cosim --hdl` on a hand-edited
//! RTL folder, and directed corner cases (H exactly on every threshold, both saturation bounds,
//! tied scores, a long T) under the verification stimulus.
//!
//! Calibration figures: cargo test --release --test hardware cosim_verify:: -- --nocapture

use crate::common;

use crate::common::{random_inputs, random_net, structures};
use lifb_hdl::codegen::{generate, Form, Lanes, Options};
use lifb_hdl::cosim::{cosim, cosim_design, CosimOptions, Stimulus, DEFAULT_CYCLE_MARGIN};
use lifb_hdl::ir::{
    Dense, Encoding, FixedPoint, InputSpec, IntNetwork, Layer, Leak, Lifb, Network, Reset, Shape,
};
use std::collections::BTreeMap;

fn quiet(steps: u32, codegen: Options) -> CosimOptions {
    CosimOptions {
        steps,
        codegen,
        cache_dir: common::cosim_cache(),
        stimulus: Stimulus::quiet(),
        fifo_depth: None,
        cycle_margin: Some(DEFAULT_CYCLE_MARGIN),
    }
}

/// Without stalls, measured cycles stay within the budget on every random structure in both
/// forms and on the digits model (the margin's calibration; prints measured / predicted).
#[test]
fn cycle_model_holds_within_the_budget() {
    if !common::have_tool("verilator") {
        return;
    }
    let mut worst = 0f64;
    let mut best = f64::MAX;
    let mut check = |what: &str, net: &IntNetwork, inputs: &[Vec<u32>], opts: &CosimOptions| {
        let r = cosim(net, inputs, opts).unwrap();
        assert!(r.divergence.is_none(), "{what}: {:?}", r.divergence);
        for (&c, &p) in r.cycles.iter().zip(&r.predicted) {
            let q = c as f64 / p as f64;
            worst = worst.max(q);
            best = best.min(q);
        }
        eprintln!("{what}: {}", r.budget_note);
        assert!(
            r.budget_violation.is_none(),
            "{what}: {:?}",
            r.budget_violation
        );
    };
    for (si, (spec, lanes, units)) in structures().iter().enumerate() {
        for form in [Form::Native, Form::Decoupled] {
            for k in 0..3u64 {
                let net = random_net(spec, 500 + 10 * si as u64 + k);
                let inputs = random_inputs(&net, 4, k);
                let codegen = Options {
                    lanes: Lanes::List(lanes.clone()),
                    units: Lanes::List(units.clone()),
                    form,
                    ..Default::default()
                };
                check(
                    &format!("structure {si} net {k} ({})", form.name()),
                    &net,
                    &inputs,
                    &quiet(6, codegen),
                );
            }
        }
    }
    let (digits, inputs, steps) = common::digits_int(40);
    for form in [Form::Native, Form::Decoupled] {
        for lanes in [16usize, 32] {
            let codegen = Options {
                lanes: Lanes::List(vec![lanes, 10]),
                units: Lanes::Default,
                form,
                ..Default::default()
            };
            check(
                &format!("digits, lanes {lanes} ({})", form.name()),
                &digits,
                &inputs,
                &quiet(steps, codegen),
            );
        }
    }
    eprintln!("measured / predicted cycles: {best:.3} ..= {worst:.3}");
}

/// A handshake bubble (the first engine takes an input beat only every other cycle) makes the
/// design slower but changes no spike: only the cycle budget catches it.
#[test]
fn handshake_bubble_fails_the_cycle_budget() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, inputs, steps) = common::digits_int(40);
    let inputs = &inputs[..10];
    let codegen = Options {
        lanes: Lanes::List(vec![32, 10]),
        units: Lanes::Default,
        form: Form::Native,
        ..Default::default()
    };
    let opts = quiet(steps, codegen.clone());
    let clean = cosim(&net, inputs, &opts).unwrap();
    assert!(clean.failure().is_none(), "{:?}", clean.failure());
    // The bubble: an engine's output register accepts a new beat only when it is empty, not
    // in the cycle its beat is taken (every engine loses a cycle per event: the output stream
    // is in the engine core all engines instantiate).
    let mut d = generate(&net, &codegen).unwrap();
    let good = "wire out_free    = !out_valid || out_ready;";
    let (_, core) = d
        .files
        .iter_mut()
        .find(|(n, _)| n == "lifb_engine_core.v")
        .unwrap();
    let text = String::from_utf8(core.clone()).unwrap();
    assert!(text.contains(good));
    *core = text
        .replace(good, "wire out_free    = !out_valid;")
        .into_bytes();
    let slow = cosim_design(&d, inputs, &opts).unwrap();
    assert!(
        slow.divergence.is_none(),
        "the bubble should change no spike: {:?}",
        slow.divergence
    );
    let ratio = slow.total_cycles() as f64 / clean.total_cycles() as f64;
    eprintln!(
        "bubble: {ratio:.3} x the clean design's cycles; {}",
        slow.budget_note
    );
    assert!(
        ratio > 1.1,
        "the bubble did not slow the design down ({ratio})"
    );
    let v = slow
        .budget_violation
        .unwrap_or_else(|| panic!("a {ratio:.2}x slower design passed the cycle budget"));
    assert!(v.contains("cycle budget"), "{v}");
    // With stalls the budget is not checked, and the report says so.
    let mut stalled = opts.clone();
    stalled.stimulus = Stimulus::verify(3);
    let r = cosim_design(&d, inputs, &stalled).unwrap();
    assert!(r.budget_violation.is_none() && r.budget_note.contains("not checked"));
}

fn run(args: &[&str]) -> (i32, String) {
    let o = common::bin().args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// `cosim --hdl DIR` co-simulates the files on disk: unedited it passes; one hand-edited weight
/// hex word is reported with exit 1; a folder of another model is refused with exit 2.
#[test]
fn cosim_hdl_verifies_the_files_on_disk() {
    if !common::have_tool("verilator") {
        return;
    }
    let dir = common::Scratch::new("cosim-hdl");
    let (spec, _, _) = &structures()[0];
    let net = random_net(spec, 77);
    let model = dir.join("model.json");
    lifb_hdl::format::save(&net, &model).unwrap();
    let rtl = dir.join("rtl");
    let (code, out) = run(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--out",
        rtl.to_str().unwrap(),
        "--lanes",
        "3,all",
    ]);
    assert_eq!(code, 0, "{out}");
    // The typed manifest reads back what generate wrote, byte for byte.
    let mpath = rtl.join("manifest.json");
    let mbytes = std::fs::read(&mpath).unwrap();
    let m = lifb_hdl::codegen::Manifest::parse(&mbytes).unwrap();
    assert_eq!(m.to_json().unwrap(), mbytes);
    assert_eq!(m.engines.len(), 2);
    let cache = std::fs::canonicalize(".")
        .unwrap()
        .join(common::cosim_cache());
    let cosim_args = |extra: &[&str]| -> (i32, String) {
        let mut a = vec![
            "cosim",
            "--model",
            model.to_str().unwrap(),
            "--random",
            "12",
            "--steps",
            "5",
            "--hdl",
            rtl.to_str().unwrap(),
            "--cache",
            cache.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    let (code, out) = cosim_args(&[]);
    assert_eq!(code, 0, "unedited folder: {out}");
    assert!(out.contains("identical to a fresh generation"), "{out}");
    // Hand-edit one weight word: input 0's lanes of the first engine, every bit flipped.
    let hex = rtl.join("lifb_top_l0_w.hex");
    let text = std::fs::read_to_string(&hex).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut edited = false;
    for line in lines.iter_mut() {
        let digits = line.len();
        let v = u64::from_str_radix(line, 16).unwrap();
        let mask = (1u64 << (digits * 4).min(63)) - 1;
        if v & mask != mask {
            *line = format!("{:0digits$x}", !v & mask);
            edited = true;
            break;
        }
    }
    assert!(edited);
    std::fs::write(&hex, lines.join("\n") + "\n").unwrap();
    let (code, out) = cosim_args(&["--stall"]);
    assert_eq!(code, 1, "edited weight word: {out}");
    assert!(
        out.contains("lifb_top_l0_w.hex") && out.contains("MISMATCH"),
        "{out}"
    );
    assert!(out.contains("sample") && out.contains("step"), "{out}");
    // Another model's folder is bad input.
    let other = random_net(spec, 78);
    let other_model = dir.join("other.json");
    lifb_hdl::format::save(&other, &other_model).unwrap();
    let (code, out) = run(&[
        "cosim",
        "--model",
        other_model.to_str().unwrap(),
        "--random",
        "2",
        "--steps",
        "3",
        "--hdl",
        rtl.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not from this model"), "{out}");
    // A manifest of another version is refused by name, before any simulation.
    let text = String::from_utf8(mbytes).unwrap();
    let v2 = text.replacen("\"version\": 1", "\"version\": 2", 1);
    assert_ne!(v2, text);
    std::fs::write(&mpath, v2).unwrap();
    let (code, out) = cosim_args(&[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("version other than 1"), "{out}");
}

/// A network built so that its inputs put H exactly on every threshold theta + kD, above the
/// top and below the bottom saturation bound, and two classes tie. Layer 1 (B = 3, subtract
/// reset, IF): neuron j gets input j through weight 1, so H = x_j at step 0. Layer 2 copies
/// neuron 0 into classes 0 and 1 (a tie at every step).
fn corner_net(reset: Reset) -> (IntNetwork, Vec<Vec<u32>>) {
    let m = 8u32; // membrane bits: bounds -128 ..= 127
    let n = 8usize;
    let (theta, sp, b) = (20i32, 9i32, 3u32);
    let mut w = vec![0i32; n * n];
    for j in 0..n {
        w[j * n + j] = 1;
    }
    // neuron 6: pushed over the top bound (input 6 x 127); neuron 7: below the bottom bound.
    w[6 * n + 6] = 127;
    w[7 * n + 7] = -128;
    let mut w2 = vec![0i32; 3 * n];
    w2[0] = 1; // class 0 <- neuron 0
    w2[n] = 1; // class 1 <- neuron 0 (tie)
    w2[2 * n + 5] = 1;
    let layers = vec![
        Layer::Dense(Dense {
            in_features: n,
            out_features: n,
            weight: w,
            bias: None,
        }),
        Layer::Lifb(Lifb {
            leak: Leak::Fixed { d: 0 },
            threshold: vec![theta],
            spacing: vec![sp],
            max_burst: b,
            reset,
        }),
        Layer::Dense(Dense {
            in_features: n,
            out_features: 3,
            weight: w2,
            bias: None,
        }),
        Layer::Lifb(Lifb {
            leak: Leak::Fixed { d: 0 },
            threshold: vec![1],
            spacing: vec![1],
            max_burst: 2,
            reset: Reset::Subtract,
        }),
    ];
    let net: IntNetwork = Network {
        name: "corners".into(),
        input: InputSpec {
            shape: Shape::flat(n),
            encoding: Encoding::Direct,
        },
        layers,
        fixed: Some(FixedPoint {
            weight_bits: 8,
            membrane_bits: m,
            input_bits: 7,
            leak_frac_bits: 4,
            scales: vec![1.0; 4],
        }),
        meta: BTreeMap::new(),
    };
    net.validate().unwrap();
    // exactly on each threshold (20, 29, 38), one below, one between, the top bound
    let t = |k: i32| (theta + k * sp) as u32;
    let mut inputs = vec![
        vec![t(0), t(1), t(2), t(0) - 1, t(1) - 1, t(2) + 1, 2, 2],
        vec![t(1), t(2), t(0), 0, 127, 0, 1, 1],
        vec![t(2), t(0), t(1), t(2), t(1), t(0), 0, 1],
        vec![0; n],
    ];
    inputs.push(vec![127; n]);
    (net, inputs)
}

/// The directed corners under the verification stimulus, with a long T: every threshold hit
/// exactly, both saturation bounds, every burst size, ties; zero divergences.
#[test]
fn directed_corners_match_and_are_reached() {
    if !common::have_tool("verilator") {
        return;
    }
    for reset in [Reset::Subtract, Reset::Zero] {
        let (net, inputs) = corner_net(reset);
        for form in [Form::Native, Form::Decoupled] {
            let stimulus = Stimulus::verify(common::stim_seed() ^ 0xC0);
            let opts = CosimOptions {
                steps: 300,
                codegen: Options {
                    lanes: Lanes::List(vec![3, 0]),
                    units: Lanes::List(vec![2, 1]),
                    form,
                    ..Default::default()
                },
                cache_dir: common::cosim_cache(),
                stimulus: stimulus.clone(),
                fifo_depth: Some(2),
                cycle_margin: None,
            };
            let r = cosim(&net, &inputs, &opts).unwrap();
            let what = format!(
                "{reset:?} reset, {} form, {}",
                form.name(),
                stimulus.describe()
            );
            assert!(r.divergence.is_none(), "{what}: {}", r.divergence.unwrap());
            let c = &r.coverage;
            eprintln!("{what}:\n{}", c.summary());
            assert!(
                c.sat_high > 0 && c.sat_low > 0,
                "{what}: saturation not reached"
            );
            assert!(c.ties > 0, "{what}: no tie");
            assert!(
                c.threshold_hits[0].iter().all(|&h| h > 0),
                "{what}: {:?}",
                c.threshold_hits
            );
            assert!(c.every_burst_size(), "{what}: {:?}", c.bursts);
            assert!(c.fifo_full_total() > 0 && c.resets > 0, "{what}");
        }
    }
}

/// Replace the first line containing `marker` in every file named by `file` (a predicate) with
/// `with(line)`; panics when no line matched (a mutant that plants nothing proves nothing).
fn mutate(
    d: &mut lifb_hdl::codegen::Design,
    file: &dyn Fn(&str) -> bool,
    marker: &str,
    with: &dyn Fn(&str) -> String,
) {
    let mut hits = 0;
    for (n, b) in d.files.iter_mut() {
        if !file(n) {
            continue;
        }
        let text = String::from_utf8(b.clone()).unwrap();
        let mut done = false;
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                if !done && l.contains(marker) {
                    done = true;
                    with(l)
                } else {
                    l.to_string()
                }
            })
            .collect();
        if done {
            hits += 1;
            *b = (lines.join("\n") + "\n").into_bytes();
        }
    }
    assert!(hits > 0, "no line contains '{marker}'");
}

/// The fault classes that escaped the co-simulation before it compared membranes, the output
/// stream and `done`, drove real back-pressure and small FIFOs (issue table): each is caught
/// under the verification stimulus on the directed-corner network.
#[test]
fn escaped_fault_classes_are_caught() {
    if !common::have_tool("verilator") {
        return;
    }
    let (net, mut inputs) = corner_net(Reset::Subtract);
    inputs.extend(inputs.clone());
    let codegen = Options {
        lanes: Lanes::List(vec![3, 0]),
        units: Lanes::List(vec![2, 1]),
        form: Form::Native,
        ..Default::default()
    };
    let stimulus = Stimulus::verify(common::stim_seed() ^ 0xFA);
    let opts = CosimOptions {
        steps: 12,
        codegen: codegen.clone(),
        cache_dir: common::cosim_cache(),
        stimulus: stimulus.clone(),
        fifo_depth: Some(2),
        cycle_margin: None,
    };
    let clean_design =
        lifb_hdl::codegen::generate_with_fifo_depth(&net, &codegen, Some(2)).unwrap();
    let clean = cosim_design(&clean_design, &inputs, &opts).unwrap();
    assert!(clean.failure().is_none(), "{:?}", clean.failure());
    let core = |n: &str| n == "lifb_engine_core.v";
    let top = |n: &str| n == "lifb_top.v";
    let fifo = |n: &str| n == "lifb_fifo.v";
    let fire_unit = |n: &str| n == "lifb_fire_unit.v";
    let stmt = |l: &str, s: &str| format!("{}{s}", &l[..l.len() - l.trim_start().len()]);
    type Mutant<'a> = (
        &'a str,
        &'a dyn Fn(&str) -> bool,
        &'a str,
        Box<dyn Fn(&str) -> String + 'a>,
    );
    let mutants: Vec<Mutant> = vec![
        (
            "tap membrane forced to 0",
            &core,
            "out_v <= pend_v[",
            Box::new(|l| stmt(l, "out_v <= 0;")),
        ),
        (
            "positive saturation value off by one",
            &fire_unit,
            "h = h_hi ?",
            Box::new(|l| l.replace("h_hi ? V_MAX", "h_hi ? V_MAX - 2'sd1")),
        ),
        (
            "saturation dropped",
            &fire_unit,
            "h = h_hi ?",
            Box::new(|l| l.replace("h_hi ? V_MAX : h_lo ? V_MIN : ", "")),
        ),
        (
            "out_value forced to 0",
            &top,
            "out_value <= e",
            Box::new(|l| stmt(l, "out_value <= 0;")),
        ),
        (
            "out_index forced to 0",
            &top,
            "out_index <= e",
            Box::new(|l| stmt(l, "out_index <= 0;")),
        ),
        (
            "done before the last output beat is taken",
            &top,
            "if (!out_valid || out_ready) begin",
            Box::new(|l| stmt(l, "if (1'b1) begin")),
        ),
        (
            "argmax tie to the higher class",
            &top,
            "if (score[am_i_k] > score[am_best_k])",
            Box::new(|l| l.replace("] > score", "] >= score")),
        ),
        (
            "FIFO full tied to 0",
            &fifo,
            "full <= (wptr_n",
            Box::new(|l| stmt(l, "full <= 1'b0;")),
        ),
        (
            "FIFO empty ignores the wrap bit",
            &fifo,
            "empty <= (wptr_n",
            Box::new(|l| stmt(l, "empty <= (wptr_n[AW-1:0] == rptr_n[AW-1:0]);")),
        ),
    ];
    let mut missed = Vec::new();
    for (name, file, marker, with) in &mutants {
        let mut d = clean_design.clone();
        mutate(&mut d, *file, marker, with.as_ref());
        let r = cosim_design(&d, &inputs, &opts).unwrap();
        match r.failure() {
            Some(f) => eprintln!("{name}: caught: {f}"),
            None => missed.push(*name),
        }
    }
    assert!(
        missed.is_empty(),
        "faults not caught ({}): {missed:?}",
        stimulus.describe()
    );
}
