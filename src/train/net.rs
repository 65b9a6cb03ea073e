//! The trainable network: an MLP of Dense layers and LIFB (or LIF) neuron layers, simulated for T
//! steps with back-propagation through time. Its forward pass is the float model of
//! src/golden/neuron.rs (`lifb_step_float`) batched on candle tensors:
//!
//!   H = lam * V + X;  c = clamp(floor((H - theta) / D) + 1, 0, B)  (0 below theta);
//!   subtract reset: V = H - theta - (c - 1) * D when c >= 1, else H;  zero reset: V = 0 when c >= 1.
//!
//! Layers chain within a step; with a constant input coding (direct, burst) the first layer's
//! current is the same every step, so it is computed once; rate coding gives each step its own.
//! theta and D are learnable per neuron (per channel of a flat layer);
//! for LIF (B = 1) D plays no role and stays fixed at 1. The reset uses the spike count without
//! its surrogate gradient (a detached reset), which trains more stably.

use super::quantize::{self as fq, QatConfig};
use super::spike::SpikeCount;
use crate::golden::encode::encode_float;
use crate::ir::{
    Conv2d, Dense, Encoding, FloatNetwork, InputSpec, Layer, Leak, Lifb, Network, Pool, PoolKind,
    Reset, Shape,
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

/// One block of an architecture string. Every Conv and every Dense but a current-readout last
/// one is followed by a neuron layer; a Flatten is inserted before the first Dense after a Conv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// "c{channels}k{kernel}": stride 1, zero padding kernel/2.
    Conv { channels: usize, kernel: usize },
    /// "p{k}": average pooling k x k, stride k (on spike counts).
    Pool { kernel: usize },
    /// "{n}": fully connected to n outputs.
    Dense { out: usize },
}

/// Everything that fixes the network's structure and neuron model (stored in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    /// The architecture as given ("784-256-10", "c8k3-p2-64-10").
    pub arch: String,
    pub input: Shape,
    pub blocks: Vec<Block>,
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
    /// How an image becomes the first layer's input at each step (direct, rate or burst coding:
    /// golden::encode, the same functions the golden model and the co-simulation use).
    #[serde(default = "direct_coding")]
    pub coding: Encoding,
}

fn direct_coding() -> Encoding {
    Encoding::Direct
}

/// A batch as the first layer sees it: one tensor for every step (a constant coding: direct,
/// burst), or one per step (rate coding).
pub enum StepInputs {
    Constant(Tensor),
    PerStep(Vec<Tensor>),
}

impl StepInputs {
    /// Encode `x` (n samples of `n_in` values in [0, 1]) for `steps` steps; `keys[j]` is sample
    /// j's number for the rate coder's randomness.
    pub fn encode(
        coding: Encoding,
        x: &[f32],
        n_in: usize,
        keys: &[u64],
        steps: u32,
        dev: &Device,
    ) -> Result<Self> {
        let n = keys.len();
        let mut one = Vec::with_capacity(n_in);
        let mut step_tensor = |step: u32| -> Result<Tensor> {
            let mut v = Vec::with_capacity(n * n_in);
            for (j, &key) in keys.iter().enumerate() {
                encode_float(coding, &x[j * n_in..(j + 1) * n_in], key, step, &mut one);
                v.extend_from_slice(&one);
            }
            Tensor::from_vec(v, (n, n_in), dev)
        };
        Ok(match coding {
            Encoding::Direct => {
                StepInputs::Constant(Tensor::from_slice(&x[..n * n_in], (n, n_in), dev)?)
            }
            c if c.is_constant() => StepInputs::Constant(step_tensor(0)?),
            _ => StepInputs::PerStep((0..steps).map(&mut step_tensor).collect::<Result<_>>()?),
        })
    }

    fn at(&self, step: u32) -> &Tensor {
        match self {
            StepInputs::Constant(t) => t,
            StepInputs::PerStep(v) => &v[step as usize],
        }
    }
}

pub enum TLayer {
    Dense {
        w: Var,
        b: Var,
    },
    Conv {
        /// [out, in, k, k]
        w: Var,
        b: Var,
        padding: usize,
    },
    Pool {
        kernel: usize,
    },
    Flatten,
    Neuron {
        /// Per channel: [C].
        theta: Var,
        spacing: Var,
        op: SpikeCount,
        /// Follows a Conv: parameters broadcast as [C, 1, 1, 1] over channel-major maps.
        spatial: bool,
    },
}

