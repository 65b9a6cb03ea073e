//! One step of each kind of simulated layer: the event-driven synapses, sum pooling and the
//! neuron updates (LIFB, group, recurrent).

use super::elem::SimElem;
use super::sim::{Op, Window};
use crate::ir::Reset;

/// Event-driven synaptic layer: currents = bias + sum over non-zero inputs of value * weight row.
/// `input` yields (is_zero, value) per input.
pub(super) fn synapse<T: SimElem>(
    op: &Op<T>,
    input: impl Iterator<Item = (bool, T)>,
    out: &mut Vec<T>,
) {
    match op {
        Op::Dense { n_out, wt, bias } => {
            out.clear();
            out.extend_from_slice(bias);
            for (i, (zero, c)) in input.enumerate() {
                if zero {
                    continue;
                }
                T::add_row(out, &wt[i * n_out..(i + 1) * n_out], c);
            }
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
            for (idx, (zero, c)) in input.enumerate() {
                if zero {
                    continue;
                }
                let ci = idx / (ins.h * ins.w);
                let iy = (idx / ins.w) % ins.h;
                let ix = idx % ins.w;
                for ky in 0..kh {
                    // output row oy reads input row oy*stride + ky - pad
                    let num = iy + padding[0];
                    if num < ky || (num - ky) % stride[0] != 0 || (num - ky) / stride[0] >= outs.h {
                        continue;
                    }
                    let oy = (num - ky) / stride[0];
                    for kx in 0..kw {
                        let num = ix + padding[1];
                        if num < kx || (num - kx) % stride[1] != 0 || (num - kx) / stride[1] >= ow {
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

pub(super) fn sum_pool(input: &[u32], win: &Window) -> Vec<u32> {
    let Window {
        input: ins,
        output: outs,
        kernel,
        stride,
    } = *win;
    let mut out = vec![0u32; outs.len()];
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
    out
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
        } => {
            out.clear();
            // Zipped iterators: no bounds checks in the hottest loop after the synapses.
            let it = v.iter_mut().zip(currents).zip(theta.iter().zip(spacing));
            out.extend(it.map(|((v, &x), (&th, &sp))| T::lifb(k, v, x, th, sp, *b, *reset)));
        }
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
            let mut spikes = vec![0u32; *g];
            for n in 0..v.len() {
                let th = &thresholds[n * g..(n + 1) * g];
                T::group(
                    k,
                    &mut v[n],
                    currents[n],
                    th,
                    &rho[n * g..(n + 1) * g],
                    *reset,
                    &mut spikes,
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
