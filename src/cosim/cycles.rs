//! Cycle accounting, in one place for dense and conv engines: the prose formula the manifest
//! carries (`CYCLE_FORMULA`), the per-event cost (`words_in`, from `EnginePlan::event_words`),
//! the two lower bounds (docs/hardware.md, "Cycle count"), the cycle model's prediction of one
//! sample's cycles, the cycle budget (docs/hardware.md, "Cycle budget") and the harness's
//! give-up limit (`cycle_limit`); and the synaptic operations of a step (`synapses_in`), from the
//! same input events. Per-sample functions take one [`Sample`].

use super::{CosimOptions, CosimReport, Stimulus};
use crate::codegen::{EngineKind, EnginePlan, Plan};
use crate::golden::{encode, SampleTrace};
use crate::ir::{IntNetwork, Layer};

/// Pipeline stages of the event routing (`hdl/lifb_event_route.v`): the cycles it delays every
/// event.
pub const ROUTE_STAGES: u64 = 3;

/// The currents X = bias + synapses of engine `e` for the arriving counts `u` (indexed as the
/// engine's source: the previous layer's output or the encoded input), computed directly from
/// the IR (pooling summed first): the reference the coverage and a current readout use.
pub fn engine_currents(net: &IntNetwork, e: &EnginePlan, u: &[u32]) -> Vec<i64> {
    // the synaptic layer's input vector (pooled when the engine routes through a pool)
    let x_in: Vec<i64> = match &e.route {
        Some(r) => {
            let mut v = vec![0i64; r.dst.len()];
            for (i, &c) in u.iter().enumerate() {
                if c != 0 {
                    if let Some(j) = r.flat(i) {
                        v[j] += c as i64;
                    }
                }
            }
            v
        }
        None => u.iter().map(|&c| c as i64).collect(),
    };
    match &net.layers[e.syn_layer] {
        Layer::Dense(d) => {
            let mut x: Vec<i64> = (0..d.out_features)
                .map(|n| d.bias.as_ref().map_or(0, |b| b[n] as i64))
                .collect();
            for (i, &c) in x_in.iter().enumerate() {
                if c == 0 || i >= d.in_features {
                    continue;
                }
                for (n, xn) in x.iter_mut().enumerate() {
                    *xn += c * d.weight[n * d.in_features + i] as i64;
                }
            }
            x
        }
        Layer::Conv2d(c) => {
            let cv = e.conv.as_ref().expect("a conv engine");
            let (h, w, hw) = (cv.y.len, cv.x.len, cv.positions());
            let mut x: Vec<i64> = (0..e.neurons)
                .map(|n| c.bias.as_ref().map_or(0, |b| b[n / hw] as i64))
                .collect();
            for (i, &cnt) in x_in.iter().enumerate() {
                if cnt == 0 {
                    continue;
                }
                let (ci, y, xx) = (i / (h * w), (i / w) % h, i % w);
                for (oy, ox, ky, kx) in cv.walk(y, xx) {
                    for o in 0..c.out_channels {
                        let wt = c.weight
                            [((o * c.in_channels + ci) * c.kernel[0] + ky) * c.kernel[1] + kx];
                        x[o * hw + oy * cv.x.out + ox] += cnt * wt as i64;
                    }
                }
            }
            x
        }
        _ => Vec::new(),
    }
}

/// One sample as the cycle accounting sees it: the network, the golden model's trace of the
/// sample, its (unencoded) input and its index (the seed of the input encoding).
#[derive(Clone, Copy)]
pub struct Sample<'a> {
    pub net: &'a IntNetwork,
    pub trace: &'a SampleTrace,
    pub input: &'a [u32],
    pub index: usize,
}

impl Sample<'_> {
    /// The non-zero input events of engine `ei` at step `t` (source indices); none for the
    /// constant-input engine after step 0.
    fn event_indices(&self, e: &EnginePlan, ei: usize, t: usize) -> Vec<usize> {
        if ei == 0 {
            if e.const_in && t > 0 {
                return Vec::new();
            }
            let net = self.net;
            let fx = net.fixed.as_ref().expect("integer network");
            let mut u = Vec::new();
            encode::encode_int(
                net.input.encoding,
                encode::at_step(
                    net.input.encoding,
                    self.input,
                    net.input.shape.len(),
                    t as u32,
                ),
                fx.input_max(),
                self.index as u64,
                t as u32,
                &mut u,
            );
            nonzero(&u)
        } else {
            nonzero(&self.trace.layers[ei - 1].counts[t])
        }
    }
}

fn nonzero(v: &[u32]) -> Vec<usize> {
    v.iter()
        .enumerate()
        .filter(|(_, &c)| c != 0)
        .map(|(i, _)| i)
        .collect()
}

/// Accumulator words engine `ei` reads in step `t` (the lower bounds' R_e(t)), and the cycles
/// its accumulator process takes for them (an event with no word, a conv event whose taps all
/// fall outside the map, still takes one cycle; an event the pool drops takes none).
pub fn words_in(x: &Sample, e: &EnginePlan, ei: usize, t: usize) -> (u64, u64) {
    let (mut words, mut cycles) = (0u64, 0u64);
    for i in x.event_indices(e, ei, t) {
        if e.route.as_ref().is_some_and(|r| r.route(i).is_none()) {
            continue;
        }
        let w = e.event_words(i);
        words += w;
        cycles += w.max(1);
    }
    (words, cycles)
}

/// Synaptic operations of engine `ei` at step `t`: its input events' fan-outs summed
/// (`EnginePlan::event_fan_out`; an event of any count is one operation per synapse).
pub fn synapses_in(x: &Sample, e: &EnginePlan, ei: usize, t: usize) -> u64 {
    x.event_indices(e, ei, t)
        .into_iter()
        .map(|i| e.event_fan_out(i))
        .sum()
}

