//! Parse the harness output and compare everything the RTL exposes with the golden model:
//! every trace-tap event (spike count and membrane), the end-of-step beats of every tap, the host
//! output stream (indices, values, one end-of-step beat per step), the end of the sample (`done`
//! once, only after the last output beat was taken, every input beat taken) and the class.
//! Also counts the corners the run reached (`Coverage`).

use super::{CosimReport, EngineCycles};
use crate::codegen::{self, EngineKind, Plan};
use crate::error::{Error, Result};
use crate::golden::{encode, SampleTrace};
use crate::ir::{burst_threshold_int, param_row, IntNetwork, Layer, Leak, Shape};
use std::fmt::Write as _;

/// What a co-simulation compared and which corners it reached (summed over samples).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    /// Samples whose results were compared.
    pub samples: u64,
    /// Spike events compared (tap events; every neuron's count at every step is compared, the
    /// silent ones as "no event").
    pub events_compared: u64,
    /// Membranes compared: one per tap event (the tap carries the membrane after the update
    /// only with an event; a silent neuron's membrane is not visible at the ports).
    pub membranes_compared: u64,
    /// Host output beats compared (events and end-of-step beats).
    pub output_beats_compared: u64,
    /// Cycles the harness held out_ready low.
    pub stall_cycles: u64,
    /// Cycles out_valid was high while out_ready was low (a stall that blocked a beat).
    pub blocked_cycles: u64,
    /// Cycles the harness held in_valid low although beats remained.
    pub gap_cycles: u64,
    /// Cycles in_valid was high and in_ready low (the design back-pressured the host).
    pub input_wait_cycles: u64,
    /// Per FIFO (FIFO k feeds engine k; FIFO 0 takes the host's input): cycles it was full.
    pub fifo_full_cycles: Vec<u64>,
    /// Resets pulsed between samples.
    pub resets: u64,
    /// Neuron updates whose H saturated at the top bound (leak(V) + X > 2^(m-1) - 1) ...
    pub sat_high: u64,
    /// ... and at the bottom bound (leak(V) + X < -2^(m-1)).
    pub sat_low: u64,
    /// Per neuron layer (in order), per threshold k (theta + k D, or the k-th sub-unit's
    /// threshold): neuron updates with H exactly on it.
    pub threshold_hits: Vec<Vec<u64>>,
    /// Per neuron layer, per spike count c = 0..=B: neuron updates that emitted c.
    pub bursts: Vec<Vec<u64>>,
    /// Network layer index of each neuron layer above.
    pub layers: Vec<usize>,
    /// Samples whose largest score is shared by two or more classes.
    pub ties: u64,
}

impl Coverage {
    /// Add another run's counters (same network structure).
    pub fn merge(&mut self, o: &Coverage) {
        self.samples += o.samples;
        self.events_compared += o.events_compared;
        self.membranes_compared += o.membranes_compared;
        self.output_beats_compared += o.output_beats_compared;
        self.stall_cycles += o.stall_cycles;
        self.blocked_cycles += o.blocked_cycles;
        self.gap_cycles += o.gap_cycles;
        self.input_wait_cycles += o.input_wait_cycles;
        self.resets += o.resets;
        self.sat_high += o.sat_high;
        self.sat_low += o.sat_low;
        self.ties += o.ties;
        add_vec(&mut self.fifo_full_cycles, &o.fifo_full_cycles);
        if self.layers.len() < o.layers.len() {
            self.layers.clone_from(&o.layers);
        }
        for (a, b) in [
            (&mut self.threshold_hits, &o.threshold_hits),
            (&mut self.bursts, &o.bursts),
        ] {
            if a.len() < b.len() {
                a.resize(b.len(), Vec::new());
            }
            for (x, y) in a.iter_mut().zip(b) {
                add_vec(x, y);
            }
        }
    }

    /// Total full cycles over all FIFOs.
    pub fn fifo_full_total(&self) -> u64 {
        self.fifo_full_cycles.iter().sum()
    }

