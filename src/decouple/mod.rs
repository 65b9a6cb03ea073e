//! Pass: LIFB layers -> arrays of LIF neurons (docs/semantics.md, "Decoupling").
//!
//! - [`to_lif_groups`]: the group form. Each LIFB neuron becomes B binary sub-units sharing one
//!   membrane, with thresholds theta + (k-1) D and reset amounts rho = (theta, D, D, ...). Exact in
//!   any arithmetic.
//! - [`to_pure_lif`]: the pure-LIF form. B standard LIF units per neuron, each with its own
//!   membrane and subtract-own-threshold reset, plus lateral synapses with a one-step delay.
//!   Exact when the leak is the identity (lam = 1, d = 0); otherwise measured, never assumed.
//!
//! In both forms the next synaptic layer receives every sub-unit's spike through a copy of the
//! original weight, so it sees sum_k w * s_k = w * c.
//!
//! The spike-exact check of a decoupled network against its original is in
//! [`crate::verify::decouple`] (it runs a simulator; this pass does not).

use crate::error::{Error, Result};
pub use crate::ir::Form;
use crate::ir::{self, Conv2d, Dense, Elem, Layer, Leak, LifGroup, LifRecurrent, Network, Reset};

/// Group form: every LIFB layer with B >= 2 becomes a LifGroup layer (LIF layers stay as they are).
pub fn to_lif_groups<T: Elem>(net: &Network<T>) -> Result<Network<T>> {
    rewrite(net, Form::Decoupled)
}

/// Pure-LIF form: every LIFB layer with B >= 2 becomes a LifRecurrent layer; the synaptic layer
/// before it gets its output rows copied B times. Only for the subtract reset.
pub fn to_pure_lif<T: Elem>(net: &Network<T>) -> Result<Network<T>> {
    rewrite(net, Form::PureLif)
}

/// The `form` of `net`: [`Form::Decoupled`] (group) or [`Form::PureLif`].
pub fn decouple<T: Elem>(net: &Network<T>, form: Form) -> Result<Network<T>> {
    if form == Form::Native {
        return Err(Error::bad_input(
            "the native form is the network as it is; decouple to the decoupled (group) or pure-lif form",
        ));
    }
    rewrite(net, form)
}

/// The leak factor as a real number, for the pure-LIF lateral weights lam * (...).
fn lam_of<T: Elem>(net: &Network<T>, leak: Leak) -> f64 {
    match leak {
        Leak::Lambda { lam } => lam as f64,
        Leak::Fixed { d } => {
            let f = net.fixed.as_ref().map_or(0, |f| f.leak_frac_bits);
            1.0 - d as f64 / (1u64 << f) as f64
        }
    }
}

/// lam * x in the network's number type: exact for floats up to rounding, rounded (half away
/// from zero) for integers. Where lam = 1 this is exactly x.
fn scale<T: Elem>(lam: f64, x: f64) -> T {
    T::from_f64_rounded(lam * x)
}

