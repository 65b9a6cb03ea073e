//! The golden simulator, one implementation for both number types: `Sim<i32>` is the bit-exact
//! integer reference for the RTL, `Sim<f32>` the float model. Event-driven: a zero input count
//! costs nothing. Layers chain with no delay within a step (docs/semantics.md).

use super::elem::SimElem;
use super::fast;
use super::kernels;
use super::step::{neuron, sum_pool, synapse, Events};
use super::trace::{LayerTrace, SampleTrace};
use crate::error::{Error, Result};
use crate::ir::{self, Layer, Network, PoolKind, Reset, Shape};

/// A compiled network, ready to simulate many samples.
#[derive(Debug, Clone)]
pub struct Sim<T: SimElem> {
    pub(super) ops: Vec<Op<T>>,
    pub(super) encoding: ir::Encoding,
    input_len: usize,
    pub(super) input_max: u32,
    /// The layer-0 current is the same every step (direct or burst coding): compute it once.
    constant_first: bool,
    readout: Readout,
    classes: usize,
    /// The fast classification path, for the integer perceptrons it covers (`fast::Plan`).
    pub(super) fast: Option<fast::Plan>,
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

/// The geometry of a window layer (convolution or pooling): input and output shapes, kernel
/// and stride.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub input: Shape,
    pub output: Shape,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
}