    /// Whether every burst size 1..=B of every layer was emitted at least once.
    pub fn every_burst_size(&self) -> bool {
        self.bursts.iter().all(|h| h.iter().skip(1).all(|&c| c > 0))
    }

    /// Whether H landed exactly on every threshold of every layer at least once.
    pub fn every_threshold_hit(&self) -> bool {
        self.threshold_hits.iter().all(|h| h.iter().all(|&c| c > 0))
    }

    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "  compared: {} samples, {} spike events with their membranes, {} output beats",
            self.samples, self.events_compared, self.output_beats_compared
        );
        let _ = writeln!(
            s,
            "  coverage: out_ready stalled {} cycles ({} blocking a beat), in_valid gaps {} cycles, input back-pressure {} cycles, FIFO-full cycles {:?}, resets between samples {}",
            self.stall_cycles,
            self.blocked_cycles,
            self.gap_cycles,
            self.input_wait_cycles,
            self.fifo_full_cycles,
            self.resets
        );
        let _ = writeln!(
            s,
            "  coverage: saturation at the top bound {}, at the bottom bound {}, argmax ties {}",
            self.sat_high, self.sat_low, self.ties
        );
        for (i, l) in self.layers.iter().enumerate() {
            let _ = writeln!(
                s,
                "  coverage: layer {l}: neuron updates per spike count 0..: {:?}; H exactly on threshold k: {:?}",
                self.bursts.get(i).cloned().unwrap_or_default(),
                self.threshold_hits.get(i).cloned().unwrap_or_default()
            );
        }
        s
    }
}

fn add_vec(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

#[derive(Default)]
struct Done {
    cycles: u64,
    class: usize,
    out_eos: u64,
    pending: bool,
    again: bool,
    late_beat: bool,
    beats_taken: u64,
}

#[derive(Default)]
struct HwSample {
    /// per tap: (step, index, count, v)
    events: Vec<Vec<(u32, usize, u32, u64)>>,
    busy: Vec<Vec<u64>>,
    tap_eos: Vec<Option<u64>>,
    outputs: Vec<(u32, usize, u64)>,
    done: Option<Done>,
    timeout: Option<u64>,
    /// (cycle, what): a recorded signal was unknown (X or Z; Icarus only, whose registers start
    /// at X): the simulator stopped there.
    unknown: Option<(u64, String)>,
    /// stall, blocked, gap, in_wait, fifo full cycles
    cov: Option<(u64, u64, u64, u64, Vec<u64>)>,
}

fn parse(result: &str, taps: usize) -> Result<Vec<HwSample>> {
    let bad = |l: &str| Error::tool(format!("unexpected simulator output line '{l}'"));
    let mut samples: Vec<HwSample> = Vec::new();
    for line in result.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> Result<u64> {
            f.get(i)
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| bad(line))
        };
        let hex = |i: usize| -> Result<u64> {
            f.get(i)
                .and_then(|x| u64::from_str_radix(x, 16).ok())
                .ok_or_else(|| bad(line))
        };
        match f.first().copied() {
            Some("S") => samples.push(HwSample {
                events: vec![Vec::new(); taps],
                busy: vec![Vec::new(); taps],
                tap_eos: vec![None; taps],
                ..Default::default()
            }),
            Some("T") => {}
            Some(tag) => {
                let s = samples.last_mut().ok_or_else(|| bad(line))?;
                match tag {
                    "E" => {
                        let k = num(1)? as usize;
                        let ev = (num(2)? as u32, num(3)? as usize, num(4)? as u32, hex(5)?);
                        s.events.get_mut(k).ok_or_else(|| bad(line))?.push(ev);
                    }
                    "B" => {
                        let (k, t, b) = (num(1)? as usize, num(2)? as usize, num(3)?);
                        if t > 1 << 20 {
                            return Err(bad(line));
                        }
                        let v = s.busy.get_mut(k).ok_or_else(|| bad(line))?;
                        if v.len() <= t {
                            v.resize(t + 1, 0);
                        }
                        v[t] = b;
                    }
                    "Q" => {
                        let (k, n) = (num(1)? as usize, num(2)?);
                        *s.tap_eos.get_mut(k).ok_or_else(|| bad(line))? = Some(n);
                    }
                    "O" => s.outputs.push((num(1)? as u32, num(2)? as usize, hex(3)?)),
                    "D" => {
                        s.done = Some(Done {
                            cycles: num(1)?,
                            class: num(2)? as usize,
                            out_eos: num(3)?,
                            pending: num(4)? != 0,
                            again: num(5)? != 0,
                            late_beat: num(6)? != 0,
                            beats_taken: num(7)?,
                        })
                    }
                    "C" => {
                        let full = (5..f.len()).map(num).collect::<Result<Vec<u64>>>()?;
                        s.cov = Some((num(1)?, num(2)?, num(3)?, num(4)?, full));
                    }
                    "X" => s.timeout = Some(num(1)?),
                    "U" => s.unknown = Some((num(1)?, f[2..].join(" "))),
                    _ => return Err(bad(line)),
                }
            }
            None => {}
        }
    }
    Ok(samples)
}

