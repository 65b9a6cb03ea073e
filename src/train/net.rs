//! The trainable network: an MLP of Dense layers and LIFB (or LIF) neuron layers, simulated for T
//! steps with back-propagation through time. Its forward pass is the float model of
//! src/golden/neuron.rs (`lifb_step_float`) batched on candle tensors:
//!
//!   H = lam * V + X;  c = clamp(floor((H - theta) / D) + 1, 0, B)  (0 below theta);
//!   subtract reset: V = H - theta - (c - 1) * D when c >= 1, else H;  zero reset: V = 0 when c >= 1.
//!
//! Layers chain within a step; the first layer's current is the same every step (direct coding),
//! so it is computed once. theta and D are learnable per neuron (per channel of a flat layer);
//! for LIF (B = 1) D plays no role and stays fixed at 1. The reset uses the spike count without
//! its surrogate gradient (a detached reset), which trains more stably.

use super::quantize::{self as fq, QatConfig};
use super::spike::SpikeCount;
use crate::ir::{
    Dense, Encoding, FloatNetwork, InputSpec, Layer, Leak, Lifb, Network, Reset, Shape,
};
use candle_core::{DType, Device, Result, Tensor, Var, D};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ReadoutKind {
    /// A final Dense layer whose currents are summed over the steps (integrator readout).
    Current,
    /// A final LIFB layer whose spike counts are summed over the steps.
    Spikes,
}

/// Everything that fixes the network's structure and neuron model (stored in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    /// Layer widths, input first: [784, 256, 10].
    pub arch: Vec<usize>,
    /// Max spikes per step of the hidden (and spiking output) neurons; 1 = LIF.
    pub max_burst: u32,
    /// Leak factor lam of every neuron layer (1 = IF; 1 - 2^-k quantizes exactly).
    pub lam: f32,
    pub reset: Reset,
    pub readout: ReadoutKind,
    /// Surrogate sharpness (see spike.rs).
    pub alpha: f32,
    /// Initial threshold and spacing.
    pub theta0: f32,
    pub spacing0: f32,
}

pub enum TLayer {
    Dense {
        w: Var,
        b: Var,
    },
    Neuron {
        theta: Var,
        spacing: Var,
        op: SpikeCount,
    },
}

pub struct TrainNet {
    pub cfg: NetConfig,
    pub layers: Vec<TLayer>,
}

/// Parameters as the forward pass uses them (fake-quantized during quantization-aware training).
enum ELayer {
    Dense {
        wt: Tensor,
        b: Tensor,
    },
    Neuron {
        theta: Tensor,
        spacing: Tensor,
        op: SpikeCount,
    },
}

/// Parse "784-256-10".
pub fn parse_arch(s: &str) -> std::result::Result<Vec<usize>, String> {
    let v: std::result::Result<Vec<usize>, _> = s.split('-').map(|p| p.trim().parse()).collect();
    match v {
        Ok(v) if v.len() >= 2 && v.iter().all(|&n| (1..=1 << 16).contains(&n)) => Ok(v),
        _ => Err(format!(
            "architecture '{s}' is not a list of widths like 784-256-10 (input first, at least two, each 1..=65536)"
        )),
    }
}

impl TrainNet {
    /// Fresh parameters: weights uniform in +-1/sqrt(fan_in) (PyTorch's default), biases 0,
    /// theta and D at their initial values. Seeded.
    pub fn new(cfg: NetConfig, rng: &mut impl Rng, dev: &Device) -> Result<Self> {
        let mut layers = Vec::new();
        let n = cfg.arch.len();
        for i in 0..n - 1 {
            let (fi, fo) = (cfg.arch[i], cfg.arch[i + 1]);
            let bound = 1.0 / (fi as f32).sqrt();
            let w: Vec<f32> = (0..fi * fo)
                .map(|_| rng.random_range(-bound..bound))
                .collect();
            layers.push(TLayer::Dense {
                w: Var::from_tensor(&Tensor::from_vec(w, (fo, fi), dev)?)?,
                b: Var::from_tensor(&Tensor::zeros(fo, DType::F32, dev)?)?,
            });
            let last = i == n - 2;
            if !last || cfg.readout == ReadoutKind::Spikes {
                layers.push(TLayer::Neuron {
                    theta: Var::from_tensor(&Tensor::full(cfg.theta0, fo, dev)?)?,
                    spacing: Var::from_tensor(&Tensor::full(
                        if cfg.max_burst > 1 { cfg.spacing0 } else { 1.0 },
                        fo,
                        dev,
                    )?)?,
                    op: SpikeCount {
                        max_burst: cfg.max_burst,
                        alpha: cfg.alpha,
                    },
                });
            }
        }
        Ok(TrainNet { cfg, layers })
    }

