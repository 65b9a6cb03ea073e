//! One step of each kind of simulated layer: the event-driven synapses, sum pooling and the
//! neuron updates (LIFB, group, recurrent).

use super::elem::SimElem;
use super::sim::{Op, Window};
use crate::ir::Reset;

/// The non-zero inputs of a synaptic layer, in input order: their indices and values.
#[derive(Debug, Clone, Default)]
pub struct Events<T> {
    idx: Vec<u32>,
    val: Vec<T>,
    len: usize,
}

impl<T: Copy + Default> Events<T> {
    /// The events of `values` (those for which `zero` is false), converted by `conv`. A bit mask
    /// per 64 values first, then one pass over the set bits: no branch per value (whether a
    /// value is zero is as good as random).
    #[inline(always)]
    pub fn collect<V: Copy>(
        &mut self,
        values: &[V],
        zero: impl Fn(V) -> bool,
        conv: impl Fn(V) -> T,
    ) {
        if self.idx.len() < values.len() {
            self.idx.resize(values.len(), 0);
            self.val.resize(values.len(), T::default());
        }
        let (idx, val) = (&mut self.idx[..values.len()], &mut self.val[..values.len()]);
        let mut n = 0;
        for (ci, chunk) in values.chunks(64).enumerate() {
            let mut m = 0u64;
            if let Ok(c) = <&[V; 64]>::try_from(chunk) {
                // 16 lanes at a time: a vector compare and a mask move.
                for q in 0..4 {
                    let mut h = 0u16;
                    for k in 0..16 {
                        h |= (!zero(c[q * 16 + k]) as u16) << k;
                    }
                    m |= (h as u64) << (q * 16);
                }
            } else {
                for (k, &v) in chunk.iter().enumerate() {
                    m |= (!zero(v) as u64) << k;
                }
            }
            while m != 0 {
                let k = m.trailing_zeros() as usize;
                idx[n] = (ci * 64 + k) as u32;
                val[n] = conv(chunk[k]);
                n += 1;
                m &= m - 1;
            }
        }
        self.len = n;
    }

    pub fn idx(&self) -> &[u32] {
        &self.idx[..self.len]
    }

    pub fn val(&self) -> &[T] {
        &self.val[..self.len]
    }
}

/// Event-driven synaptic layer: currents = bias + sum over the non-zero inputs (`events`, in
/// input order) of value * weight row.
pub(super) fn synapse<T: SimElem>(op: &Op<T>, events: &Events<T>, out: &mut Vec<T>) {
    match op {
        Op::Dense {
            n_out,
            stride,
            wt,
            bias,
            w_abs_max,
            ..
        } => {
            T::dense(
                out,
                bias,
                wt,
                *stride,
                events.idx(),
                events.val(),
                *w_abs_max,
            );
            out.truncate(*n_out);
        }
        Op::Conv {
            win:
                Window {
                    input: ins,
                    output: outs,
                    kernel,
                    stride,
                },
            padding,
            wt,
            bias,
        } => {
            let co = outs.c;
            let (ohw, ow) = (outs.h * outs.w, outs.w);
            out.clear();
            out.resize(outs.len(), T::default());
            for o in 0..co {
                out[o * ohw..(o + 1) * ohw]
                    .iter_mut()
                    .for_each(|a| *a = bias[o]);
            }
            let [kh, kw] = *kernel;
            for (&idx, &c) in events.idx().iter().zip(events.val()) {
                let idx = idx as usize;
                let ci = idx / (ins.h * ins.w);
                let iy = (idx / ins.w) % ins.h;
                let ix = idx % ins.w;
                for ky in 0..kh {
                    // output row oy reads input row oy*stride + ky - pad
                    let num = iy + padding[0];
                    if num < ky
                        || !(num - ky).is_multiple_of(stride[0])
                        || (num - ky) / stride[0] >= outs.h
                    {
                        continue;
                    }
                    let oy = (num - ky) / stride[0];
                    for kx in 0..kw {
                        let num = ix + padding[1];
                        if num < kx
                            || !(num - kx).is_multiple_of(stride[1])
                            || (num - kx) / stride[1] >= ow
                        {
                            continue;
                        }
                        let pos = oy * ow + (num - kx) / stride[1];
                        let row = &wt[((ci * kh + ky) * kw + kx) * co..][..co];
                        for (o, &w) in row.iter().enumerate() {
                            out[o * ohw + pos] += c * w;
                        }
                    }
                }
            }
        }
        _ => unreachable!("synapse on a non-synaptic op"),
    }
}

pub(super) fn sum_pool(input: &[u32], win: &Window, out: &mut Vec<u32>) {
    let Window {
        input: ins,
        output: outs,
        kernel,
        stride,
    } = *win;
    out.clear();
    out.resize(outs.len(), 0);
    for c in 0..outs.c {
        for oy in 0..outs.h {
            for ox in 0..outs.w {
                let mut s = 0;
                for ky in 0..kernel[0] {
                    for kx in 0..kernel[1] {
                        s += input[(c * ins.h + oy * stride[0] + ky) * ins.w + ox * stride[1] + kx];
                    }
                }
                out[(c * outs.h + oy) * outs.w + ox] = s;
            }
        }
    }
}

pub(super) fn neuron<T: SimElem>(
    op: &Op<T>,
    v: &mut [T::Mem],
    prev: &mut [u32],
    currents: &[T],
    out: &mut Vec<u32>,
) {
    match op {
        Op::Lifb {
            k,
            theta,
            spacing,
            b,
            reset,
        } => T::lifb_layer(k, v, currents, theta, spacing, *b, *reset, out),
        Op::Group {
            k,
            g,
            thresholds,
            rho,
            reset,
            hw,
        } => {
            out.clear();
            out.resize(v.len() * g, 0);
            let mut buf = [0u32; 64]; // groups have at most 64 sub-units (validated)
            let spikes = &mut buf[..*g];
            for n in 0..v.len() {
                let th = &thresholds[n * g..(n + 1) * g];
                T::group(
                    k,
                    &mut v[n],
                    currents[n],
                    th,
                    &rho[n * g..(n + 1) * g],
                    *reset,
                    spikes,
                );
                // neuron n = c*hw + p; sub-unit k goes to channel c*g + k
                let (c, p) = (n / hw, n % hw);
                for (j, &s) in spikes.iter().enumerate() {
                    out[(c * g + j) * hw + p] = s;
                }
            }
        }
        Op::Recurrent {
            k,
            g,
            thresholds,
            lateral,
            hw,
        } => {
            out.clear();
            out.resize(v.len(), 0);
            for u in 0..v.len() {
                let (cc, p) = (u / hw, u % hw);
                let base = cc - cc % g;
                // Summed in the membrane type (i64 for integers): the current and the lateral
                // inputs cannot wrap (their bound is checked when the network is validated).
                let mut x = T::mem(currents[u]);
                for j in 0..*g {
                    if prev[(base + j) * hw + p] != 0 {
                        x = x + T::mem(lateral[u * g + j]);
                    }
                }
                // A standard LIF unit: B = 1, subtract its own threshold.
                out[u] = T::lifb_wide(
                    k,
                    &mut v[u],
                    x,
                    thresholds[u],
                    thresholds[u],
                    1,
                    Reset::Subtract,
                );
            }
            prev.copy_from_slice(out);
        }
        _ => unreachable!("neuron on a non-neuron op"),
    }
}
