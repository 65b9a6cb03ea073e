//! The golden simulator, one implementation for both number types: `Sim<i32>` is the bit-exact
//! integer reference for the RTL, `Sim<f32>` the float model. Event-driven: a zero input count
//! costs nothing. Layers chain with no delay within a step (docs/semantics.md).

use super::encode;
use super::neuron::{group_step, group_step_float, lifb_step, lifb_step_float, Fixed};
use super::trace::{LayerTrace, SampleTrace};
use crate::error::{Error, Result};
use crate::ir::{self, Elem, Layer, Leak, Network, PoolKind, Reset, Shape};
use std::ops::{Add, AddAssign, Mul};

/// What the simulator needs of a number type: the arithmetic of currents and the neuron update.
pub trait SimElem: Elem + Add<Output = Self> + AddAssign + Mul<Output = Self> {
    /// Membrane type: i64 for integers (saturated to the membrane width), f32 for floats.
    type Mem: Copy + Default + std::fmt::Debug + Send + Sync + Add<Output = Self::Mem>;
    /// Per-layer neuron constants (leak, saturation bounds).
    type Consts: Copy + std::fmt::Debug + Send + Sync;
    /// The first layer's input sample type: u32 integers or f32 in [0, 1].
    type Input: Copy + Default + std::fmt::Debug + Send + Sync;

    fn consts(net: &Network<Self>, leak: Leak) -> Self::Consts;
    fn mem(x: Self) -> Self::Mem;
    fn from_count(c: u32) -> Self;
    fn from_input(x: Self::Input) -> Self;
    fn mem_f64(v: Self::Mem) -> f64;
    fn lifb(
        k: &Self::Consts,
        v: &mut Self::Mem,
        x: Self,
        th: Self::Mem,
        sp: Self::Mem,
        b: u32,
        r: Reset,
    ) -> u32;
    /// As `lifb`, with the current already in the membrane type (a current plus lateral inputs,
    /// summed in i64 for integers: no wrap-around, whatever the operands).
    fn lifb_wide(
        k: &Self::Consts,
        v: &mut Self::Mem,
        x: Self::Mem,
        th: Self::Mem,
        sp: Self::Mem,
        b: u32,
        r: Reset,
    ) -> u32;
    fn group(
        k: &Self::Consts,
        v: &mut Self::Mem,
        x: Self,
        th: &[Self::Mem],
        rho: &[Self::Mem],
        r: Reset,
        s: &mut [u32],
    ) -> u32;
    fn encode(
        enc: ir::Encoding,
        values: &[Self::Input],
        max: u32,
        sample: u64,
        step: u32,
        out: &mut Vec<Self::Input>,
    );
    fn check_input(values: &[Self::Input], max: u32) -> Result<()>;
    fn is_zero_input(x: Self::Input) -> bool;
    /// 1 / (kh * kw) for average pooling (floats only; integer networks have no avg pooling).
    fn pool_scale(window: usize) -> Option<f32>;
    fn scale_count(c: u32, s: f32) -> Self;
    /// How transposed weight rows are stored (i16 for integers: weights are at most 16 bits).
    type W: Copy + Default + std::fmt::Debug + Send + Sync;
    fn to_w(x: Self) -> Self::W;
    /// acc += c * row (c = 1 is the common case of a single spike).
    fn add_row(acc: &mut [Self], row: &[Self::W], c: Self);
}