pub(super) fn sign_extend(v: u64, bits: usize) -> i64 {
    if bits >= 64 {
        v as i64
    } else {
        let sh = 64 - bits;
        ((v << sh) as i64) >> sh
    }
}

/// Independent recomputation of what the golden trace does not record: per engine and step, the
/// unsaturated H of every neuron (from the golden membranes of the step before) and the current
/// X (the values of a current readout's output stream).
struct Reference {
    /// [engine][step][neuron] = X
    currents: Vec<Vec<Vec<i64>>>,
}

fn encoded(net: &IntNetwork, input: &[u32], sample: u64, t: u32) -> Vec<u32> {
    let fx = net.fixed.as_ref().expect("integer network");
    let mut u = Vec::new();
    let enc = net.input.encoding;
    let x = encode::at_step(enc, input, net.input.shape.len(), t);
    encode::encode_int(enc, x, fx.input_max(), sample, t, &mut u);
    u
}

fn reference(
    net: &IntNetwork,
    plan: &Plan,
    g: &SampleTrace,
    input: &[u32],
    sample: u64,
    steps: u32,
) -> Reference {
    let mut currents = Vec::with_capacity(plan.engines.len());
    for (ei, e) in plan.engines.iter().enumerate() {
        let mut per_step = Vec::with_capacity(steps as usize);
        for t in 0..steps {
            let u: Vec<u32> = if ei == 0 {
                let tt = if e.const_in { 0 } else { t };
                encoded(net, input, sample, tt)
            } else {
                g.layers[ei - 1].counts[t as usize].clone()
            };
            per_step.push(super::cycles::engine_currents(net, e, &u));
        }
        currents.push(per_step);
    }
    Reference { currents }
}

/// The thresholds a neuron compares H with (k = 0..): theta + k D (LIFB) or the sub-unit
/// thresholds (LifGroup), and the leak d.
/// Output event index of sub-unit k of neuron n (docs/semantics.md: (channel * g + k) * plane
/// + position).
pub(super) fn event_of(e: &crate::codegen::EnginePlan, n: usize, k: usize) -> usize {
    let hw = e.plane();
    ((n / hw) * e.neuron.events + k) * hw + n % hw
}

fn thresholds(layer: &Layer<i32>, n: usize, shape: Shape) -> (Vec<i64>, u32) {
    match layer {
        Layer::Lifb(l) => {
            let th = l.threshold[param_row(l.threshold.len(), 1, shape, n)] as i64;
            let sp = l.spacing[param_row(l.spacing.len(), 1, shape, n)] as i64;
            let d = match l.leak {
                Leak::Fixed { d } => d,
                Leak::Lambda { .. } => 0,
            };
            (
                (0..l.max_burst)
                    .map(|k| burst_threshold_int(th, sp, k))
                    .collect(),
                d,
            )
        }
        Layer::LifGroup(l) => {
            let g = l.group as usize;
            let row = param_row(l.thresholds.len(), g, shape, n);
            let d = match l.leak {
                Leak::Fixed { d } => d,
                Leak::Lambda { .. } => 0,
            };
            (
                l.thresholds[row * g..(row + 1) * g]
                    .iter()
                    .map(|&x| x as i64)
                    .collect(),
                d,
            )
        }
        _ => (Vec::new(), 0),
    }
}

