//! Pass: float network -> integer network (docs/semantics.md, "Quantization").
//!
//! Each synaptic layer gets one weight scale s_w = clip * max|W| / (2^(bits-1) - 1); its integer
//! currents then stand for s = s_w * s_in float units, where s_in is what one unit of its input
//! stands for (1/input_max for direct-coded inputs, 1 for spike counts, 1/window after average
//! pooling). Biases, thresholds and spacings of the layer that follows are divided by s and
//! rounded. With a calibration score (the verification layer's agreement with the float model on
//! some inputs), `clip` is chosen per layer from a few candidates to maximise it. The pass itself
//! runs no simulator.

use crate::error::{in_range, Result};
use crate::ir::{
    Conv2d, Dense, Encoding, FixedPoint, FloatNetwork, IntNetwork, Layer, Leak, LifGroup,
    LifRecurrent, Lifb, Network, Pool, PoolKind,
};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct QuantOptions {
    /// Signed weight width, 2..=16.
    pub weight_bits: u32,
    /// Signed membrane width; None picks the smallest width that holds every threshold with
    /// headroom (docs/semantics.md).
    pub membrane_bits: Option<u32>,
    /// Input value width for direct coding, 1..=16.
    pub input_bits: u32,
    /// Fractional bits of the leak factor.
    pub leak_frac_bits: u32,
    /// Time steps used when calibrating.
    pub steps: u32,
}

impl Default for QuantOptions {
    fn default() -> Self {
        QuantOptions {
            weight_bits: 8,
            membrane_bits: None,
            input_bits: 8,
            leak_frac_bits: 8,
            steps: 4,
        }
    }
}

impl QuantOptions {
    /// The options a float model was trained for, read from its `meta` (what training and the
    /// importers record: `train_config.qat.weight_bits`, `input_bits`, `steps`); each `Some`
    /// argument overrides, and what is neither given nor recorded takes the default. Quantizing
    /// with these makes the same integer model that `flow`, `eval` and `sweep` use.
    pub fn recorded(
        meta: &std::collections::BTreeMap<String, serde_json::Value>,
        weight_bits: Option<u32>,
        input_bits: Option<u32>,
        steps: Option<u32>,
    ) -> QuantOptions {
        let d = QuantOptions::default();
        QuantOptions {
            weight_bits: weight_bits
                .or(meta_u32(meta, &["train_config", "qat", "weight_bits"]))
                .unwrap_or(d.weight_bits),
            input_bits: input_bits
                .or(meta_u32(meta, &["input_bits"]))
                .unwrap_or(d.input_bits),
            steps: model_steps(meta, steps),
            ..d
        }
    }
}

/// The time steps of a run on a model with `meta`: `given`, else the model's recorded "steps",
/// else 4.
pub fn model_steps(
    meta: &std::collections::BTreeMap<String, serde_json::Value>,
    given: Option<u32>,
) -> u32 {
    given.or(meta_u32(meta, &["steps"])).unwrap_or(4)
}

/// A whole number at `path` in a model's `meta`, if it is there and fits in u32.
pub fn meta_u32(
    meta: &std::collections::BTreeMap<String, serde_json::Value>,
    path: &[&str],
) -> Option<u32> {
    let (first, rest) = path.split_first()?;
    let mut v = meta.get(*first)?;
    for k in rest {
        v = v.get(k)?;
    }
    v.as_u64().and_then(|x| u32::try_from(x).ok())
}

/// Clip factors tried per layer when calibrating.
pub const CLIPS: [f32; 6] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5];

#[derive(Debug, Clone, Serialize)]
pub struct QuantReport {
    /// Per layer: the float current one integer unit stands for (1 for non-synaptic layers).
    pub scales: Vec<f32>,
    /// Per layer: the weight clip factor chosen.
    pub clips: Vec<f32>,
    pub membrane_bits: u32,
    /// Largest relative error of any rounded threshold or spacing.
    pub max_threshold_error: f32,
}

/// What one unit of the first layer's integer input is worth: 1 / (2^input_bits - 1) for input
/// values (direct coding, input trains), 1 for spike counts (rate and burst coding). Training's
/// fake quantization uses the same (train::quantize::layer_scales).
pub fn input_scale(encoding: Encoding, input_bits: u32) -> f32 {
    match encoding {
        Encoding::Direct | Encoding::Steps => 1.0 / ((1u64 << input_bits) - 1) as f32,
        Encoding::Rate { .. } | Encoding::Burst { .. } => 1.0,
    }
}