    /// Every variable in a fixed order (checkpoints rely on it), with whether it is trained and
    /// whether weight decay applies.
    pub fn params(&self) -> Vec<(Var, bool, bool)> {
        let mut v = Vec::new();
        for l in &self.layers {
            match l {
                TLayer::Dense { w, b } => {
                    v.push((w.clone(), true, true));
                    v.push((b.clone(), true, false));
                }
                TLayer::Neuron { theta, spacing, op } => {
                    v.push((theta.clone(), true, false));
                    v.push((spacing.clone(), op.max_burst > 1, false));
                }
            }
        }
        v
    }

    /// Keep thresholds and spacings positive (the IR requires > 0).
    pub fn clamp_neurons(&self) -> Result<()> {
        for l in &self.layers {
            if let TLayer::Neuron { theta, spacing, .. } = l {
                theta.set(&theta.as_tensor().clamp(0.01f32, f32::MAX)?)?;
                spacing.set(&spacing.as_tensor().clamp(0.01f32, f32::MAX)?)?;
            }
        }
        Ok(())
    }

    fn effective(&self, qat: Option<&QatConfig>, detach: bool) -> Result<Vec<ELayer>> {
        let d = |t: &Tensor| if detach { t.detach() } else { t.clone() };
        let scales = match qat {
            Some(q) => Some(fq::layer_scales(self, q)?),
            None => None,
        };
        let mut out = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            out.push(match l {
                TLayer::Dense { w, b } => {
                    let (w, b) = (d(w.as_tensor()), d(b.as_tensor()));
                    let (w, b) = match &scales {
                        Some(s) => (fq::ste(&w, s[i].weight_step)?, fq::ste(&b, s[i].current)?),
                        None => (w, b),
                    };
                    ELayer::Dense { wt: w.t()?, b }
                }
                TLayer::Neuron { theta, spacing, op } => {
                    let (th, sp) = (d(theta.as_tensor()), d(spacing.as_tensor()));
                    let (th, sp) = match &scales {
                        Some(s) => (
                            fq::ste_positive(&th, s[i].current)?,
                            if op.max_burst > 1 {
                                fq::ste_positive(&sp, s[i].current)?
                            } else {
                                sp
                            },
                        ),
                        None => (th, sp),
                    };
                    ELayer::Neuron {
                        theta: th,
                        spacing: sp,
                        op: *op,
                    }
                }
            });
        }
        Ok(out)
    }

    /// Readout scores [N, classes] summed over `steps` for inputs x [N, in] (values as the first
    /// layer sees them). With `detach` no gradient graph is built through the parameters.
    pub fn forward(
        &self,
        x: &Tensor,
        steps: u32,
        qat: Option<&QatConfig>,
        detach: bool,
    ) -> Result<Tensor> {
        let layers = self.effective(qat, detach)?;
        let lam = self.cfg.lam as f64;
        let reset = self.cfg.reset;
        let mut v: Vec<Option<Tensor>> = (0..layers.len()).map(|_| None).collect();
        let mut first: Option<Tensor> = None;
        let mut readout: Option<Tensor> = None;
        for _ in 0..steps {
            let mut cur = x.clone();
            for (li, l) in layers.iter().enumerate() {
                match l {
                    ELayer::Dense { wt, b } => {
                        cur = if li == 0 {
                            match &first {
                                Some(f) => f.clone(),
                                None => {
                                    let f = x.matmul(wt)?.broadcast_add(b)?;
                                    first = Some(f.clone());
                                    f
                                }
                            }
                        } else {
                            cur.matmul(wt)?.broadcast_add(b)?
                        };
                    }
                    ELayer::Neuron { theta, spacing, op } => {
                        let h = match &v[li] {
                            Some(v) if lam == 1.0 => (v + &cur)?,
                            Some(v) => (v.affine(lam, 0.0)? + &cur)?,
                            None => cur.clone(),
                        };
                        let diff = h.broadcast_sub(theta)?;
                        let u = if op.max_burst > 1 {
                            diff.broadcast_div(spacing)?
                        } else {
                            diff
                        };
                        let c = op.apply(&u)?;
                        let cd = c.detach();
                        let fired = cd.clamp(0f32, 1f32)?;
                        let newv = match reset {
                            Reset::Subtract => {
                                let mut r = h.sub(&fired.broadcast_mul(theta)?)?;
                                if op.max_burst > 1 {
                                    r = r.sub(&(cd - &fired)?.broadcast_mul(spacing)?)?;
                                }
                                r
                            }
                            Reset::Zero => h.mul(&fired.affine(-1.0, 1.0)?)?,
                        };
                        v[li] = Some(newv);
                        cur = c;
                    }
                }
            }
            readout = Some(match readout {
                Some(r) => (r + cur)?,
                None => cur,
            });
        }
        readout.ok_or_else(|| candle_core::Error::Msg("steps must be >= 1".into()))
    }

    /// Logits for the cross-entropy: mean current per step, or summed spike counts.
    pub fn logits(&self, readout: &Tensor, steps: u32) -> Result<Tensor> {
        match self.cfg.readout {
            ReadoutKind::Current => readout.affine(1.0 / steps as f64, 0.0),
            ReadoutKind::Spikes => Ok(readout.clone()),
        }
    }

    /// The float network the golden simulator runs (fake-quantized parameters under QAT, so the
    /// quantizer maps them onto the integer grid without further rounding).
    pub fn export(&self, name: &str, qat: Option<&QatConfig>) -> Result<FloatNetwork> {
        let layers = self.effective(qat, true)?;
        let mut out = Vec::new();
        for l in &layers {
            out.push(match l {
                ELayer::Dense { wt, b } => {
                    let w = wt.t()?.contiguous()?;
                    let (fo, fi) = w.dims2()?;
                    Layer::Dense(Dense {
                        in_features: fi,
                        out_features: fo,
                        weight: w.flatten_all()?.to_vec1()?,
                        bias: Some(b.to_vec1()?),
                    })
                }
                ELayer::Neuron { theta, spacing, op } => Layer::Lifb(Lifb {
                    leak: Leak::Lambda { lam: self.cfg.lam },
                    threshold: theta.to_vec1()?,
                    spacing: if op.max_burst > 1 {
                        spacing.to_vec1()?
                    } else {
                        vec![1.0]
                    },
                    max_burst: op.max_burst,
                    reset: self.cfg.reset,
                }),
            });
        }
        Ok(Network {
            name: name.to_string(),
            input: InputSpec {
                shape: Shape::flat(self.cfg.arch[0]),
                encoding: Encoding::Direct,
            },
            layers: out,
            fixed: None,
            meta: BTreeMap::new(),
        })
    }
}

/// Mean cross-entropy of logits [N, C] against labels [N] (u32), and the number of correct
/// argmax predictions (first maximum wins, as in the golden simulator).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let z = logits.broadcast_sub(&max)?;
    let lse = z.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let picked = z.gather(&labels.unsqueeze(1)?, 1)?;
    (lse - picked)?.mean_all()
}

/// Predicted classes (first index of the maximum) of readout scores [N, C].
pub fn predictions(readout: &Tensor) -> Result<Vec<usize>> {
    let rows = readout.to_vec2::<f32>()?;
    Ok(rows
        .iter()
        .map(|r| {
            let mut best = 0;
            for (i, &x) in r.iter().enumerate() {
                if x > r[best] {
                    best = i;
                }
            }
            best
        })
        .collect())
}