/// Synaptic operations of one sample: [`synapses_in`] over every engine and step.
pub fn synaptic_ops(x: &Sample, plan: &Plan, steps: u32) -> u64 {
    let mut ops = 0;
    for (ei, e) in plan.engines.iter().enumerate() {
        for t in 0..steps as usize {
            ops += synapses_in(x, e, ei, t);
        }
    }
    ops
}

/// Per engine W_e (LB_max is their maximum) and LB_chain, for one sample.
pub(super) fn lower_bounds(x: &Sample, plan: &Plan, steps: u32) -> (Vec<u64>, u64) {
    let mut lbs = Vec::with_capacity(plan.engines.len());
    let mut chain = 0u64; // sum of the step-0 work of the engines before this one
    let mut chain_lb = 0u64;
    for (ei, e) in plan.engines.iter().enumerate() {
        let mut lb = 0u64;
        let mut first = 0u64;
        for t in 0..steps as usize {
            let r = words_in(x, e, ei, t).0;
            lb += r;
            if t == 0 {
                first = r;
            }
        }
        // the fire process reads each fire word once per step, one word per cycle
        lb = lb.max(steps as u64 * e.parallelism.fire_words as u64);
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
    for pass in 0..e.parallelism.passes {
        for grp in 0..e.parallelism.unit_groups {
            let mut ev = 0u64;
            for u in 0..e.parallelism.fire_units {
                let lane = grp * e.parallelism.fire_units + u;
                let Some(n) = e.neuron_at(pass, lane) else {
                    continue;
                };
                ev += match (e.kind, tap) {
                    (EngineKind::Current, _) | (_, None) => 1,
                    (_, Some(k)) => (0..e.neuron.events)
                        .filter(|&j| g.layers[k].counts[t][super::check::event_of(e, n, j)] != 0)
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
pub fn predict(x: &Sample, plan: &Plan, steps: u32) -> u64 {
    let steps = steps as usize;
    // per engine, per step: when the fire phase started and ended (eos beat sent)
    let mut prev_fire: Vec<(u64, u64)> = Vec::new();
    let mut tap = 0usize;
    for (ei, e) in plan.engines.iter().enumerate() {
        let k = e.neuron_layer.map(|_| {
            tap += 1;
            tap - 1
        });
        let init_done = e.parallelism.fire_words as u64 + 1;
        let mut acc_end = vec![0u64; steps];
        let mut fire = vec![(0u64, 0u64); steps];
        for t in 0..steps {
            if e.const_in && t > 0 {
                acc_end[t] = acc_end[0];
            } else {
                let r = words_in(x, e, ei, t).1;
                // the event routing's pipeline delays every event by its stages
                let lat = if e.route.is_some() { ROUTE_STAGES } else { 0 };
                let mut start = init_done + lat;
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
                    end = end.max(fs + 2 + lat + r + 1).max(fe + 3 + lat);
                }
                acc_end[t] = end;
            }
            let mut fs = acc_end[t] + 2;
            if t > 0 {
                fs = fs.max(fire[t - 1].1 + 1);
            }
            fire[t] = (fs, fs + fire_cycles(e, x.trace, k, t) + 1);
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
        .map(|(s, g)| {
            let x = Sample {
                net,
                trace: g,
                input: &inputs[s],
                index: s,
            };
            predict(&x, plan, opts.steps)
        })
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

/// Worst-case cycles of one sample (every input active, every neuron firing), doubled: the
/// harness gives up after this many cycles, so a hung design is a failure, not a hang. With
/// stalls, divided by the share of cycles the harness does not hold a handshake.
pub(super) fn cycle_limit(p: &Plan, steps: u32, stim: &Stimulus) -> u64 {
    let mut c = 1000 + p.input_len as u64 * steps as u64;
    for e in &p.engines {
        c += steps as u64
            * (e.route.as_ref().map_or(e.inputs, |r| r.src.len()) as u64
                * e.max_event_words().max(1)
                + e.parallelism.fire_words as u64
                + (e.neurons * e.neuron.events) as u64
                + 16);
    }
    // a hold of mean length (b + 1) / 2 starts in a free cycle with probability p: one free
    // cycle in 1 + p (b + 1) / 2 on average; twice that for safety, plus the held last beat
    let slow = |p: f64, b: u32| 2.0 * (1.0 + p * (b as f64 + 1.0) / 2.0);
    let factor = if stim.stalls() {
        slow(stim.stall_prob, stim.stall_burst) * slow(stim.gap_prob, stim.gap_burst)
    } else {
        1.0
    };
    (4.0 * c as f64 * factor) as u64 + 4 * stim.stall_burst as u64
}

pub const CYCLE_FORMULA: &str = "per engine e and step t (docs/hardware.md): accumulate_e(t) = sum over the E input events of max(1, words(event)) + 1, words = ceil(N/P) for a dense engine, valid taps ny*nx times channel groups ceil(Cout/P) for a conv engine, 0 for an event a pool drops (one weight word per cycle; 0 for the constant-input first engine after step 0; event routing adds one cycle of latency); fire_e(t) = F + 2 (pipeline drain and eos beat; +1 when the last word has events; +1 after waiting for the bank), words <= F <= words + S (words = passes*ceil(P/Q) for Q fire units; S output events, one per cycle); accumulate of step t+1 overlaps fire of step t (two accumulator banks), so a step costs about max(accumulate_e(t+1), fire_e(t)); engines overlap through FIFOs; the argmax adds classes + 2. Lower bounds: LB_max = max_e W_e, LB_chain = max_e (sum_{e'<e} R_e'(0) + W_e), R_e(t) = sum of words over the events of engine e in step t, W_e = max(sum_t R_e(t), T*words_e).";
