//! The integer simulator's fast path for classification (no trace): a perceptron of dense and
//! LIFB layers (dense, LIFB, dense, LIFB, ...) with a constant input coding (direct or burst)
//! whose neuron updates fit 32-bit lanes (`kernels::lifb_fits_i32`, B <= 8). Membranes are
//! i32 and spike counts i16 in a reused [`Scratch`], the first layer's current is computed once
//! per image, and a narrow layer (at most `kernels::NARROW` outputs) reads the counts of all its
//! inputs as i16 dot products with its weight columns while a wide one reads the events.
//!
//! It computes exactly what `Sim::run` computes, which stays the reference: the same integer
//! sums (wrapping in i32) and the same neuron update (`kernels::lane_step`, equal to
//! `neuron::lifb_step` where it is used). tests/model/golden_kernels.rs compares the two on random
//! networks and inputs, saturation included.

use super::encode;
use super::kernels::{self, lane_step, with_burst, LaneConsts, COLUMN_PAD};
use super::sim::{Op, Sim};
use super::step::Events;
use crate::ir::Encoding;

/// What the fast path needs beyond the simulator's ops: which ops form the layers, and the
/// neuron constants in i32.
#[derive(Debug, Clone)]
pub struct Plan {
    layers: Vec<Layer>,
    encoding: Encoding,
    input_max: u32,
}

#[derive(Debug, Clone)]
struct Layer {
    /// Index of the layer's dense op in the simulator's ops.
    dense: usize,
    n_in: usize,
    n_out: usize,
    lane: LaneConsts,
    b: u32,
    theta: Vec<i32>,
    spacing: Vec<i32>,
}

/// The fast path's buffers, reused from image to image.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    encoded: Vec<u32>,
    events: Events<i32>,
    /// Per layer: its currents (the first layer's: computed once per image), membranes and
    /// spike counts (zero past the layer's width, to a multiple of `kernels::COLUMN_PAD`).
    cur: Vec<Vec<i32>>,
    v: Vec<Vec<i32>>,
    counts: Vec<Vec<i16>>,
    /// The last layer's counts summed over the steps.
    total: Vec<i32>,
}

impl Plan {
    /// The plan for `sim`, if its network has the fast path's form.
    pub(super) fn new(sim: &Sim<i32>) -> Option<Plan> {
        if !sim.encoding.is_constant() || !sim.ops.len().is_multiple_of(2) {
            return None;
        }
        let mut layers = Vec::new();
        for (i, pair) in sim.ops.chunks(2).enumerate() {
            let (
                Op::Dense {
                    n_out, wt, stride, ..
                },
                Op::Lifb {
                    k,
                    theta,
                    spacing,
                    b,
                    reset,
                },
            ) = (&pair[0], &pair[1])
            else {
                return None;
            };
            if !kernels::lifb_fits_i32(k) || *b > 8 || theta.len() != *n_out {
                return None;
            }
            let n_in = wt.len() / stride;
            // Whole chunks of neurons: the padding ones never fire (their threshold is above
            // the largest membrane) and their currents are zero (zero weight columns).
            let padded = n_out.div_ceil(CHUNK) * CHUNK;
            if padded > *stride {
                return None;
            }
            let never = k.v_max as i32 + 1;
            let pad = |v: &[i64], fill: i32| -> Vec<i32> {
                let mut out: Vec<i32> = v.iter().map(|&t| t as i32).collect();
                out.resize(padded, fill);
                out
            };
            layers.push(Layer {
                dense: 2 * i,
                n_in,
                n_out: *n_out,
                lane: LaneConsts::new(k, *reset),
                b: *b,
                theta: pad(theta, never),
                spacing: pad(spacing, 1),
            });
        }
        // Each layer reads the one before: widths chain (validated networks guarantee it).
        let chained = layers.windows(2).all(|w| w[0].n_out == w[1].n_in);
        (chained && !layers.is_empty()).then_some(Plan {
            layers,
            encoding: sim.encoding,
            input_max: sim.input_max,
        })
    }