fn rewrite<T: Elem>(net: &Network<T>, form: Form) -> Result<Network<T>> {
    net.validate()?;
    let shapes = net.shapes()?;
    let mut layers: Vec<Layer<T>> = Vec::with_capacity(net.layers.len());
    // After a decoupled layer: (group size, spatial size H*W) that the next synaptic layer's
    // input channels must be expanded by.
    let mut pending: Option<(usize, usize)> = None;
    for (i, layer) in net.layers.iter().enumerate() {
        let input = net.input_shape_of(&shapes, i);
        let out = match layer {
            Layer::Lifb(n) if n.max_burst >= 2 => {
                let g = n.max_burst as usize;
                // Per-layer and per-channel/neuron parameters may mix: one row per neuron that
                // the broadcast distinguishes (all neurons, one per channel, or one).
                let (lt, ls) = (n.threshold.len(), n.spacing.len());
                let rows: Vec<usize> = ir::broadcast_neurons(&[(lt, 1), (ls, 1)], input).collect();
                let mut thresholds = Vec::with_capacity(rows.len() * g);
                let mut rho = Vec::with_capacity(rows.len() * g);
                for &nr in &rows {
                    let th = n.threshold[ir::param_row(lt, 1, input, nr)];
                    let d = n.spacing[ir::param_row(ls, 1, input, nr)];
                    for k in 0..g {
                        let t = ir::burst_threshold(th.to_f64(), d.to_f64(), k as u32);
                        thresholds.push(T::from_f64_rounded(t));
                        rho.push(if k == 0 { th } else { d });
                    }
                }
                let rows = rows.len();
                pending = Some((g, input.h * input.w));
                match form {
                    Form::Native | Form::Decoupled => Layer::LifGroup(LifGroup {
                        leak: n.leak,
                        group: n.max_burst,
                        thresholds,
                        rho,
                        reset: n.reset,
                    }),
                    Form::PureLif => {
                        if n.reset != Reset::Subtract {
                            return Err(Error::bad_input(format!(
                                "{}: the pure-LIF form covers the subtract reset only; use the group form for reset = zero",
                                ir::layer_label(i, layer)
                            )));
                        }
                        let lam = lam_of(net, n.leak);
                        let mut lateral = Vec::with_capacity(rows * g * g);
                        for r in 0..rows {
                            for k in 0..g {
                                for j in 0..g {
                                    let w = if j == k {
                                        thresholds[r * g + k].to_f64() - rho[r * g + k].to_f64()
                                    } else {
                                        -rho[r * g + j].to_f64()
                                    };
                                    lateral.push(scale::<T>(lam, w));
                                }
                            }
                        }
                        let prev = layers.pop().ok_or_else(|| {
                            Error::bad_input("a neuron layer needs a synaptic layer before it")
                        })?;
                        layers.push(copy_output_rows(prev, g, input.h * input.w));
                        Layer::LifRecurrent(LifRecurrent {
                            leak: n.leak,
                            group: n.max_burst,
                            thresholds,
                            lateral,
                        })
                    }
                }
            }
            Layer::Dense(d) => {
                let d = match pending.take() {
                    Some((g, hw)) => expand_dense_inputs(d, g, hw),
                    None => d.clone(),
                };
                Layer::Dense(d)
            }
            Layer::Conv2d(c) => {
                let c = match pending.take() {
                    Some((g, _)) => expand_conv_inputs(c, g),
                    None => c.clone(),
                };
                Layer::Conv2d(c)
            }
            Layer::Pool(p) => {
                if let Some((g, _)) = pending {
                    pending = Some((g, shapes[i].h * shapes[i].w));
                }
                Layer::Pool(*p)
            }
            Layer::Flatten => Layer::Flatten,
            Layer::Lifb(_) | Layer::LifGroup(_) | Layer::LifRecurrent(_) => layer.clone(),
        };
        layers.push(out);
    }
    let mut fixed = net.fixed.clone();
    if let Some(f) = fixed.as_mut() {
        // One scale per layer; the decoupled layers keep their originals' scales.
        f.scales.truncate(layers.len());
        f.scales.resize(layers.len(), 1.0);
    }
    let mut meta = net.meta.clone();
    meta.insert(
        "decoupled".into(),
        // The stored words predate the shared form enum: kept so files stay comparable.
        serde_json::json!(match form {
            Form::Native | Form::Decoupled => "group",
            Form::PureLif => "pure_lif",
        }),
    );
    let out = Network {
        name: net.name.clone(),
        input: net.input.clone(),
        layers,
        fixed,
        meta,
    };
    out.validate_structure()
        .map_err(|e| e.context("decoupled network (a bug: please report)"))?;
    // The pure-LIF form adds lateral currents: a legal network can give an illegal form.
    out.check_bounds()
        .map_err(|e| e.context(format!("the {form} form of this network")))?;
    Ok(out)
}

/// Column (c*hw + p) of the original becomes columns ((c*g + k)*hw + p) for k in 0..g.
fn expand_dense_inputs<T: Copy>(d: &Dense<T>, g: usize, hw: usize) -> Dense<T> {
    let n_in = d.in_features * g;
    let mut weight = Vec::with_capacity(d.out_features * n_in);
    for o in 0..d.out_features {
        let row = &d.weight[o * d.in_features..(o + 1) * d.in_features];
        for j in 0..n_in {
            let (cc, p) = (j / hw, j % hw);
            weight.push(row[(cc / g) * hw + p]);
        }
    }
    Dense {
        in_features: n_in,
        out_features: d.out_features,
        weight,
        bias: d.bias.clone(),
    }
}

fn expand_conv_inputs<T: Copy>(c: &Conv2d<T>, g: usize) -> Conv2d<T> {
    let [kh, kw] = c.kernel;
    let ci_new = c.in_channels * g;
    let mut weight = Vec::with_capacity(c.out_channels * ci_new * kh * kw);
    for o in 0..c.out_channels {
        for ci in 0..ci_new {
            let base = (o * c.in_channels + ci / g) * kh * kw;
            weight.extend_from_slice(&c.weight[base..base + kh * kw]);
        }
    }
    Conv2d {
        in_channels: ci_new,
        weight,
        ..c.clone()
    }
}

/// Output row/channel c becomes g copies c*g + k (the pure-LIF sub-units each need the current).
fn copy_output_rows<T: Copy>(layer: Layer<T>, g: usize, _hw: usize) -> Layer<T> {
    match layer {
        Layer::Dense(d) => {
            let mut weight = Vec::with_capacity(d.weight.len() * g);
            for o in 0..d.out_features {
                for _ in 0..g {
                    weight.extend_from_slice(&d.weight[o * d.in_features..(o + 1) * d.in_features]);
                }
            }
            let bias = d
                .bias
                .map(|b| b.iter().flat_map(|&x| std::iter::repeat_n(x, g)).collect());
            Layer::Dense(Dense {
                in_features: d.in_features,
                out_features: d.out_features * g,
                weight,
                bias,
            })
        }
        Layer::Conv2d(c) => {
            let per = c.in_channels * c.kernel[0] * c.kernel[1];
            let mut weight = Vec::with_capacity(c.weight.len() * g);
            for o in 0..c.out_channels {
                for _ in 0..g {
                    weight.extend_from_slice(&c.weight[o * per..(o + 1) * per]);
                }
            }
            let bias = c
                .bias
                .map(|b| b.iter().flat_map(|&x| std::iter::repeat_n(x, g)).collect());
            Layer::Conv2d(Conv2d {
                out_channels: c.out_channels * g,
                weight,
                bias,
                ..c
            })
        }
        other => other,
    }
}