#[derive(Debug, Clone)]
pub(super) enum Op<T: SimElem> {
    Dense {
        n_out: usize,
        /// Row length of `wt`: n_out rounded up to whole vector registers (zero padding).
        stride: usize,
        /// Transposed: wt[i * stride + o], one row per input (what one input event reads).
        wt: Vec<T::W>,
        bias: Vec<T>,
        /// The largest |weight|: it bounds the partial sums of the integer kernel.
        w_abs_max: f64,
        /// `kernels::columns(wt)` for narrow layers (empty for wide ones).
        cols: Vec<T::W>,
    },
    Conv {
        win: Window,
        padding: [usize; 2],
        /// wt[((ci * kh + ky) * kw + kx) * co + o]
        wt: Vec<T>,
        bias: Vec<T>,
    },
    Pool {
        win: Window,
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
                    let stride = kernels::padded(d.out_features);
                    let mut wt = vec![T::W::default(); d.in_features * stride];
                    for o in 0..d.out_features {
                        for i in 0..d.in_features {
                            wt[i * stride + o] = T::to_w(d.weight[o * d.in_features + i]);
                        }
                    }
                    let bias = d
                        .bias
                        .clone()
                        .unwrap_or_else(|| vec![T::default(); d.out_features]);
                    let w_abs_max = d
                        .weight
                        .iter()
                        .map(|w| w.to_f64().abs())
                        .fold(0.0, f64::max);
                    let cols = if stride <= kernels::NARROW {
                        kernels::columns(&wt, stride)
                    } else {
                        Vec::new()
                    };
                    Op::Dense {
                        n_out: d.out_features,
                        stride,
                        wt,
                        bias,
                        w_abs_max,
                        cols,
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
                        win: Window {
                            input,
                            output,
                            kernel: c.kernel,
                            stride: c.stride,
                        },
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
                        win: Window {
                            input,
                            output,
                            kernel: p.kernel,
                            stride: p.stride,
                        },
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
        let mut sim = Sim {
            ops,
            encoding: net.input.encoding,
            input_len: net.input.shape.len(),
            input_max,
            constant_first: net.input.encoding.is_constant(),
            readout,
            classes,
            fast: None,
        };
        sim.fast = T::fast_plan(&sim);
        Ok(sim)
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn input_len(&self) -> usize {
        self.input_len
    }

    #[inline(always)]
    fn check_input(&self, input: &[T::Input], steps: u32) -> Result<()> {
        let want = self.encoding.sample_len(self.input_len, steps);
        if input.len() != want {
            return Err(Error::bad_input(match self.encoding {
                ir::Encoding::Steps => format!(
                    "input has {} values, the network takes {} per step for {steps} steps ({want})",
                    input.len(),
                    self.input_len
                ),
                _ => format!(
                    "input has {} values, the network expects {}",
                    input.len(),
                    self.input_len
                ),
            }));
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
        let mut ws = self.workspace();
        let (predicted, layers) = self.run_in(&mut ws, input, sample, steps, opts)?;
        Ok(SampleTrace {
            sample,
            predicted,
            readout: ws.readout().to_vec(),
            layers,
            label: None,
        })
    }

    /// Predicted class and readout only (no trace): the fast path for evaluation and benchmarks.
    pub fn classify(
        &self,
        input: &[T::Input],
        sample: u64,
        steps: u32,
    ) -> Result<(usize, Vec<f64>)> {
        let mut ws = self.workspace();
        let predicted = self.classify_in(&mut ws, input, sample, steps)?;
        Ok((predicted, ws.readout().to_vec()))
    }

    /// Buffers for simulating samples one after another with [`Sim::classify_in`].
    pub fn workspace(&self) -> Workspace<T> {
        Workspace {
            v: self
                .ops
                .iter()
                .map(|op| match op {
                    Op::Lifb { theta, .. } => vec![T::Mem::default(); theta.len()],
                    Op::Group { thresholds, g, .. } => {
                        vec![T::Mem::default(); thresholds.len() / g]
                    }
                    Op::Recurrent { thresholds, .. } => vec![T::Mem::default(); thresholds.len()],
                    _ => Vec::new(),
                })
                .collect(),
            prev: self
                .ops
                .iter()
                .map(|op| match op {
                    Op::Recurrent { thresholds, .. } => vec![0; thresholds.len()],
                    _ => Vec::new(),
                })
                .collect(),
            encoded: Vec::new(),
            events: Events::default(),
            first_current: Vec::new(),
            counts: Vec::new(),
            pooled_counts: Vec::new(),
            pooled: Vec::new(),
            currents: Vec::new(),
            readout: vec![0.0; self.readout_len()],
            grouped: vec![0.0; self.classes],
            fast: fast::Scratch::default(),
        }
    }

    /// As [`Sim::classify`], in `ws` (no allocation once `ws` has been used): returns the
    /// predicted class; [`Workspace::readout`] has the readout.
    pub fn classify_in(
        &self,
        ws: &mut Workspace<T>,
        input: &[T::Input],
        sample: u64,
        steps: u32,
    ) -> Result<usize> {
        Ok(self
            .run_in(ws, input, sample, steps, TraceOptions::default())?
            .0)
    }

    /// Whether [`Sim::classify_in`] takes the fast path (`golden::fast`) for this network.
    pub fn has_fast_path(&self) -> bool {
        self.fast.is_some()
    }

    /// As [`Sim::classify_in`], never by the fast path: the reference the fast path is
    /// tested against.
    pub fn classify_reference(
        &self,
        ws: &mut Workspace<T>,
        input: &[T::Input],
        sample: u64,
        steps: u32,
    ) -> Result<usize> {
        let opts = TraceOptions {
            counts: true,
            membranes: false,
        };
        Ok(self.run_in(ws, input, sample, steps, opts)?.0)
    }

    /// The predicted class of every input (sample number = `first_sample` + index), on
    /// `threads` threads, each taking a contiguous share of the inputs with its own workspace.
    pub fn classify_all<I: AsRef<[T::Input]> + Sync>(
        &self,
        inputs: &[I],
        first_sample: u64,
        steps: u32,
        threads: usize,
    ) -> Result<Vec<usize>> {
        let parts = crate::util::par_chunks(inputs, threads, |first, part| {
            let mut ws = self.workspace();
            let first = first_sample + first as u64;
            part.iter()
                .enumerate()
                .map(|(i, x)| self.classify_in(&mut ws, x.as_ref(), first + i as u64, steps))
                .collect::<Result<Vec<usize>>>()
        })?;
        Ok(parts.concat())
    }

    /// One sample in `ws`: the predicted class and the layer traces `opts` asks for; the
    /// readout is left in `ws`. The body is compiled for AVX-512 and AVX2 besides the
    /// portable build (the event scans and neuron loops vectorize), chosen at run time by
    /// `kernels::simd`. With no trace asked for, a network the fast path covers
    /// (`golden::fast`) takes it.
    fn run_in(
        &self,
        ws: &mut Workspace<T>,
        input: &[T::Input],
        sample: u64,
        steps: u32,
        opts: TraceOptions,
    ) -> Result<(usize, Vec<LayerTrace>)> {
        struct K<'a, T: SimElem> {
            sim: &'a Sim<T>,
            ws: &'a mut Workspace<T>,
            input: &'a [T::Input],
            sample: u64,
            steps: u32,
            opts: TraceOptions,
        }
        impl<T: SimElem> kernels::Simd for K<'_, T> {
            type Out = Result<(usize, Vec<LayerTrace>)>;
            #[inline(always)]
            fn run(self) -> Self::Out {
                let K {
                    sim,
                    ws,
                    input,
                    sample,
                    steps,
                    opts,
                } = self;
                sim.run_in_body(ws, input, sample, steps, opts)
            }
        }
        kernels::simd(K {
            sim: self,
            ws,
            input,
            sample,
            steps,
            opts,
        })
    }

    #[inline(always)]
    fn run_in_body(
        &self,
        ws: &mut Workspace<T>,
        input: &[T::Input],
        sample: u64,
        steps: u32,
        opts: TraceOptions,
    ) -> Result<(usize, Vec<LayerTrace>)> {
        self.check_input(input, steps)?;
        let recording = opts.counts || opts.membranes;
        if !recording {
            if let Some(class) = T::fast_classify(self, ws, input, sample, steps) {
                return Ok((class, Vec::new()));
            }
        }
        let Workspace {
            v,
            prev,
            encoded,
            events: ev,
            first_current,
            counts,
            pooled_counts,
            pooled,
            currents,
            readout,
            grouped,
            fast: _,
        } = ws;
        v.iter_mut().for_each(|v| v.fill(T::Mem::default()));
        prev.iter_mut().for_each(|p| p.fill(0));
        readout.fill(0.0);
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
        for step in 0..steps {
            let mut traced = 0;
            let mut avg_pending = false;
            for (li, op) in self.ops.iter().enumerate() {
                match op {
                    Op::Dense { .. } | Op::Conv { .. } if li == 0 => {
                        if self.constant_first && step > 0 {
                            currents.clone_from(first_current);
                        } else {
                            let values = if matches!(self.encoding, ir::Encoding::Direct) {
                                input // the encoding is the identity: no copy
                            } else {
                                T::encode(
                                    self.encoding,
                                    super::encode::at_step(
                                        self.encoding,
                                        input,
                                        self.input_len,
                                        step,
                                    ),
                                    self.input_max,
                                    sample,
                                    step,
                                    encoded,
                                );
                                &encoded[..]
                            };
                            ev.collect(values, T::is_zero_input, T::from_input);
                            synapse(op, ev, currents);
                            if self.constant_first {
                                first_current.clone_from(currents);
                            }
                        }
                    }
                    Op::Dense { .. } | Op::Conv { .. } => {
                        if avg_pending {
                            avg_pending = false;
                            ev.collect(pooled, |x| x == T::default(), |x| x);
                        } else {
                            if let Op::Dense {
                                n_out,
                                stride,
                                bias,
                                cols,
                                ..
                            } = op
                            {
                                if T::dense_counts(currents, bias, cols, *stride, counts) {
                                    currents.truncate(*n_out);
                                    continue;
                                }
                            }
                            ev.collect(counts, |c| c == 0, T::from_count);
                        }
                        synapse(op, ev, currents);
                    }
                    Op::Pool { win, scale } => {
                        sum_pool(counts, win, pooled_counts);
                        std::mem::swap(counts, pooled_counts);
                        if let Some(s) = scale {
                            pooled.clear();
                            pooled.extend(counts.iter().map(|&c| T::scale_count(c, *s)));
                            avg_pending = true;
                        }
                    }
                    Op::Flatten => {}
                    _ => {
                        neuron(op, &mut v[li], &mut prev[li], currents, counts);
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
                    .zip(counts.iter())
                    .for_each(|(r, &c)| *r += c as f64),
                Readout::Currents => readout
                    .iter_mut()
                    .zip(currents.iter())
                    .for_each(|(r, &c)| *r += c.to_f64()),
            }
        }
        if let Readout::Spikes { group, hw } = self.readout {
            if group > 1 {
                for (n, g) in grouped.iter_mut().enumerate() {
                    let (c, p) = (n / hw, n % hw);
                    *g = (0..group).map(|k| readout[(c * group + k) * hw + p]).sum();
                }
            }
        }
        Ok((argmax(ws.readout()), layers))
    }

    fn readout_len(&self) -> usize {
        match self.readout {
            Readout::Spikes { group, .. } => self.classes * group,
            Readout::Currents => self.classes,
        }
    }
}

/// Reusable per-sample buffers of a [`Sim`] (membranes, events, currents, readout).
#[derive(Debug, Clone)]
pub struct Workspace<T: SimElem> {
    v: Vec<Vec<T::Mem>>,
    prev: Vec<Vec<u32>>,
    encoded: Vec<T::Input>,
    events: Events<T>,
    first_current: Vec<T>,
    counts: Vec<u32>,
    pooled_counts: Vec<u32>,
    pooled: Vec<T>,
    currents: Vec<T>,
    pub(super) readout: Vec<f64>,
    /// The readout summed over each neuron's sub-units (grouped spike readouts only).
    grouped: Vec<f64>,
    pub(super) fast: fast::Scratch,
}

impl<T: SimElem> Workspace<T> {
    /// The last sample's readout, one value per class.
    pub fn readout(&self) -> &[f64] {
        if self.grouped.len() < self.readout.len() {
            &self.grouped
        } else {
            &self.readout
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