pub(super) fn compare(
    net: &IntNetwork,
    plan: &Plan,
    golden: &[SampleTrace],
    inputs: &[Vec<u32>],
    result: &str,
    steps: u32,
) -> Result<CosimReport> {
    let tapped: Vec<&codegen::EnginePlan> = plan
        .engines
        .iter()
        .filter(|e| e.neuron_layer.is_some())
        .collect();
    let hw = parse(result, tapped.len())?;
    let mut report = CosimReport {
        samples: inputs.len(),
        steps,
        engines: plan
            .engines
            .iter()
            .map(|e| EngineCycles {
                module: e.module.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let fx = net.fixed.as_ref().expect("integer");
    let cov = &mut report.coverage;
    cov.fifo_full_cycles = vec![0; plan.engines.len()];
    for e in &tapped {
        let layer = e.neuron_layer.expect("tapped");
        cov.layers.push(layer);
        let b = net.layers[layer].max_count().unwrap_or(1) as usize;
        let k = thresholds(&net.layers[layer], 0, e.shape_out()).0.len();
        cov.bursts.push(vec![0; b + 1]);
        cov.threshold_hits.push(vec![0; k]);
    }
    for (s, g) in golden.iter().enumerate() {
        let Some(h) = hw.get(s) else {
            report.divergence.get_or_insert_with(|| {
                format!("sample {s}: the simulator stopped before this sample (an earlier sample timed out)")
            });
            break;
        };
        let x = super::cycles::Sample {
            net,
            trace: g,
            input: &inputs[s],
            index: s,
        };
        let (lbs, chain_lb) = super::cycles::lower_bounds(&x, plan, steps);
        for (ei, &lb) in lbs.iter().enumerate() {
            report.engines[ei].lower_bound += lb;
            report.engines[ei].steps += steps as u64;
        }
        let mut tap = 0;
        for (ei, e) in plan.engines.iter().enumerate() {
            if e.neuron_layer.is_some() {
                report.engines[ei].busy += h.busy[tap].iter().take(steps as usize).sum::<u64>();
                tap += 1;
            }
        }
        report
            .lower_bounds
            .push(lbs.iter().copied().max().unwrap_or(0));
        report.chain_bounds.push(chain_lb);
        report
            .synaptic_ops
            .push(super::cycles::synaptic_ops(&x, plan, steps));
        if let Some(d) = &h.done {
            report.cycles.push(d.cycles);
        }
        let r = reference(net, plan, g, &inputs[s], s as u64, steps);
        coverage(&mut report.coverage, net, plan, g, &r, h, steps, fx);
        if report.divergence.is_none() {
            report.divergence = diverge(
                s,
                g,
                h,
                &r,
                &tapped,
                plan,
                inputs_beats(net, &inputs[s], s, steps),
                steps,
            );
        }
    }
    Ok(report)
}

/// The number of input beats of a sample (non-zero values plus one eos beat per group).
fn inputs_beats(net: &IntNetwork, input: &[u32], s: usize, steps: u32) -> u64 {
    let groups = if encode::is_constant(net.input.encoding) {
        1
    } else {
        steps
    };
    (0..groups)
        .map(|t| {
            encoded(net, input, s as u64, t)
                .iter()
                .filter(|&&v| v != 0)
                .count() as u64
                + 1
        })
        .sum()
}

#[allow(clippy::too_many_arguments)]
fn coverage(
    cov: &mut Coverage,
    net: &IntNetwork,
    plan: &Plan,
    g: &SampleTrace,
    r: &Reference,
    h: &HwSample,
    steps: u32,
    fx: &crate::ir::FixedPoint,
) {
    cov.samples += 1;
    let events: u64 = h.events.iter().map(|e| e.len() as u64).sum();
    cov.events_compared += events;
    cov.membranes_compared += events;
    cov.output_beats_compared += h.outputs.len() as u64 + h.done.as_ref().map_or(0, |d| d.out_eos);
    if let Some((stall, blocked, gap, wait, full)) = &h.cov {
        cov.stall_cycles += stall;
        cov.blocked_cycles += blocked;
        cov.gap_cycles += gap;
        cov.input_wait_cycles += wait;
        add_vec(&mut cov.fifo_full_cycles, full);
    }
    let (vmin, vmax) = (fx.v_min(), fx.v_max());
    let f = fx.leak_frac_bits;
    let mut tap = 0;
    #[allow(clippy::needless_range_loop)] // n indexes the membranes, currents and counts
    for (ei, e) in plan.engines.iter().enumerate() {
        let Some(layer) = e.neuron_layer else {
            continue;
        };
        let gl = &g.layers[tap];
        let mems = gl.membranes.as_ref().expect("membranes recorded");
        for t in 0..steps as usize {
            for n in 0..e.neurons {
                let (ths, d) = thresholds(&net.layers[layer], n, e.shape_out());
                let v_prev = if t == 0 { 0 } else { mems[t - 1][n] as i64 };
                let raw = v_prev - ((v_prev * d as i64) >> f) + r.currents[ei][t][n];
                if raw > vmax {
                    cov.sat_high += 1;
                } else if raw < vmin {
                    cov.sat_low += 1;
                }
                let hh = raw.clamp(vmin, vmax);
                for (k, &th) in ths.iter().enumerate() {
                    if hh == th {
                        cov.threshold_hits[tap][k] += 1;
                    }
                }
                if e.neuron.events == 1 {
                    let c = gl.counts[t][n] as usize;
                    if let Some(b) = cov.bursts[tap].get_mut(c) {
                        *b += 1;
                    }
                } else {
                    // LifGroup: count a neuron's fired sub-units (its thermometer code)
                    let c: u32 = (0..e.neuron.events)
                        .map(|k| gl.counts[t][event_of(e, n, k)])
                        .sum();
                    if cov.bursts[tap].len() < e.neuron.events + 1 {
                        cov.bursts[tap].resize(e.neuron.events + 1, 0);
                    }
                    cov.bursts[tap][c as usize] += 1;
                }
            }
        }
        tap += 1;
    }
    let best = g.readout.iter().cloned().fold(f64::MIN, f64::max);
    if g.readout.iter().filter(|&&x| x == best).count() > 1 {
        cov.ties += 1;
    }
}

/// The first difference between golden and hardware for one sample.
#[allow(clippy::too_many_arguments)]
fn diverge(
    s: usize,
    g: &SampleTrace,
    h: &HwSample,
    r: &Reference,
    tapped: &[&codegen::EnginePlan],
    plan: &Plan,
    beats: u64,
    steps: u32,
) -> Option<String> {
    if let Some((c, what)) = &h.unknown {
        return Some(format!(
            "sample {s} cycle {c}: the hardware drove an unknown value (X or Z) on {what} (a register read before any reset or write, or an undriven signal); the simulation of this step stopped there"
        ));
    }
    // hardware counts and membranes per tap, step, neuron
    let mut hc: Vec<Vec<Vec<u32>>> = Vec::new();
    let mut hv: Vec<Vec<Vec<Option<i64>>>> = Vec::new();
    for (k, e) in tapped.iter().enumerate() {
        let width = e.neurons * e.neuron.events;
        let layer = e.neuron_layer.unwrap_or(0);
        let mut c = vec![vec![0u32; width]; steps as usize];
        let mut v = vec![vec![None; width]; steps as usize];
        for &(t, i, cnt, vv) in &h.events[k] {
            if t >= steps || i >= width {
                return Some(format!(
                    "sample {s} step {t} layer {layer} ({}) neuron {i}: the hardware emitted a spike count {cnt} outside the {steps} steps x {width} neurons of the layer (step counter or index fault)",
                    g.layers[k].kind
                ));
            }
            if cnt == 0 {
                return Some(format!(
                    "sample {s} step {t} layer {layer} ({}) neuron {i}: the hardware emitted an event with spike count 0 (a silent neuron sends no event)",
                    g.layers[k].kind
                ));
            }
            if v[t as usize][i].is_some() {
                return Some(format!(
                    "sample {s} step {t} layer {layer} ({}) neuron {i}: the hardware emitted two events for this neuron in one step (expected count {})",
                    g.layers[k].kind, g.layers[k].counts[t as usize][i]
                ));
            }
            c[t as usize][i] = cnt;
            v[t as usize][i] = Some(sign_extend(vv, e.widths.state));
        }
        hc.push(c);
        hv.push(v);
    }
    let last = plan.engines.last().expect("engines");
    // output stream per step: (index, value) sorted
    let mut outs: Vec<Vec<(usize, i64)>> = vec![Vec::new(); steps as usize];
    for &(t, i, v) in &h.outputs {
        let val = if last.kind == EngineKind::Current {
            sign_extend(v, last.widths.out_count)
        } else {
            v as i64
        };
        if t >= steps {
            return Some(format!(
                "sample {s}: output beat (index {i}, value {val}) after the {steps} end-of-step beats of the output stream"
            ));
        }
        outs[t as usize].push((i, val));
    }
    for t in 0..steps as usize {
        for (k, e) in tapped.iter().enumerate() {
            let gl = &g.layers[k];
            let layer = e.neuron_layer.unwrap_or(0);
            let gm = gl.membranes.as_ref().expect("membranes recorded");
            for n in 0..gl.counts[t].len() {
                let exp_v = gm[t][e.neuron_of_event(n)] as i64;
                if gl.counts[t][n] != hc[k][t][n] {
                    let hm = hv[k][t][n]
                        .map(|v| format!(", hardware membrane {v}"))
                        .unwrap_or_else(|| ", hardware membrane not observed (no event)".into());
                    return Some(format!(
                        "sample {s} step {t} layer {layer} ({}) neuron {n}: expected count {}, got {}, expected membrane after the step {exp_v}{hm}",
                        gl.kind, gl.counts[t][n], hc[k][t][n]
                    ));
                }
                if let Some(v) = hv[k][t][n] {
                    if v != exp_v {
                        return Some(format!(
                            "sample {s} step {t} layer {layer} ({}) neuron {n}: count {} matches, but the membrane after the step is {v}, expected {exp_v}",
                            gl.kind, gl.counts[t][n]
                        ));
                    }
                }
            }
        }
        // the host output stream of this step
        let mut exp: Vec<(usize, i64)> = if last.kind == EngineKind::Current {
            let ei = plan.engines.len() - 1;
            r.currents[ei][t]
                .iter()
                .enumerate()
                .map(|(n, &x)| (n, x))
                .collect()
        } else {
            let gl = g.layers.last().expect("a neuron layer");
            gl.counts[t]
                .iter()
                .enumerate()
                .filter(|(_, &c)| c != 0)
                .map(|(n, &c)| (n, c as i64))
                .collect()
        };
        exp.sort_unstable();
        let mut got = outs[t].clone();
        got.sort_unstable();
        if exp != got {
            let what = if last.kind == EngineKind::Current {
                "current"
            } else {
                "spike count"
            };
            let first = (0..exp.len().max(got.len()))
                .find(|&j| exp.get(j) != got.get(j))
                .unwrap_or(0);
            let show = |x: Option<&(usize, i64)>| {
                x.map(|(i, v)| format!("(index {i}, {what} {v})"))
                    .unwrap_or_else(|| "no beat".into())
            };
            return Some(format!(
                "sample {s} step {t}: host output stream: {} beats expected, {} received; first difference: expected {}, got {}",
                exp.len(),
                got.len(),
                show(exp.get(first)),
                show(got.get(first))
            ));
        }
    }
    if let Some(c) = h.timeout {
        return Some(format!(
            "sample {s}: the hardware did not finish within {c} cycles (all recorded spikes matched up to then)"
        ));
    }
    for (k, e) in tapped.iter().enumerate() {
        let n = h.tap_eos[k].unwrap_or(0);
        if n != steps as u64 {
            return Some(format!(
                "sample {s}: layer {} sent {n} end-of-step beats, expected {steps}",
                e.neuron_layer.unwrap_or(0)
            ));
        }
    }
    let Some(d) = &h.done else {
        return Some(format!("sample {s}: the hardware never signalled done"));
    };
    if d.out_eos != steps as u64 {
        return Some(format!(
            "sample {s}: done came after {} end-of-step beats of the host output stream, expected exactly {steps} (one per step)",
            d.out_eos
        ));
    }
    if d.pending {
        return Some(format!(
            "sample {s}: done came while an output beat was still waiting to be taken (out_valid high, out_ready low)"
        ));
    }
    if d.again {
        return Some(format!(
            "sample {s}: done stayed high for more than one cycle"
        ));
    }
    if d.late_beat {
        return Some(format!("sample {s}: an output beat appeared after done"));
    }
    if d.beats_taken != beats {
        return Some(format!(
            "sample {s}: done came after {} of the sample's {beats} input beats were taken",
            d.beats_taken
        ));
    }
    if d.class != g.predicted {
        return Some(format!(
            "sample {s}: predicted class {}, expected {} (readout {:?})",
            d.class, g.predicted, g.readout
        ));
    }
    None
}

/// The lines a simulator that matches the golden model prints (the `E`, `O`, `Q` and `D` lines
/// of the harness format; `D` with 0 cycles and no `B`/`C` lines, which depend on timing).
/// Built from the same golden traces and reference currents [`compare`] checks against, so
/// `compare` accepts it (`sim_folder` asserts that before writing it out).
pub(super) fn expected_raw(
    net: &IntNetwork,
    plan: &Plan,
    golden: &[SampleTrace],
    inputs: &[Vec<u32>],
    steps: u32,
) -> String {
    let mask = |v: i64, bits: usize| {
        if bits >= 64 {
            v as u64
        } else {
            (v as u64) & ((1u64 << bits) - 1)
        }
    };
    let tapped: Vec<&codegen::EnginePlan> = plan
        .engines
        .iter()
        .filter(|e| e.neuron_layer.is_some())
        .collect();
    let last = plan.engines.last().expect("engines");
    let mut s = String::new();
    for (si, g) in golden.iter().enumerate() {
        let _ = writeln!(s, "S {si}");
        let r = reference(net, plan, g, &inputs[si], si as u64, steps);
        for t in 0..steps as usize {
            for (k, e) in tapped.iter().enumerate() {
                let gl = &g.layers[k];
                let gm = gl.membranes.as_ref().expect("membranes recorded");
                for (n, &c) in gl.counts[t].iter().enumerate() {
                    if c != 0 {
                        let v = mask(gm[t][e.neuron_of_event(n)] as i64, e.widths.state);
                        let _ = writeln!(s, "E {k} {t} {n} {c} {v:x}");
                    }
                }
            }
            if last.kind == EngineKind::Current {
                let ei = plan.engines.len() - 1;
                for (n, &x) in r.currents[ei][t].iter().enumerate() {
                    let _ = writeln!(s, "O {t} {n} {:x}", mask(x, last.widths.out_count));
                }
            } else {
                let gl = g.layers.last().expect("a neuron layer");
                for (n, &c) in gl.counts[t].iter().enumerate() {
                    if c != 0 {
                        let _ = writeln!(s, "O {t} {n} {c:x}");
                    }
                }
            }
        }
        for k in 0..tapped.len() {
            let _ = writeln!(s, "Q {k} {steps}");
        }
        let beats = inputs_beats(net, &inputs[si], si, steps);
        let _ = writeln!(s, "D 0 {} {steps} 0 0 0 {beats}", g.predicted);
    }
    s
}