    /// Classify one checked input: the last layer's spike counts summed over `steps` go to
    /// `readout`; returns the predicted class. Compiled into the caller's `kernels::simd` build.
    #[inline(always)]
    pub(super) fn classify(
        &self,
        ops: &[Op<i32>],
        s: &mut Scratch,
        input: &[u32],
        sample: u64,
        steps: u32,
        readout: &mut [f64],
    ) -> usize {
        let n = self.layers.len();
        if s.cur.len() != n {
            let pad = |w: usize| w.div_ceil(COLUMN_PAD) * COLUMN_PAD;
            s.cur = vec![Vec::new(); n];
            s.v = self.layers.iter().map(|l| vec![0; l.theta.len()]).collect();
            s.counts = self.layers.iter().map(|l| vec![0; pad(l.n_out)]).collect();
            s.total = vec![0; self.layers[n - 1].n_out];
        }
        // The first layer's current, once (the coding is constant).
        let values = if matches!(self.encoding, Encoding::Direct) {
            input
        } else {
            encode::encode_int(
                self.encoding,
                input,
                self.input_max,
                sample,
                0,
                &mut s.encoded,
            );
            &s.encoded[..]
        };
        s.events.collect(values, |x| x == 0, |x| x as i32);
        dense(&ops[self.layers[0].dense], &s.events, &mut s.cur[0]);
        s.v.iter_mut().for_each(|v| v.fill(0));
        s.total.fill(0);
        for _ in 0..steps {
            for (l, layer) in self.layers.iter().enumerate() {
                let fired = layer.update(&mut s.v[l], &s.cur[l], &mut s.counts[l]);
                if let Some(next) = self.layers.get(l + 1) {
                    let (counts, cur) = (&s.counts[l], &mut s.cur[l + 1]);
                    let op = &ops[next.dense];
                    if !narrow(op, counts, fired, next.n_in, cur) {
                        s.events
                            .collect(&counts[..next.n_in], |c| c == 0, |c| c as i32);
                        dense(op, &s.events, cur);
                    }
                }
            }
            let last = &s.counts[n - 1];
            for (t, &c) in s.total.iter_mut().zip(last) {
                *t += c as i32;
            }
        }
        for (r, &t) in readout.iter_mut().zip(&s.total) {
            *r = t as f64;
        }
        super::sim::argmax(readout)
    }
}

impl Layer {
    /// The LIFB update of the layer's neurons (padded to whole chunks); returns how many fired.
    #[inline(always)]
    fn update(&self, v: &mut [i32], x: &[i32], out: &mut [i16]) -> usize {
        let n = self.theta.len();
        let (v, x, th, sp, out) = (
            &mut v[..n],
            &x[..n],
            &self.theta[..n],
            &self.spacing[..n],
            &mut out[..n],
        );
        let p = self.lane;
        with_burst!(self.b, B, {
            let mut fired = 0;
            for (i, th) in th.chunks_exact(CHUNK).enumerate() {
                let r = i * CHUNK..(i + 1) * CHUNK;
                fired += lanes::<B>(
                    &p,
                    &mut v[r.clone()],
                    &x[r.clone()],
                    th,
                    &sp[r.clone()],
                    &mut out[r],
                );
            }
            fired
        })
    }
}

/// Neurons per chunk of the lane update: one AVX-512 register of i32.
const CHUNK: usize = 16;

/// One chunk of the LIFB update in straight-line lane code (the compiler vectorizes it):
/// `kernels::lane_step` per neuron; returns how many fired.
#[inline(always)]
fn lanes<const B: i32>(
    p: &LaneConsts,
    v: &mut [i32],
    x: &[i32],
    th: &[i32],
    sp: &[i32],
    out: &mut [i16],
) -> usize {
    let v: &mut [i32; CHUNK] = v.try_into().expect("CHUNK lanes");
    let x: &[i32; CHUNK] = x.try_into().expect("CHUNK lanes");
    let th: &[i32; CHUNK] = th.try_into().expect("CHUNK lanes");
    let sp: &[i32; CHUNK] = sp.try_into().expect("CHUNK lanes");
    let out: &mut [i16; CHUNK] = out.try_into().expect("CHUNK lanes");
    let p = *p; // a local copy: no load of it can alias the stores below
    let (mut nv, mut nc) = ([0i32; CHUNK], [0i16; CHUNK]);
    for i in 0..CHUNK {
        let (vv, c) = lane_step::<B>(&p, v[i], x[i], th[i], sp[i]);
        nv[i] = vv;
        nc[i] = c as i16;
    }
    *v = nv;
    *out = nc;
    nc.iter().map(|&c| (c != 0) as i16).sum::<i16>() as usize
}

/// An event-driven dense layer (`kernels::dense_i32`).
#[inline(always)]
fn dense(op: &Op<i32>, ev: &Events<i32>, out: &mut Vec<i32>) {
    if let Op::Dense {
        stride,
        wt,
        bias,
        w_abs_max,
        ..
    } = op
    {
        kernels::dense_i32_in(
            out,
            bias,
            wt,
            *stride,
            ev.idx(),
            ev.val(),
            *w_abs_max as i32,
        );
    }
}

/// A narrow dense layer over all `counts` (i16, zero past `n_in`) as dot products with its
/// weight columns, when at least a quarter of the inputs fired; false (nothing done) otherwise.
#[inline(always)]
fn narrow(op: &Op<i32>, counts: &[i16], fired: usize, n_in: usize, out: &mut Vec<i32>) -> bool {
    let Op::Dense {
        n_out,
        stride,
        bias,
        cols,
        ..
    } = op
    else {
        return false;
    };
    if cols.is_empty() || fired * 4 < n_in {
        return false;
    }
    let n = cols.len() / stride;
    out.clear();
    out.extend_from_slice(bias);
    out.resize(*stride, 0);
    let counts = &counts[..n];
    for (a, col) in out[..*n_out].iter_mut().zip(cols.chunks_exact(n)) {
        *a = a.wrapping_add(kernels::dot(counts, col, |c| c as i32));
    }
    true
}