/// Spike readout: the initial logit range 0..=4 of every neuron type and T (the range raw counts
/// had for LIF at T = 4, a setting that trained well with both neurons).
pub const INITIAL_LOGIT_RANGE: f32 = 4.0;

pub struct TrainNet {
    pub cfg: NetConfig,
    pub layers: Vec<TLayer>,
    /// Spike readout only: the learned log-temperature s of the logits exp(s) * counts / (T * B)
    /// (`logits`). Training-only: the argmax, and so the exported network, does not depend on it.
    pub log_temperature: Option<Var>,
}

/// Parameters as the forward pass uses them (fake-quantized during quantization-aware training).
enum ELayer {
    Dense {
        wt: Tensor,
        b: Tensor,
    },
    Conv {
        w: Tensor,
        /// [C]
        b: Tensor,
        padding: usize,
    },
    Pool {
        kernel: usize,
    },
    Flatten,
    Neuron {
        theta: Tensor,
        spacing: Tensor,
        op: SpikeCount,
    },
}

/// Parse an architecture: "784-256-10" (an MLP; the first number is the input width) or, for
/// image inputs of shape `image`, blocks like "c8k3-p2-64-10" (conv 8 channels 3x3, average
/// pooling 2x2, dense 64, dense 10).
pub fn parse_arch(s: &str, image: Shape) -> std::result::Result<(Shape, Vec<Block>), String> {
    let bad = |why: &str| {
        format!("architecture '{s}': {why}. Examples: 784-256-10 (MLP, input width first), c8k3-p2-64-10 (conv 8x3x3, avg pool 2, dense 64, dense 10)")
    };
    let toks: Vec<&str> = s.split('-').map(str::trim).collect();
    let num = |t: &str| {
        t.parse::<usize>()
            .ok()
            .filter(|&n| (1..=1 << 16).contains(&n))
    };
    let (input, rest) = match num(toks[0]) {
        Some(n) => (Shape::flat(n), &toks[1..]),
        None => (image, &toks[..]),
    };
    let mut blocks = Vec::new();
    for t in rest {
        let b = if let Some(n) = num(t) {
            Block::Dense { out: n }
        } else if let Some(r) = t.strip_prefix('p') {
            Block::Pool {
                kernel: num(r)
                    .filter(|&k| k <= 8)
                    .ok_or_else(|| bad(&format!("bad pooling '{t}'")))?,
            }
        } else if let Some(r) = t.strip_prefix('c') {
            let (c, k) = r
                .split_once('k')
                .ok_or_else(|| bad(&format!("bad conv '{t}'")))?;
            match (num(c), num(k).filter(|&k| k <= 15)) {
                (Some(channels), Some(kernel)) => Block::Conv { channels, kernel },
                _ => return Err(bad(&format!("bad conv '{t}'"))),
            }
        } else {
            return Err(bad(&format!("unknown block '{t}'")));
        };
        blocks.push(b);
    }
    if !matches!(blocks.last(), Some(Block::Dense { .. })) {
        return Err(bad("it must end with a dense width (the classes)"));
    }
    if input.is_flat() && blocks.iter().any(|b| !matches!(b, Block::Dense { .. })) {
        return Err(bad(
            "conv and pooling need image input; drop the leading input width",
        ));
    }
    Ok((input, blocks))
}

