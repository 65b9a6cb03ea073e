//! Pass: float network -> integer network (docs/semantics.md, "Quantization").
//!
//! Each synaptic layer gets one weight scale s_w = clip * max|W| / (2^(bits-1) - 1); its integer
//! currents then stand for s = s_w * s_in float units, where s_in is what one unit of its input
//! stands for (1/input_max for direct-coded inputs, 1 for spike counts, 1/window after average
//! pooling). Biases, thresholds and spacings of the layer that follows are divided by s and
//! rounded. With calibration data, `clip` is chosen per layer from a few candidates to maximise
//! agreement with the float model.

use crate::error::{Error, Result};
use crate::golden::{encode, FloatSim, IntSim, TraceOptions};
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
            steps: steps.or(meta_u32(meta, &["steps"])).unwrap_or(d.steps),
            ..d
        }
    }
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

/// Clip factors tried per layer when calibration data is given.
const CLIPS: [f32; 6] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5];

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
    let input_max = ((1u64 << opts.input_bits) - 1) as f32;
    let mut s_in = match net.input.encoding {
        Encoding::Direct => 1.0 / input_max,
        Encoding::Rate { .. } | Encoding::Burst { .. } => 1.0,
    };
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
                s_in = 1.0;
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
                top = top.max(thresholds.iter().map(|&t| t as i64).max().unwrap_or(1));
                s_in = 1.0;
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
                top = top.max(thresholds.iter().map(|&t| t as i64).max().unwrap_or(1));
                s_in = 1.0;
                let q = LifRecurrent {
                    leak: leak(n.leak),
                    group: n.group,
                    thresholds,
                    lateral: round_all(&n.lateral, s_cur),
                };
                (Layer::LifRecurrent(q), 1.0)
            }
        };
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
    if !(2..=16).contains(&o.weight_bits) {
        return Err(Error::bad_input(format!(
            "--weight-bits must be 2..=16, got {}",
            o.weight_bits
        )));
    }
    if !(1..=16).contains(&o.input_bits) {
        return Err(Error::bad_input(format!(
            "--input-bits must be 1..=16, got {}",
            o.input_bits
        )));
    }
    if o.leak_frac_bits > 16 {
        return Err(Error::bad_input(format!(
            "--leak-frac-bits must be 0..=16, got {}",
            o.leak_frac_bits
        )));
    }
    if let Some(m) = o.membrane_bits {
        if !(4..=32).contains(&m) {
            return Err(Error::bad_input(format!(
                "--membrane-bits must be 4..=32, got {m}"
            )));
        }
    }
    Ok(())
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

/// Quantize `net`. With calibration inputs (floats in [0, 1]), choose each synaptic layer's clip
/// factor greedily, front to back, to maximise class agreement with the float model.
pub fn quantize(
    net: &FloatNetwork,
    opts: &QuantOptions,
    calibration: Option<&[Vec<f32>]>,
) -> Result<(IntNetwork, QuantReport)> {
    let mut clips = vec![1.0f32; net.layers.len()];
    let Some(calib) = calibration.filter(|c| !c.is_empty()) else {
        return quantize_with(net, opts, &clips);
    };
    let float = FloatSim::new(net)?;
    let reference: Vec<usize> = calib
        .iter()
        .enumerate()
        .map(|(s, x)| float.classify(x, s as u64, opts.steps).map(|r| r.0))
        .collect::<Result<_>>()?;
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
            let agree = agreement_count(&q, calib, &reference, opts.steps)?;
            if agree > best.0 {
                best = (agree, c);
            }
        }
        clips[i] = best.1;
    }
    quantize_with(net, opts, &clips)
}

fn agreement_count(
    q: &IntNetwork,
    calib: &[Vec<f32>],
    reference: &[usize],
    steps: u32,
) -> Result<usize> {
    let sim = IntSim::new(q)?;
    let max = q.fixed.as_ref().map_or(1, |f| f.input_max());
    let mut n = 0;
    for (s, x) in calib.iter().enumerate() {
        let xi = int_inputs(x, max);
        if sim.classify(&xi, s as u64, steps)?.0 == reference[s] {
            n += 1;
        }
    }
    Ok(n)
}

/// Float sample in [0, 1] to the integer network's input values.
pub fn int_inputs(x: &[f32], max: u32) -> Vec<u32> {
    x.iter().map(|&v| encode::quantize_input(v, max)).collect()
}

/// How closely an integer network follows its float original on some inputs.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub samples: usize,
    /// Fraction of samples with the same predicted class.
    pub class_agreement: f64,
    /// Per neuron layer: fraction of (step, neuron) spike counts that are equal.
    pub count_agreement: Vec<f64>,
    pub float_accuracy: Option<f64>,
    pub integer_accuracy: Option<f64>,
}

pub fn agreement(
    float: &FloatNetwork,
    int: &IntNetwork,
    inputs: &[Vec<f32>],
    labels: Option<&[u32]>,
    steps: u32,
) -> Result<Agreement> {
    let fs = FloatSim::new(float)?;
    let is = IntSim::new(int)?;
    let max = int.fixed.as_ref().map_or(1, |f| f.input_max());
    let opts = TraceOptions {
        counts: true,
        membranes: false,
    };
    let (mut same, mut fc, mut ic) = (0usize, 0usize, 0usize);
    let mut eq: Vec<(u64, u64)> = Vec::new();
    for (s, x) in inputs.iter().enumerate() {
        let tf = fs.run(x, s as u64, steps, opts)?;
        let ti = is.run(&int_inputs(x, max), s as u64, steps, opts)?;
        same += (tf.predicted == ti.predicted) as usize;
        if let Some(l) = labels {
            fc += (tf.predicted as u32 == l[s]) as usize;
            ic += (ti.predicted as u32 == l[s]) as usize;
        }
        eq.resize(tf.layers.len(), (0, 0));
        for (k, (a, b)) in tf.layers.iter().zip(&ti.layers).enumerate() {
            for (sa, sb) in a.counts.iter().zip(&b.counts) {
                eq[k].0 += sa.iter().zip(sb).filter(|(x, y)| x == y).count() as u64;
                eq[k].1 += sa.len() as u64;
            }
        }
    }
    let n = inputs.len().max(1) as f64;
    Ok(Agreement {
        samples: inputs.len(),
        class_agreement: same as f64 / n,
        count_agreement: eq
            .iter()
            .map(|(a, b)| *a as f64 / (*b).max(1) as f64)
            .collect(),
        float_accuracy: labels.map(|_| fc as f64 / n),
        integer_accuracy: labels.map(|_| ic as f64 / n),
    })
}
