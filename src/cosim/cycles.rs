//! Cycle accounting: the two lower bounds (docs/hardware.md, "Cycle count"), the cycle model's
//! prediction of one sample's cycles, and the cycle budget (docs/hardware.md, "Cycle budget").

use super::{CosimOptions, CosimReport};
use crate::codegen::{EngineKind, EnginePlan, Plan};
use crate::golden::{encode, SampleTrace};
use crate::ir::IntNetwork;

/// Input events of engine `ei` at step `t` (non-zero encoded inputs, or the previous layer's
/// non-zero counts); 0 for the constant-input engine after step 0.
pub fn events_in(
    net: &IntNetwork,
    e: &EnginePlan,
    ei: usize,
    g: &SampleTrace,
    input: &[u32],
    s: usize,
    t: usize,
) -> u64 {
    if ei == 0 {
        if e.const_in && t > 0 {
            return 0;
        }
        let fx = net.fixed.as_ref().expect("integer network");
        let mut u = Vec::new();
        encode::encode_int(
            net.input.encoding,
            encode::at_step(net.input.encoding, input, net.input.shape.len(), t as u32),
            fx.input_max(),
            s as u64,
            t as u32,
            &mut u,
        );
        u.iter().filter(|&&v| v != 0).count() as u64
    } else {
        g.layers[ei - 1].counts[t]
            .iter()
            .filter(|&&c| c != 0)
            .count() as u64
    }
}

/// Per engine W_e (LB_max is their maximum) and LB_chain, for one sample.
pub(super) fn lower_bounds(
    net: &IntNetwork,
    plan: &Plan,
    g: &SampleTrace,
    input: &[u32],
    s: usize,
    steps: u32,
) -> (Vec<u64>, u64) {
    let mut lbs = Vec::with_capacity(plan.engines.len());
    let mut chain = 0u64; // sum of the step-0 work of the engines before this one
    let mut chain_lb = 0u64;
    for (ei, e) in plan.engines.iter().enumerate() {
        let mut lb = 0u64;
        let mut first = 0u64;
        for t in 0..steps as usize {
            let r = events_in(net, e, ei, g, input, s, t) * e.passes as u64;
            lb += r;
            if t == 0 {
                first = r;
            }
        }
        // the fire process reads each fire word once per step, one word per cycle
        lb = lb.max(steps as u64 * e.words as u64);
        chain_lb = chain_lb.max(chain + lb);
        chain += first;
        lbs.push(lb);
    }
    (lbs, chain_lb)
}

/// Fire-phase cycles of engine e at step t: F (the sum over fire words of max(1, events of the
/// word)) plus one when the last word has events.
fn fire_cycles(e: &EnginePlan, g: &SampleTrace, tap: Option<usize>, t: usize) -> u64 {
    let mut f = 0u64;
    let mut last_events = 0u64;
    for pass in 0..e.passes {
        for grp in 0..e.r {
            let mut ev = 0u64;
            for u in 0..e.q {
                let lane = grp * e.q + u;
                let n = pass * e.p + lane;
                if lane >= e.p || n >= e.n {
                    continue;
                }
                ev += match (e.kind, tap) {
                    (EngineKind::Current, _) | (_, None) => 1,
                    (_, Some(k)) => g.layers[k].counts[t][n * e.e..(n + 1) * e.e]
                        .iter()
                        .filter(|&&c| c != 0)
                        .count() as u64,
                };
            }
            f += ev.max(1);
            last_events = ev;
        }
    }
    f + u64::from(last_events > 0)
}

/// The cycle model's prediction of one sample's cycles (start to done), without stalls: a
/// max-plus schedule of every engine's accumulate and fire phases over the steps, with the
/// per-phase costs of docs/hardware.md ("Cycle count") and the pipeline latencies of the RTL
/// (FIFO 2 cycles, bank complete to firing 3 cycles, argmax `classes + 3`).
pub fn predict(
    net: &IntNetwork,
    plan: &Plan,
    g: &SampleTrace,
    input: &[u32],
    s: usize,
    steps: u32,
) -> u64 {
    let steps = steps as usize;
    // per engine, per step: when the fire phase started and ended (eos beat sent)
    let mut prev_fire: Vec<(u64, u64)> = Vec::new();
    let mut tap = 0usize;
    for (ei, e) in plan.engines.iter().enumerate() {
        let k = e.neuron_layer.map(|_| {
            tap += 1;
            tap - 1
        });
        let init_done = e.words as u64 + 1;
        let mut acc_end = vec![0u64; steps];
        let mut fire = vec![(0u64, 0u64); steps];
        for t in 0..steps {
            if e.const_in && t > 0 {
                acc_end[t] = acc_end[0];
            } else {
                let r = events_in(net, e, ei, g, input, s, t) * e.passes as u64;
                let mut start = init_done;
                if t > 0 {
                    start = start.max(acc_end[t - 1]);
                }
                if t > 1 {
                    start = start.max(fire[t - 2].1); // the bank is free again
                }
                let mut end = start + r + 1;
                if ei > 0 {
                    let (fs, fe) = prev_fire[t];
                    // events arrive through the FIFO while engine e-1 fires
                    end = end.max(fs + 2 + r + 1).max(fe + 3);
                }
                acc_end[t] = end;
            }
            let mut fs = acc_end[t] + 2;
            if t > 0 {
                fs = fs.max(fire[t - 1].1 + 1);
            }
            fire[t] = (fs, fs + fire_cycles(e, g, k, t) + 1);
        }
        prev_fire = fire;
    }
    prev_fire.last().map(|f| f.1).unwrap_or(0) + plan.classes as u64 + 3
}

/// Fill `report.predicted` and check the cycle budget (when `opts.cycle_margin` is set and the
/// stimulus never holds a handshake).
pub(super) fn apply_budget(
    report: &mut CosimReport,
    net: &IntNetwork,
    plan: &Plan,
    golden: &[SampleTrace],
    inputs: &[Vec<u32>],
    opts: &CosimOptions,
) {
    report.predicted = golden
        .iter()
        .enumerate()
        .take(report.cycles.len())
        .map(|(s, g)| predict(net, plan, g, &inputs[s], s, opts.steps))
        .collect();
    let Some(margin) = opts.cycle_margin else {
        report.budget_note = "not checked (disabled)".into();
        return;
    };
    if opts.stimulus.stalls() {
        report.budget_note = "not checked: the stimulus stalls the handshakes, so the cycle count includes waiting (run without stalls and gaps to check it)".into();
        return;
    }
    let mut worst = 0f64;
    for (s, (&c, &p)) in report.cycles.iter().zip(&report.predicted).enumerate() {
        let limit = (p as f64 * (1.0 + margin)).ceil() as u64;
        let ratio = c as f64 / p.max(1) as f64;
        worst = worst.max(ratio);
        if c > limit && report.budget_violation.is_none() {
            report.budget_violation = Some(format!(
                "sample {s}: {c} cycles exceed the cycle budget of {limit} (the cycle model predicts {p}; margin {:.0} %): a performance fault",
                margin * 100.0
            ));
        }
    }
    report.budget_note = format!(
        "measured / predicted at most {worst:.3} (budget: 1 + {:.2}){}",
        margin,
        if report.budget_violation.is_some() {
            ": EXCEEDED"
        } else {
            ""
        }
    );
}