impl TrainNet {
    /// Fresh parameters: weights uniform in +-1/sqrt(fan_in) (PyTorch's default), biases 0,
    /// theta and D at their initial values. Seeded.
    pub fn new(cfg: NetConfig, rng: &mut impl Rng, dev: &Device) -> Result<Self> {
        let mut layers = Vec::new();
        let mut shape = cfg.input;
        let n = cfg.blocks.len();
        let neuron = |c: usize, spatial: bool| -> Result<TLayer> {
            Ok(TLayer::Neuron {
                theta: Var::from_tensor(&Tensor::full(cfg.theta0, c, dev)?)?,
                spacing: Var::from_tensor(&Tensor::full(
                    if cfg.max_burst > 1 { cfg.spacing0 } else { 1.0 },
                    c,
                    dev,
                )?)?,
                op: SpikeCount {
                    max_burst: cfg.max_burst,
                    alpha: cfg.alpha,
                },
                spatial,
            })
        };
        let mut uniform = |len: usize, fan_in: usize| -> Vec<f32> {
            let bound = 1.0 / (fan_in as f32).sqrt();
            (0..len).map(|_| rng.random_range(-bound..bound)).collect()
        };
        for (i, blk) in cfg.blocks.iter().enumerate() {
            match *blk {
                Block::Conv { channels, kernel } => {
                    let ci = shape.c;
                    let fan_in = ci * kernel * kernel;
                    let w = uniform(channels * fan_in, fan_in);
                    let padding = kernel / 2;
                    layers.push(TLayer::Conv {
                        w: Var::from_tensor(&Tensor::from_vec(
                            w,
                            (channels, ci, kernel, kernel),
                            dev,
                        )?)?,
                        b: Var::from_tensor(&Tensor::zeros(channels, DType::F32, dev)?)?,
                        padding,
                    });
                    shape = Shape::chw(
                        channels,
                        shape.h + 2 * padding + 1 - kernel,
                        shape.w + 2 * padding + 1 - kernel,
                    );
                    layers.push(neuron(channels, true)?);
                }
                Block::Pool { kernel } => {
                    layers.push(TLayer::Pool { kernel });
                    shape = Shape::chw(shape.c, shape.h / kernel, shape.w / kernel);
                }
                Block::Dense { out } => {
                    if !shape.is_flat() {
                        layers.push(TLayer::Flatten);
                        shape = Shape::flat(shape.len());
                    }
                    let fi = shape.len();
                    let w = uniform(fi * out, fi);
                    layers.push(TLayer::Dense {
                        w: Var::from_tensor(&Tensor::from_vec(w, (out, fi), dev)?)?,
                        b: Var::from_tensor(&Tensor::zeros(out, DType::F32, dev)?)?,
                    });
                    shape = Shape::flat(out);
                    if i + 1 < n || cfg.readout == ReadoutKind::Spikes {
                        layers.push(neuron(out, false)?);
                    }
                }
            }
        }
        let log_temperature = match cfg.readout {
            ReadoutKind::Spikes => Some(Var::from_tensor(&Tensor::full(
                INITIAL_LOGIT_RANGE.ln(),
                1,
                dev,
            )?)?),
            ReadoutKind::Current => None,
        };
        Ok(TrainNet {
            cfg,
            layers,
            log_temperature,
        })
    }