impl SimElem for i32 {
    type Mem = i64;
    type Consts = Fixed;
    type Input = u32;
    fn consts(net: &Network<i32>, leak: Leak) -> Fixed {
        let f = net.fixed.as_ref().expect("validated integer network");
        let d = match leak {
            Leak::Fixed { d } => d as i64,
            Leak::Lambda { .. } => unreachable!("validated integer network"),
        };
        Fixed {
            v_min: f.v_min(),
            v_max: f.v_max(),
            leak_d: d,
            leak_frac: f.leak_frac_bits,
        }
    }
    fn mem(x: i32) -> i64 {
        x as i64
    }
    fn from_count(c: u32) -> i32 {
        c as i32
    }
    fn from_input(x: u32) -> i32 {
        x as i32
    }
    fn mem_f64(v: i64) -> f64 {
        v as f64
    }
    #[inline]
    fn lifb(k: &Fixed, v: &mut i64, x: i32, th: i64, sp: i64, b: u32, r: Reset) -> u32 {
        lifb_step(k, v, x as i64, th, sp, b, r)
    }
    #[inline]
    fn lifb_wide(k: &Fixed, v: &mut i64, x: i64, th: i64, sp: i64, b: u32, r: Reset) -> u32 {
        lifb_step(k, v, x, th, sp, b, r)
    }
    #[inline]
    fn group(
        k: &Fixed,
        v: &mut i64,
        x: i32,
        th: &[i64],
        rho: &[i64],
        r: Reset,
        s: &mut [u32],
    ) -> u32 {
        group_step(k, v, x as i64, th, rho, r, s)
    }
    fn encode(
        enc: ir::Encoding,
        values: &[u32],
        max: u32,
        sample: u64,
        step: u32,
        out: &mut Vec<u32>,
    ) {
        encode::encode_int(enc, values, max, sample, step, out)
    }
    fn check_input(values: &[u32], max: u32) -> Result<()> {
        if let Some((i, v)) = values.iter().enumerate().find(|(_, &v)| v > max) {
            return Err(Error::bad_input(format!(
                "input value [{i}] = {v} exceeds the integer input maximum {max}"
            )));
        }
        Ok(())
    }
    fn is_zero_input(x: u32) -> bool {
        x == 0
    }
    fn pool_scale(_: usize) -> Option<f32> {
        None
    }
    fn scale_count(c: u32, _: f32) -> i32 {
        c as i32
    }
    type W = i16;
    fn to_w(x: i32) -> i16 {
        x as i16 // validated: weights fit weight_bits <= 16
    }
    #[inline]
    fn add_row(acc: &mut [i32], row: &[i16], c: i32) {
        kernels::add_row_i16(acc, row, c)
    }
}

impl SimElem for f32 {
    type Mem = f32;
    type Consts = f32;
    type Input = f32;
    fn consts(_: &Network<f32>, leak: Leak) -> f32 {
        match leak {
            Leak::Lambda { lam } => lam,
            Leak::Fixed { .. } => unreachable!("validated float network"),
        }
    }
    fn mem(x: f32) -> f32 {
        x
    }
    fn from_count(c: u32) -> f32 {
        c as f32
    }
    fn from_input(x: f32) -> f32 {
        x
    }
    fn mem_f64(v: f32) -> f64 {
        v as f64
    }
    #[inline]
    fn lifb(lam: &f32, v: &mut f32, x: f32, th: f32, sp: f32, b: u32, r: Reset) -> u32 {
        lifb_step_float(*lam, v, x, th, sp, b, r)
    }
    #[inline]
    fn lifb_wide(lam: &f32, v: &mut f32, x: f32, th: f32, sp: f32, b: u32, r: Reset) -> u32 {
        lifb_step_float(*lam, v, x, th, sp, b, r)
    }
    #[inline]
    fn group(
        lam: &f32,
        v: &mut f32,
        x: f32,
        th: &[f32],
        rho: &[f32],
        r: Reset,
        s: &mut [u32],
    ) -> u32 {
        group_step_float(*lam, v, x, th, rho, r, s)
    }
    fn encode(
        enc: ir::Encoding,
        values: &[f32],
        _: u32,
        sample: u64,
        step: u32,
        out: &mut Vec<f32>,
    ) {
        encode::encode_float(enc, values, sample, step, out)
    }
    fn check_input(values: &[f32], _: u32) -> Result<()> {
        if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::bad_input(format!(
                "input value [{i}] = {v} is not finite"
            )));
        }
        Ok(())
    }
    fn is_zero_input(x: f32) -> bool {
        x == 0.0
    }
    fn pool_scale(window: usize) -> Option<f32> {
        Some(1.0 / window as f32)
    }
    fn scale_count(c: u32, s: f32) -> f32 {
        c as f32 * s
    }
    type W = f32;
    fn to_w(x: f32) -> f32 {
        x
    }
    #[inline]
    fn add_row(acc: &mut [f32], row: &[f32], c: f32) {
        acc.iter_mut().zip(row).for_each(|(a, &w)| *a += c * w);
    }
}