/// Quantize with per-layer clip factors (1.0 where none is given).
fn quantize_with(
    net: &FloatNetwork,
    opts: &QuantOptions,
    clips: &[f32],
) -> Result<(IntNetwork, QuantReport)> {
    net.validate()?;
    check_options(opts)?;
    let shapes = net.shapes()?;
    let wmax = ((1i64 << (opts.weight_bits - 1)) - 1) as f32;
    let mut s_in = input_scale(net.input.encoding, opts.input_bits);
    let mut s_cur = 1.0f32;
    let mut scales = Vec::with_capacity(net.layers.len());
    let mut layers = Vec::with_capacity(net.layers.len());
    let mut top = 1i64; // largest theta + (B-1) D, for the automatic membrane width
    let mut biggest_bias = 0i64;
    let mut max_err = 0f32;
    let leak_unit = (1u64 << opts.leak_frac_bits) as f64;
    let leak = |l: Leak| -> Leak {
        match l {
            Leak::Lambda { lam } => Leak::Fixed {
                d: ((1.0 - lam as f64) * leak_unit).round() as u32,
            },
            f => f,
        }
    };
    let mut q_param = |v: &[f32], s: f32| -> Vec<i32> {
        v.iter()
            .map(|&x| {
                let q = (x / s).round().max(1.0);
                max_err = max_err.max(((q * s - x) / x).abs());
                q.min(i32::MAX as f32) as i32
            })
            .collect()
    };
    for (i, layer) in net.layers.iter().enumerate() {
        let clip = clips.get(i).copied().unwrap_or(1.0);
        let (q, scale) = match layer {
            Layer::Dense(d) => {
                let (w, bias, s) = quantize_synapse(&d.weight, d.bias.as_deref(), wmax, clip, s_in);
                s_cur = s;
                biggest_bias = biggest_bias.max(max_abs(bias.as_deref()));
                (
                    Layer::Dense(Dense {
                        in_features: d.in_features,
                        out_features: d.out_features,
                        weight: w,
                        bias,
                    }),
                    s_cur,
                )
            }
            Layer::Conv2d(c) => {
                let (w, bias, s) = quantize_synapse(&c.weight, c.bias.as_deref(), wmax, clip, s_in);
                s_cur = s;
                biggest_bias = biggest_bias.max(max_abs(bias.as_deref()));
                let q = Conv2d {
                    in_channels: c.in_channels,
                    out_channels: c.out_channels,
                    kernel: c.kernel,
                    stride: c.stride,
                    padding: c.padding,
                    weight: w,
                    bias,
                };
                (Layer::Conv2d(q), s_cur)
            }
            Layer::Pool(p) => {
                if p.kind == PoolKind::Avg {
                    s_in /= (p.kernel[0] * p.kernel[1]) as f32;
                }
                (
                    Layer::Pool(Pool {
                        kind: PoolKind::Sum,
                        ..*p
                    }),
                    1.0,
                )
            }
            Layer::Flatten => (Layer::Flatten, 1.0),
            Layer::Lifb(n) => {
                let threshold = q_param(&n.threshold, s_cur);
                let spacing = q_param(&n.spacing, s_cur);
                let shape = shapes[i];
                let (lt, ls) = (threshold.len(), spacing.len());
                for nr in crate::ir::broadcast_neurons(&[(lt, 1), (ls, 1)], shape) {
                    let t = threshold[crate::ir::param_row(lt, 1, shape, nr)] as i64;
                    let d = spacing[crate::ir::param_row(ls, 1, shape, nr)] as i64;
                    top = top.max(crate::ir::burst_threshold_int(t, d, n.max_burst - 1));
                }
                let q = Lifb {
                    leak: leak(n.leak),
                    threshold,
                    spacing,
                    max_burst: n.max_burst,
                    reset: n.reset,
                };
                (Layer::Lifb(q), 1.0)
            }
            Layer::LifGroup(n) => {
                let thresholds = q_param(&n.thresholds, s_cur);
                top = top.max(highest(&thresholds));
                let q = LifGroup {
                    leak: leak(n.leak),
                    group: n.group,
                    thresholds,
                    rho: q_param(&n.rho, s_cur),
                    reset: n.reset,
                };
                (Layer::LifGroup(q), 1.0)
            }
            Layer::LifRecurrent(n) => {
                let thresholds = q_param(&n.thresholds, s_cur);
                top = top.max(highest(&thresholds));
                let q = LifRecurrent {
                    leak: leak(n.leak),
                    group: n.group,
                    thresholds,
                    lateral: round_all(&n.lateral, s_cur),
                };
                (Layer::LifRecurrent(q), 1.0)
            }
        };
        if layer.is_neuron() {
            s_in = 1.0; // spike counts stand for themselves
        }
        layers.push(q);
        scales.push(scale);
    }
    // Automatic width: hold 4x the top threshold (so a strong input can still show as a full
    // burst next step) and every bias, in a signed register.
    let need = (4 * top).max(2 * biggest_bias).max(1);
    let auto = 65 - (need as u64).leading_zeros();
    let membrane_bits = opts.membrane_bits.unwrap_or(auto.clamp(8, 32));
    let fixed = FixedPoint {
        weight_bits: opts.weight_bits,
        membrane_bits,
        input_bits: opts.input_bits,
        leak_frac_bits: opts.leak_frac_bits,
        scales: scales.clone(),
    };
    let mut meta = net.meta.clone();
    meta.insert("quantized_from".into(), serde_json::json!(net.name));
    let out = Network {
        name: net.name.clone(),
        input: net.input.clone(),
        layers,
        fixed: Some(fixed),
        meta,
    };
    out.validate().map_err(|e| e.context("quantized network"))?;
    out.check_readout()?; // validate above checked structure and arithmetic bounds
    let report = QuantReport {
        scales,
        clips: clips.to_vec(),
        membrane_bits,
        max_threshold_error: max_err,
    };
    Ok((out, report))
}

