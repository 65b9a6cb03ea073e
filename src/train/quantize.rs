//! Fake quantization for quantization-aware training: the forward pass sees parameters rounded
//! to the integer model's grid, the backward pass treats the rounding as identity (straight-through
//! estimator). The grid is the one `crate::quant` uses (the rule lives there; see `layer_scales`).

use super::net::{TLayer, TrainNet};
use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QatConfig {
    /// Signed weight width.
    pub weight_bits: u32,
    /// Unsigned input width: inputs are 0..=2^input_bits - 1.
    pub input_bits: u32,
}

/// Per layer: the weight step (float weight of one integer unit) and the current scale (float
/// current of one integer membrane unit).
#[derive(Debug, Clone, Copy)]
pub struct LayerScale {
    pub weight_step: f32,
    pub current: f32,
}

/// Round half away from zero (f32::round), the quantizer's rounding.
#[inline]
pub fn round_half_away(x: f32) -> f32 {
    x.round()
}

/// The grid of every layer, from the current parameters (the same rule as crate::quant):
/// weight step = max|w| / (2^(bits-1) - 1); a Dense layer's current scale = weight step times
/// its input's scale (for the first layer `quant::input_scale` of the input coding: 1 / input
/// levels for direct coding, 1 for the counts of rate and burst coding; 1 for spike counts,
/// divided by the window after average pooling); a neuron layer uses the current scale of the
/// layer feeding it.
pub fn layer_scales(net: &TrainNet, q: &QatConfig) -> Result<Vec<LayerScale>> {
    let qmax = ((1i64 << (q.weight_bits - 1)) - 1) as f32;
    let mut in_scale = crate::quant::input_scale(net.cfg.coding, q.input_bits);
    let mut cur = 1.0;
    let mut out = Vec::with_capacity(net.layers.len());
    for l in &net.layers {
        match l {
            TLayer::Dense { w, .. } | TLayer::Conv { w, .. } => {
                let m = w.as_tensor().abs()?.max_all()?.to_scalar::<f32>()?;
                let step = if m > 0.0 { m / qmax } else { 1.0 };
                cur = step * in_scale;
                out.push(LayerScale {
                    weight_step: step,
                    current: cur,
                });
            }
            TLayer::Neuron { .. } => {
                in_scale = 1.0;
                out.push(LayerScale {
                    weight_step: 1.0,
                    current: cur,
                })
            }
            // Average pooling: the next layer's input unit is 1/window of a spike.
            TLayer::Pool { kernel } => {
                in_scale /= (kernel * kernel) as f32;
                out.push(LayerScale {
                    weight_step: 1.0,
                    current: 1.0,
                })
            }
            TLayer::Flatten => out.push(LayerScale {
                weight_step: 1.0,
                current: 1.0,
            }),
        }
    }
    Ok(out)
}

fn rounded(t: &Tensor, step: f32, min_units: Option<f32>) -> Result<Tensor> {
    let v = t.flatten_all()?.to_vec1::<f32>()?;
    let q: Vec<f32> = v
        .iter()
        .map(|&x| {
            let mut k = round_half_away(x / step);
            if let Some(m) = min_units {
                k = k.max(m);
            }
            k * step
        })
        .collect();
    Tensor::from_vec(q, t.shape(), t.device())
}

/// x rounded to multiples of `step` in the forward pass, identity in the backward pass.
pub fn ste(x: &Tensor, step: f32) -> Result<Tensor> {
    let q = rounded(x, step, None)?;
    x + (q - x)?.detach()
}

/// As `ste`, but at least one step (thresholds and spacings must stay >= 1 integer unit).
pub fn ste_positive(x: &Tensor, step: f32) -> Result<Tensor> {
    let q = rounded(x, step, Some(1.0))?;
    x + (q - x)?.detach()
}

/// Inputs in [0, 1] as the integer model sees them: round(x * L) / L (round half up, as
/// golden::encode::quantize_input).
pub fn quantize_inputs(x: &[f32], input_bits: u32) -> Vec<f32> {
    let l = ((1u32 << input_bits) - 1) as f32;
    x.iter()
        .map(|&v| crate::golden::encode::quantize_input(v, l as u32) as f32 / l)
        .collect()
}