/// The inner loop of every synaptic layer, with an AVX2 build chosen at run time where the CPU
/// has it (the portable build only gets SSE2).
mod kernels {
    #[inline]
    pub fn add_row_i16(acc: &mut [i32], row: &[i16], c: i32) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked above).
                unsafe { add_row_avx2(acc, row, c) };
                return;
            }
        }
        add_row_portable(acc, row, c)
    }

    #[inline(always)]
    fn add_row_portable(acc: &mut [i32], row: &[i16], c: i32) {
        let n = acc.len().min(row.len());
        let (acc, row) = (&mut acc[..n], &row[..n]);
        // Fixed-size array chunks: no bounds checks, straight vector code.
        let mut a = acc.chunks_exact_mut(16);
        let mut r = row.chunks_exact(16);
        for (a, r) in (&mut a).zip(&mut r) {
            let a: &mut [i32; 16] = a.try_into().expect("chunk of 16");
            let r: &[i16; 16] = r.try_into().expect("chunk of 16");
            for k in 0..16 {
                a[k] += c * r[k] as i32;
            }
        }
        for (a, &w) in a.into_remainder().iter_mut().zip(r.remainder()) {
            *a += c * w as i32;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_row_avx2(acc: &mut [i32], row: &[i16], c: i32) {
        add_row_portable(acc, row, c)
    }
}

/// A compiled network, ready to simulate many samples.
#[derive(Debug, Clone)]
pub struct Sim<T: SimElem> {
    ops: Vec<Op<T>>,
    encoding: ir::Encoding,
    input_len: usize,
    input_max: u32,
    /// The layer-0 current is the same every step (direct or burst coding): compute it once.
    constant_first: bool,
    readout: Readout,
    classes: usize,
}

pub type IntSim = Sim<i32>;
pub type FloatSim = Sim<f32>;

#[derive(Debug, Clone, Copy)]
enum Readout {
    /// Sum over steps of the last neuron layer's counts, summed over each neuron's `group`
    /// sub-units: sub-unit k of neuron (channel c, position p) is output (c*group + k)*hw + p,
    /// with hw = H*W of the layer (1 for a flat layer).
    Spikes { group: usize, hw: usize },
    /// Sum over steps of the last synaptic layer's currents.
    Currents,
}

#[derive(Debug, Clone)]
enum Op<T: SimElem> {
    Dense {
        n_out: usize,
        /// Transposed: wt[i * n_out + o], one row per input (what one input event reads).
        wt: Vec<T::W>,
        bias: Vec<T>,
    },
    Conv {
        input: Shape,
        output: Shape,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        /// wt[((ci * kh + ky) * kw + kx) * co + o]
        wt: Vec<T>,
        bias: Vec<T>,
    },
    Pool {
        input: Shape,
        output: Shape,
        kernel: [usize; 2],
        stride: [usize; 2],
        /// Some(1/window) for float average pooling.
        scale: Option<f32>,
    },
    Flatten,
    Lifb {
        k: T::Consts,
        theta: Vec<T::Mem>,
        spacing: Vec<T::Mem>,
        b: u32,
        reset: Reset,
    },
    Group {
        k: T::Consts,
        g: usize,
        /// thresholds[n * g + k], rho likewise, per neuron.
        thresholds: Vec<T::Mem>,
        rho: Vec<T::Mem>,
        reset: Reset,
        /// (H*W) of the layer: sub-unit k of channel c goes to output channel c*g + k.
        hw: usize,
    },
    Recurrent {
        k: T::Consts,
        g: usize,
        thresholds: Vec<T::Mem>,
        /// lateral[u * g + j]: weight from sibling j of unit u's group to u.
        lateral: Vec<T>,
        hw: usize,
    },
}

/// Options for one simulated sample.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    pub counts: bool,
    pub membranes: bool,
}

