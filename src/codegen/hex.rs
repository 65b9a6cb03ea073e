//! ROM contents as $readmemh text: one word per line, lane (or unit) l in bits [l*w, (l+1)*w), two's
//! complement, most significant hex digit first.

use super::plan::{EngineKind, Plan};
use crate::error::Result;
use crate::ir::{burst_threshold_int, param_row, IntNetwork, Layer, Reset};

/// A little bit builder: push fields least significant first, then print as hex.
struct Word {
    bits: Vec<bool>,
}

impl Word {
    fn new() -> Self {
        Word { bits: Vec::new() }
    }
    fn push(&mut self, v: i64, w: usize) {
        for b in 0..w {
            self.bits
                .push(if b < 64 { (v >> b) & 1 == 1 } else { v < 0 });
        }
    }
    fn hex(&self, out: &mut String) {
        Self::hex_bits(&self.bits, out)
    }
    fn hex_bits(bits: &[bool], out: &mut String) {
        let digits = bits.len().div_ceil(4);
        for d in (0..digits).rev() {
            let mut x = 0;
            for b in 0..4 {
                if bits.get(d * 4 + b).copied().unwrap_or(false) {
                    x |= 1 << b;
                }
            }
            out.push(char::from_digit(x, 16).expect("nibble"));
        }
        out.push('\n');
    }
}

/// Weight ROM (one text per slice of the word, as planned) and neuron ROM of engine `ei`.
pub fn engine_roms(net: &IntNetwork, p: &Plan, ei: usize) -> Result<(Vec<String>, String)> {
    let e = &p.engines[ei];
    let (lanes, units, groups) = (
        e.parallelism.lanes,
        e.parallelism.fire_units,
        e.parallelism.unit_groups,
    );
    // thresholds (and rho fields) per neuron
    let per = e.neuron.thresholds;
    let mut w = vec![String::new(); e.memories.weight_slices.len()];
    let mut put = |word: Word| {
        for ((lo, width, _), text) in e.memories.weight_slices.iter().zip(w.iter_mut()) {
            Word::hex_bits(&word.bits[*lo..lo + width], text);
        }
    };
    // one weight word: lane l holds the weight of output `first + l` (zero past `outputs`)
    let lane_word = |first: usize, outputs: usize, weight: &dyn Fn(usize) -> i64| {
        let mut word = Word::new();
        for o in first..first + lanes {
            word.push(if o < outputs { weight(o) } else { 0 }, e.widths.weight);
        }
        word
    };
    let bias_of: Box<dyn Fn(usize) -> i64> = match &net.layers[e.syn_layer] {
        Layer::Dense(d) => {
            for i in 0..e.inputs {
                for pass in 0..e.parallelism.passes {
                    put(lane_word(pass * lanes, e.neurons, &|o| {
                        d.weight[o * d.in_features + i] as i64
                    }));
                }
            }
            Box::new(|o| d.bias.as_ref().map_or(0, |b| b[o] as i64))
        }
        Layer::Conv2d(c) => {
            let cv = e.conv.as_ref().expect("a conv engine");
            let [kh, kw] = c.kernel;
            // word ((ci * KH + ky) * KW + kx) * CG + cg: lane l holds output channel cg * P + l
            for ci in 0..c.in_channels {
                for ky in 0..kh {
                    for kx in 0..kw {
                        for cg in 0..cv.channel_groups {
                            put(lane_word(cg * lanes, c.out_channels, &|o| {
                                c.weight[((o * c.in_channels + ci) * kh + ky) * kw + kx] as i64
                            }));
                        }
                    }
                }
            }
            let hw = cv.positions();
            Box::new(move |o| c.bias.as_ref().map_or(0, |b| b[o / hw] as i64))
        }
        _ => unreachable!("planned engines start at a dense or conv2d layer"),
    };
    let shape = e.shape_out();
    let mut n = String::new();
    // One word per fire word (pass, unit group g): unit u holds the neuron of lane g * Q + u of
    // the pass; a conv engine whose parameters are shared per channel has one word per
    // (channel group, unit group) instead (the pass of position 0 stands for every position).
    let rows: Vec<(usize, usize)> = match &e.conv {
        Some(c) if c.per_channel => (0..c.channel_groups * groups)
            .map(|w| (w / groups, w % groups))
            .collect(),
        _ => (0..e.parallelism.fire_words)
            .map(|w| (w / groups, w % groups))
            .collect(),
    };
    for (pass, g) in rows {
        let mut word = Word::new();
        for u in 0..units {
            let l = g * units + u;
            let Some(o) = e.neuron_at(pass, l) else {
                word.push(0, e.widths.neuron_params);
                continue;
            };
            let bias = bias_of(o);
            word.push(bias, e.widths.membrane);
            match (e.kind, e.neuron_layer.map(|i| &net.layers[i])) {
                (EngineKind::Lifb, Some(Layer::Lifb(nl))) => {
                    let th = nl.threshold[param_row(nl.threshold.len(), 1, shape, o)] as i64;
                    let sp = nl.spacing[param_row(nl.spacing.len(), 1, shape, o)] as i64;
                    for k in 0..per {
                        // B = 1 never uses the spacing (which may be any positive value).
                        let t = if k == 0 {
                            th
                        } else {
                            burst_threshold_int(th, sp, k as u32)
                        };
                        word.push(t, e.widths.membrane);
                    }
                }
                (EngineKind::Group, Some(Layer::LifGroup(g))) => {
                    let row = param_row(g.thresholds.len(), per, shape, o);
                    for k in 0..per {
                        word.push(g.thresholds[row * per + k] as i64, e.widths.membrane);
                    }
                    if g.reset == Reset::Subtract {
                        let row = param_row(g.rho.len(), per, shape, o);
                        let mut prefix = 0i64;
                        for k in 0..per {
                            let rho = g.rho[row * per + k] as i64;
                            prefix += rho;
                            word.push(if e.neuron.rho_prefix { prefix } else { rho }, e.widths.rho);
                        }
                    }
                }
                (EngineKind::Current, None) => {}
                _ => unreachable!("plan and network agree"),
            }
        }
        word.hex(&mut n);
    }
    Ok((w, n))
}