    /// Every variable in a fixed order (checkpoints rely on it), with whether it is trained and
    /// whether weight decay applies.
    pub fn params(&self) -> Vec<(Var, bool, bool)> {
        let mut v = Vec::new();
        for l in &self.layers {
            match l {
                TLayer::Dense { w, b } | TLayer::Conv { w, b, .. } => {
                    v.push((w.clone(), true, true));
                    v.push((b.clone(), true, false));
                }
                TLayer::Neuron {
                    theta, spacing, op, ..
                } => {
                    v.push((theta.clone(), true, false));
                    v.push((spacing.clone(), op.max_burst > 1, false));
                }
                TLayer::Pool { .. } | TLayer::Flatten => {}
            }
        }
        if let Some(s) = &self.log_temperature {
            v.push((s.clone(), true, false));
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
                TLayer::Conv { w, b, padding } => {
                    let (w, b) = (d(w.as_tensor()), d(b.as_tensor()));
                    let (w, b) = match &scales {
                        Some(s) => (fq::ste(&w, s[i].weight_step)?, fq::ste(&b, s[i].current)?),
                        None => (w, b),
                    };
                    ELayer::Conv {
                        w,
                        b,
                        padding: *padding,
                    }
                }
                TLayer::Pool { kernel } => ELayer::Pool { kernel: *kernel },
                TLayer::Flatten => ELayer::Flatten,
                TLayer::Neuron {
                    theta,
                    spacing,
                    op,
                    spatial,
                } => {
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
                    let (th, sp) = if *spatial {
                        let c = th.dim(0)?;
                        (th.reshape((c, 1, 1, 1))?, sp.reshape((c, 1, 1, 1))?)
                    } else {
                        (th, sp)
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

    /// Readout scores [N, classes] summed over `steps` for encoded inputs (values as the first
    /// layer sees them, [N, in] per step). With `detach` no gradient graph is built through the
    /// parameters.
    pub fn forward(
        &self,
        inputs: &StepInputs,
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
        let input = self.cfg.input;
        // Conv blocks run on channel-major maps [C, N, H, W] (see conv.rs); Flatten turns them
        // back into rows [N, C*H*W] in the IR's (c, y, x) order.
        let layout = |x: &Tensor| -> Result<Tensor> {
            if input.is_flat() {
                Ok(x.clone())
            } else {
                x.reshape((x.dim(0)?, input.c, input.h, input.w))?
                    .transpose(0, 1)?
                    .contiguous()
            }
        };
        let constant = match inputs {
            StepInputs::Constant(x) => Some(layout(x)?),
            StepInputs::PerStep(_) => None,
        };
        for step in 0..steps {
            let x = match &constant {
                Some(x) => x.clone(),
                None => layout(inputs.at(step))?,
            };
            let mut cur = x.clone();
            for (li, l) in layers.iter().enumerate() {
                match l {
                    ELayer::Dense { wt, b } => {
                        cur = if li == 0 {
                            match &first {
                                Some(f) => f.clone(),
                                None => {
                                    let f = x.matmul(wt)?.broadcast_add(b)?;
                                    if constant.is_some() {
                                        first = Some(f.clone());
                                    }
                                    f
                                }
                            }
                        } else {
                            cur.matmul(wt)?.broadcast_add(b)?
                        };
                    }
                    ELayer::Conv { w, b, padding } => {
                        let conv = |t: &Tensor| super::conv::conv2d(t, w, b, *padding);
                        cur = if li == 0 {
                            match &first {
                                Some(f) => f.clone(),
                                None => {
                                    let f = conv(&x)?;
                                    if constant.is_some() {
                                        first = Some(f.clone());
                                    }
                                    f
                                }
                            }
                        } else {
                            conv(&cur)?
                        };
                    }
                    ELayer::Pool { kernel } => cur = super::conv::avg_pool2d(&cur, *kernel)?,
                    ELayer::Flatten => cur = cur.transpose(0, 1)?.flatten_from(1)?,
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

    /// Logits for the cross-entropy: the mean current per step, or the spike counts as a
    /// fraction of their maximum T * B times a learned temperature exp(s). Raw summed counts
    /// (0..=T*B) made the softmax ever sharper with T and B (a Fashion-MNIST run at T = 8, B = 3
    /// stalled from its first epoch) and flat for LIF at T = 1 (0..=1); normalized, every neuron
    /// and T starts from the same logit range (`INITIAL_LOGIT_RANGE`) and training sets the
    /// sharpness.
    pub fn logits(&self, readout: &Tensor, steps: u32) -> Result<Tensor> {
        match &self.log_temperature {
            Some(s) => readout
                .affine(1.0 / (steps as f64 * self.cfg.max_burst as f64), 0.0)?
                .broadcast_mul(&s.as_tensor().exp()?),
            None => readout.affine(1.0 / steps as f64, 0.0),
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
                ELayer::Conv { w, b, padding } => {
                    let (co, ci, kh, kw) = w.dims4()?;
                    Layer::Conv2d(Conv2d {
                        in_channels: ci,
                        out_channels: co,
                        kernel: [kh, kw],
                        stride: [1, 1],
                        padding: [*padding, *padding],
                        weight: w.flatten_all()?.to_vec1()?,
                        bias: Some(b.flatten_all()?.to_vec1()?),
                    })
                }
                ELayer::Pool { kernel } => Layer::Pool(Pool {
                    kind: PoolKind::Avg,
                    kernel: [*kernel, *kernel],
                    stride: [*kernel, *kernel],
                }),
                ELayer::Flatten => Layer::Flatten,
                ELayer::Neuron { theta, spacing, op } => Layer::Lifb(Lifb {
                    leak: Leak::Lambda { lam: self.cfg.lam },
                    threshold: theta.flatten_all()?.to_vec1()?,
                    spacing: if op.max_burst > 1 {
                        spacing.flatten_all()?.to_vec1()?
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
                shape: self.cfg.input,
                encoding: self.cfg.coding,
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