/// Per-neuron copy of a parameter stored per layer, channel or neuron (`per` values each).
fn expand<T: SimElem>(v: &[T], per: usize, shape: Shape) -> Vec<T::Mem> {
    let mut out = Vec::with_capacity(shape.len() * per);
    for n in 0..shape.len() {
        let row = ir::param_row(v.len(), per, shape, n);
        out.extend(v[row * per..(row + 1) * per].iter().map(|&x| T::mem(x)));
    }
    out
}

impl<T: SimElem> Sim<T> {
    pub fn new(net: &Network<T>) -> Result<Self> {
        net.validate()?;
        let shapes = net.shapes()?;
        let input_max = net.fixed.as_ref().map_or(1, |f| f.input_max());
        let mut ops = Vec::with_capacity(net.layers.len());
        for (li, layer) in net.layers.iter().enumerate() {
            let input = net.input_shape_of(&shapes, li);
            let output = shapes[li];
            let op = match layer {
                Layer::Dense(d) => {
                    let mut wt = vec![T::W::default(); d.weight.len()];
                    for o in 0..d.out_features {
                        for i in 0..d.in_features {
                            wt[i * d.out_features + o] = T::to_w(d.weight[o * d.in_features + i]);
                        }
                    }
                    let bias = d
                        .bias
                        .clone()
                        .unwrap_or_else(|| vec![T::default(); d.out_features]);
                    Op::Dense {
                        n_out: d.out_features,
                        wt,
                        bias,
                    }
                }
                Layer::Conv2d(c) => {
                    let [kh, kw] = c.kernel;
                    let (ci_n, co_n) = (c.in_channels, c.out_channels);
                    let mut wt = vec![T::default(); c.weight.len()];
                    for o in 0..co_n {
                        for ci in 0..ci_n {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    wt[((ci * kh + ky) * kw + kx) * co_n + o] =
                                        c.weight[((o * ci_n + ci) * kh + ky) * kw + kx];
                                }
                            }
                        }
                    }
                    let bias = c.bias.clone().unwrap_or_else(|| vec![T::default(); co_n]);
                    Op::Conv {
                        input,
                        output,
                        kernel: c.kernel,
                        stride: c.stride,
                        padding: c.padding,
                        wt,
                        bias,
                    }
                }
                Layer::Pool(p) => {
                    let window = p.kernel[0] * p.kernel[1];
                    let scale = match p.kind {
                        PoolKind::Sum => None,
                        PoolKind::Avg => T::pool_scale(window),
                    };
                    Op::Pool {
                        input,
                        output,
                        kernel: p.kernel,
                        stride: p.stride,
                        scale,
                    }
                }
                Layer::Flatten => Op::Flatten,
                Layer::Lifb(n) => Op::Lifb {
                    k: T::consts(net, n.leak),
                    theta: expand(&n.threshold, 1, output),
                    spacing: expand(&n.spacing, 1, output),
                    b: n.max_burst,
                    reset: n.reset,
                },
                Layer::LifGroup(n) => {
                    let g = n.group as usize;
                    Op::Group {
                        k: T::consts(net, n.leak),
                        g,
                        thresholds: expand(&n.thresholds, g, input),
                        rho: expand(&n.rho, g, input),
                        reset: n.reset,
                        hw: input.h * input.w,
                    }
                }
                Layer::LifRecurrent(n) => {
                    let g = n.group as usize;
                    let hw = input.h * input.w;
                    let orig = Shape {
                        c: input.c / g,
                        ..input
                    };
                    let mut thresholds = Vec::with_capacity(input.len());
                    let mut lateral = Vec::with_capacity(input.len() * g);
                    for u in 0..input.len() {
                        let (cc, p) = (u / hw, u % hw);
                        let (c, k) = (cc / g, cc % g);
                        let row = ir::param_row(n.thresholds.len(), g, orig, c * hw + p);
                        thresholds.push(T::mem(n.thresholds[row * g + k]));
                        let lrow = ir::param_row(n.lateral.len(), g * g, orig, c * hw + p);
                        let base = lrow * g * g + k * g;
                        lateral.extend_from_slice(&n.lateral[base..base + g]);
                    }
                    Op::Recurrent {
                        k: T::consts(net, n.leak),
                        g,
                        thresholds,
                        lateral,
                        hw,
                    }
                }
            };
            ops.push(op);
        }
        let last = net.layers.last().expect("validated: not empty");
        let out_shape = *shapes.last().expect("not empty");
        let hw = out_shape.h * out_shape.w;
        let readout = match last {
            Layer::Lifb(_) => Readout::Spikes { group: 1, hw },
            Layer::LifGroup(g) => Readout::Spikes {
                group: g.group as usize,
                hw,
            },
            Layer::LifRecurrent(g) => Readout::Spikes {
                group: g.group as usize,
                hw,
            },
            Layer::Dense(_) | Layer::Conv2d(_) => Readout::Currents,
            Layer::Pool(_) | Layer::Flatten => {
                return Err(ir::readout_rule_error(net.layers.len() - 1, last))
            }
        };
        let out_len = shapes.last().expect("not empty").len();
        let classes = match readout {
            Readout::Spikes { group, .. } => out_len / group,
            Readout::Currents => out_len,
        };
        Ok(Sim {
            ops,
            encoding: net.input.encoding,
            input_len: net.input.shape.len(),
            input_max,
            constant_first: net.input.encoding.is_constant(),
            readout,
            classes,
        })
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn input_len(&self) -> usize {
        self.input_len
    }

    fn check_input(&self, input: &[T::Input]) -> Result<()> {
        if input.len() != self.input_len {
            return Err(Error::bad_input(format!(
                "input has {} values, the network expects {}",
                input.len(),
                self.input_len
            )));
        }
        T::check_input(input, self.input_max)
    }

    /// Simulate one sample for `steps` steps, recording what `opts` asks for.
    pub fn run(
        &self,
        input: &[T::Input],
        sample: u64,
        steps: u32,
        opts: TraceOptions,
    ) -> Result<SampleTrace> {
        self.check_input(input)?;
        Ok(self.run_unchecked(input, sample, steps, opts))
    }

    /// Predicted class and readout only (no trace): the fast path for evaluation and benchmarks.
    pub fn classify(
        &self,
        input: &[T::Input],
        sample: u64,
        steps: u32,
    ) -> Result<(usize, Vec<f64>)> {
        self.check_input(input)?;
        let t = self.run_unchecked(input, sample, steps, TraceOptions::default());
        Ok((t.predicted, t.readout))
    }

    fn run_unchecked(
        &self,
        input: &[T::Input],
        sample: u64,
        steps: u32,
        opts: TraceOptions,
    ) -> SampleTrace {
        let mut v: Vec<Vec<T::Mem>> = self
            .ops
            .iter()
            .map(|op| match op {
                Op::Lifb { theta, .. } => vec![T::Mem::default(); theta.len()],
                Op::Group { thresholds, g, .. } => vec![T::Mem::default(); thresholds.len() / g],
                Op::Recurrent { thresholds, .. } => vec![T::Mem::default(); thresholds.len()],
                _ => Vec::new(),
            })
            .collect();
        let mut prev: Vec<Vec<u32>> = self
            .ops
            .iter()
            .map(|op| match op {
                Op::Recurrent { thresholds, .. } => vec![0; thresholds.len()],
                _ => Vec::new(),
            })
            .collect();
        let recording = opts.counts || opts.membranes;
        let mut layers: Vec<LayerTrace> = Vec::new();
        if recording {
            for (i, op) in self.ops.iter().enumerate() {
                if let Some(kind) = op.neuron_kind() {
                    layers.push(LayerTrace {
                        layer: i,
                        kind: kind.into(),
                        counts: Vec::with_capacity(steps as usize),
                        membranes: opts.membranes.then(Vec::new),
                    });
                }
            }
        }
        let mut readout = vec![0f64; self.readout_len()];
        let mut encoded = Vec::with_capacity(input.len());
        let mut first_current: Option<Vec<T>> = None;
        let mut counts: Vec<u32> = Vec::new();
        let mut pooled: Vec<T> = Vec::new(); // float average pooling output
        let mut currents: Vec<T> = Vec::new();
        for step in 0..steps {
            let mut traced = 0;
            let mut avg_pending = false;
            for (li, op) in self.ops.iter().enumerate() {
                match op {
                    Op::Dense { .. } | Op::Conv { .. } if li == 0 => {
                        if let (true, Some(c)) = (self.constant_first, &first_current) {
                            currents.clone_from(c);
                        } else {
                            T::encode(
                                self.encoding,
                                input,
                                self.input_max,
                                sample,
                                step,
                                &mut encoded,
                            );
                            synapse(
                                op,
                                encoded
                                    .iter()
                                    .map(|&x| (T::is_zero_input(x), T::from_input(x))),
                                &mut currents,
                            );
                            if self.constant_first {
                                first_current = Some(currents.clone());
                            }
                        }
                    }
                    Op::Dense { .. } | Op::Conv { .. } => {
                        if avg_pending {
                            synapse(
                                op,
                                pooled.iter().map(|&x| (x == T::default(), x)),
                                &mut currents,
                            );
                            avg_pending = false;
                        } else {
                            synapse(
                                op,
                                counts.iter().map(|&c| (c == 0, T::from_count(c))),
                                &mut currents,
                            );
                        }
                    }
                    Op::Pool {
                        input,
                        output,
                        kernel,
                        stride,
                        scale,
                    } => {
                        counts = sum_pool(&counts, *input, *output, *kernel, *stride);
                        if let Some(s) = scale {
                            pooled.clear();
                            pooled.extend(counts.iter().map(|&c| T::scale_count(c, *s)));
                            avg_pending = true;
                        }
                    }
                    Op::Flatten => {}
                    _ => {
                        neuron(op, &mut v[li], &mut prev[li], &currents, &mut counts);
                        if recording {
                            let t = &mut layers[traced];
                            if opts.counts {
                                t.counts.push(counts.clone());
                            }
                            if let Some(m) = t.membranes.as_mut() {
                                m.push(v[li].iter().map(|&x| T::mem_f64(x)).collect());
                            }
                        }
                        traced += 1;
                    }
                }
            }
            match self.readout {
                Readout::Spikes { .. } => readout
                    .iter_mut()
                    .zip(&counts)
                    .for_each(|(r, &c)| *r += c as f64),
                Readout::Currents => readout
                    .iter_mut()
                    .zip(&currents)
                    .for_each(|(r, &c)| *r += c.to_f64()),
            }
        }
        let readout: Vec<f64> = match self.readout {
            Readout::Spikes { group: 1, .. } | Readout::Currents => readout,
            Readout::Spikes { group, hw } => (0..self.classes)
                .map(|n| {
                    let (c, p) = (n / hw, n % hw);
                    (0..group).map(|k| readout[(c * group + k) * hw + p]).sum()
                })
                .collect(),
        };
        SampleTrace {
            sample,
            predicted: argmax(&readout),
            readout,
            layers,
            label: None,
        }
    }

    fn readout_len(&self) -> usize {
        match self.readout {
            Readout::Spikes { group, .. } => self.classes * group,
            Readout::Currents => self.classes,
        }
    }
}

impl<T: SimElem> Op<T> {
    fn neuron_kind(&self) -> Option<&'static str> {
        match self {
            Op::Lifb { b: 1, .. } => Some("lif"),
            Op::Lifb { .. } => Some("lifb"),
            Op::Group { .. } => Some("lif_group"),
            Op::Recurrent { .. } => Some("lif_recurrent"),
            _ => None,
        }
    }
}

/// First index of the largest value: ties go to the lower class, in hardware too.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Event-driven synaptic layer: currents = bias + sum over non-zero inputs of value * weight row.
/// `input` yields (is_zero, value) per input.
fn synapse<T: SimElem>(op: &Op<T>, input: impl Iterator<Item = (bool, T)>, out: &mut Vec<T>) {
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
            input: ins,
            output: outs,
            kernel,
            stride,
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

fn sum_pool(
    input: &[u32],
    ins: Shape,
    outs: Shape,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Vec<u32> {
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

fn neuron<T: SimElem>(
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