fn check_options(o: &QuantOptions) -> Result<()> {
    in_range("--weight-bits", o.weight_bits, 2..=16)?;
    in_range("--input-bits", o.input_bits, 1..=16)?;
    in_range("--leak-frac-bits", o.leak_frac_bits, 0..=16)?;
    if let Some(m) = o.membrane_bits {
        in_range("--membrane-bits", m, 4..=32)?;
    }
    Ok(())
}

/// The largest threshold of a layer (1 if it has none).
fn highest(thresholds: &[i32]) -> i64 {
    thresholds.iter().map(|&t| t as i64).max().unwrap_or(1)
}

/// Round half away from zero: the rule docs/semantics.md states for every quantized value.
fn round_all(v: &[f32], s: f32) -> Vec<i32> {
    v.iter().map(|&x| (x / s).round() as i32).collect()
}

/// A synaptic layer: integer weights, biases on the current scale, and that scale
/// s = s_w * s_in (the float current one integer unit stands for).
fn quantize_synapse(
    weight: &[f32],
    bias: Option<&[f32]>,
    wmax: f32,
    clip: f32,
    s_in: f32,
) -> (Vec<i32>, Option<Vec<i32>>, f32) {
    let (w, s_w) = quantize_weights(weight, wmax, clip);
    let s = s_w * s_in;
    (w, bias.map(|b| round_all(b, s)), s)
}

fn max_abs(v: Option<&[i32]>) -> i64 {
    v.map_or(0, |b| {
        b.iter().map(|x| x.unsigned_abs() as i64).max().unwrap_or(0)
    })
}

/// Symmetric per-layer weight quantization; returns the integers and the scale.
pub fn quantize_weights(w: &[f32], wmax: f32, clip: f32) -> (Vec<i32>, f32) {
    let m = w.iter().fold(0f32, |a, &x| a.max(x.abs())) * clip;
    let s = if m > 0.0 { m / wmax } else { 1.0 };
    (
        w.iter()
            .map(|&x| (x / s).round().clamp(-wmax, wmax) as i32)
            .collect(),
        s,
    )
}

/// Scores a candidate integer network during calibration (higher is better), for example the
/// number of calibration samples on which it predicts the float model's class.
pub type Score<'a> = &'a mut dyn FnMut(&IntNetwork) -> Result<usize>;

/// Quantize `net`. With a calibration score, choose each synaptic layer's clip factor greedily,
/// front to back, among [`CLIPS`], to maximise the score (ties keep the larger clip).
pub fn quantize(
    net: &FloatNetwork,
    opts: &QuantOptions,
    score: Option<Score<'_>>,
) -> Result<(IntNetwork, QuantReport)> {
    let mut clips = vec![1.0f32; net.layers.len()];
    let Some(score) = score else {
        return quantize_with(net, opts, &clips);
    };
    for i in 0..net.layers.len() {
        if !net.layers[i].is_synaptic() {
            continue;
        }
        let mut best = (0usize, 1.0f32);
        for &c in &CLIPS {
            clips[i] = c;
            let Ok((q, _)) = quantize_with(net, opts, &clips) else {
                continue;
            };
            let s = score(&q)?;
            if s > best.0 {
                best = (s, c);
            }
        }
        clips[i] = best.1;
    }
    quantize_with(net, opts, &clips)
}
