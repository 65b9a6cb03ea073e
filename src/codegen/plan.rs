//! From an integer network to the structure of its hardware: engines, widths, lanes, ROM sizes,
//! and the cycle model. Every width is derived from the declared fixed-point widths (not from the
//! values), so networks of equal structure get identical RTL.

use super::conv::{Axis, ConvPlan, RoutePlan};
use super::{Form, Lanes, Options};
use crate::error::{Error, Result};
use crate::ir::{
    layer_label, param_row, Encoding, IntNetwork, Layer, Leak, LifGroup, PoolKind, Reset, Shape,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// LIFB neurons (native form): a spike count 0..=B per neuron.
    Lifb,
    /// LifGroup (decoupled form): g binary sub-units per membrane.
    Group,
    /// No neuron layer: the synaptic layer's currents are the readout.
    Current,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Lifb => "lifb",
            EngineKind::Group => "group",
            EngineKind::Current => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakImpl {
    None,
    /// d = 2^(f - s): leak = V - (V >>> s).
    Shift(u32),
    /// leak = V - ((V * d) >>> f).
    Mul {
        d: u32,
        f: u32,
    },
}

/// One engine: a synaptic layer (dense or conv2d) and the neuron layer after it (if any). Its
/// numbers are grouped by what they size: how the neurons are spread over lanes and fire units,
/// the widths of every value and counter, the memories, and the neuron rule. `rtl::EngineParams`
/// turns them into the localparams of the generated wrapper.
#[derive(Debug, Clone)]
pub struct EnginePlan {
    pub module: String,
    pub desc: String,
    pub syn_layer: usize,
    pub neuron_layer: Option<usize>,
    pub kind: EngineKind,
    /// Inputs (an input event's index is below this) and neurons (output channels x positions
    /// for a conv engine).
    pub inputs: usize,
    pub neurons: usize,
    /// The largest count an input event carries (sizes the count and accumulator widths).
    pub max_in_count: u64,
    /// The input is the same every step (direct/burst encoding, first engine): accumulate once.
    pub const_in: bool,
    pub parallelism: Parallelism,
    pub widths: Widths,
    pub memories: Memories,
    pub neuron: NeuronPlan,
    /// A convolution engine's geometry (None: a dense engine).
    pub conv: Option<ConvPlan>,
    /// Event routing in front of the engine (decode and pooling; always for conv engines, for a
    /// dense engine only after a pool).
    pub route: Option<RoutePlan>,
}

/// How an engine's neurons are spread over its hardware (docs/hardware.md, "Shape").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parallelism {
    /// Accumulate lanes P: weights read and added per cycle (channels per group in a conv engine).
    pub lanes: usize,
    /// Accumulator entries per lane: ceil(neurons / lanes), or positions x channel groups (conv).
    pub passes: usize,
    /// Fire units Q <= P: neurons leaked, compared and fired per cycle.
    pub fire_units: usize,
    /// Unit groups per pass, ceil(P / Q): the fire words one pass takes.
    pub unit_groups: usize,
    /// Fire words per step, passes x unit_groups: the fire phase's cycles.
    pub fire_words: usize,
}

/// Bit widths, each derived from the declared fixed point and the structure (never from values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widths {
    /// An input event's index (0..inputs) and count (0..=max_in_count).
    pub in_index: usize,
    pub in_count: usize,
    /// An arriving event's index (the FIFO's index field): the source map's index before routing;
    /// `in_index` when the engine does not route.
    pub source_index: usize,
    /// An output event's index (0..neurons x events per neuron) and count (0..=B; 1 for a group;
    /// the accumulator width for a current readout).
    pub out_index: usize,
    pub out_count: usize,
    /// A stored membrane: the membrane width, wider when a group's subtract reset can take it
    /// below the saturation range, 1 for a current readout (which stores none).
    pub state: usize,
    /// A weight (the declared weight bits).
    pub weight: usize,
    /// An accumulator: the declared bound of |acc + bias| capped at 32 bits, and at least one bit
    /// wider than the membrane and than one count x weight product.
    pub acc: usize,
    /// The membrane's saturation range (the declared membrane bits).
    pub membrane: usize,
    /// The unsaturated sum leak(V) + acc + bias: two bits over the widest operand.
    pub sum: usize,
    /// One rho field of a group's neuron-ROM word (0 without a group).
    pub rho: usize,
    /// One neuron's parameters in a neuron-ROM word: bias, thresholds, and rho for a subtract
    /// reset group.
    pub neuron_params: usize,
    /// A pass index (0..passes) and a pass counter (0..=passes).
    pub pass_index: usize,
    pub pass_count: usize,
    /// An index into a fire word's pending events (0..fire units x events per neuron).
    pub pending_index: usize,
    /// A fire unit's index (0..fire units).
    pub unit_index: usize,
    /// A weight-ROM address (0..weight depth).
    pub weight_addr: usize,
}

/// The engine's memory files and FIFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memories {
    /// Weight ROM files, one per slice of the word: (low bit, width, file).
    pub weight_slices: Vec<(usize, usize, String)>,
    /// The neuron-parameter ROM's file.
    pub neuron_file: String,
    /// Address width of the FIFO in front of the engine (its depth is 2^fifo_addr words).
    pub fifo_addr: usize,
    /// The weights in iCE40 UltraPlus single-port RAM instead of a ROM (`--spram`).
    pub spram: Option<SpramPlan>,
    /// The accumulators and membranes in block RAM with a registered read instead of distributed
    /// RAM (`--state-bram`; for FPGAs without distributed RAM, such as the iCE40).
    pub state_in_block_ram: bool,
}

/// Words and bits of one iCE40 UltraPlus single-port RAM block (SB_SPRAM256KA), and the blocks
/// an iCE40 UP5K has.
pub const SPRAM_WORDS: usize = 16_384;
pub const SPRAM_BITS: usize = 16;
pub const SPRAM_BLOCKS: usize = 4;

/// An engine whose weights live in single-port RAM (docs/hardware.md, "Weights in SPRAM"): the
/// weight word cut into 16-bit slices, the words into banks of 16K; the blocks cannot be
/// initialised by the bitstream, so the host (or a flash reader) writes them once through the
/// top level's load port before the first sample. `weight_slices` then holds one 16-bit slice
/// per block column, whose texts go into the load file, not into ROM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpramPlan {
    pub slices: usize,
    pub banks: usize,
    /// The engine's number on the load port (the high field of the load address).
    pub port: usize,
}

impl SpramPlan {
    pub fn blocks(&self) -> usize {
        self.slices * self.banks
    }
}

/// The neuron rule the fire units implement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeuronPlan {
    /// Thresholds per neuron: B (LIFB), g (group), 0 (current readout).
    pub thresholds: usize,
    /// Output events per neuron and step: 1, or g for a group (one per sub-unit).
    pub events: usize,
    pub leak: LeakImpl,
    pub reset_zero: bool,
    /// A subtract-reset group whose thresholds ascend in every row: the sub-units that fire are
    /// always a prefix 0..c-1, so the neuron ROM holds prefix sums of rho (one subtraction).
    pub rho_prefix: bool,
}

impl EnginePlan {
    /// Events a fire word can queue: one per fire unit and event of a neuron.
    pub fn pending(&self) -> usize {
        self.parallelism.fire_units * self.neuron.events
    }
    /// Where the event with source index `i` lands in the engine's input map: (y, x) after
    /// routing ((0, 0) without routing), None for an event the routing drops (a pooling
    /// remainder).
    fn event_position(&self, i: usize) -> Option<(usize, usize)> {
        match &self.route {
            Some(r) => r.route(i).map(|(_, y, x)| (y, x)),
            None => Some((0, 0)),
        }
    }
    /// Accumulator words (one per cycle) an input event with source index `i` costs: `passes`
    /// for a dense engine, valid taps x channel groups for a conv engine, 0 for an event the
    /// routing drops (a pooling remainder).
    pub fn event_words(&self, i: usize) -> u64 {
        let Some((y, x)) = self.event_position(i) else {
            return 0;
        };
        match &self.conv {
            Some(cv) => cv.event_words(y, x) as u64,
            None => self.parallelism.passes as u64,
        }
    }
    /// Synapses an input event with source index `i` updates (its fan-out): every neuron of a
    /// dense engine, the valid taps x output channels of a conv engine (fewer at the map's
    /// borders), none for an event the routing drops.
    pub fn event_fan_out(&self, i: usize) -> u64 {
        let Some((y, x)) = self.event_position(i) else {
            return 0;
        };
        match &self.conv {
            Some(cv) => cv.event_synapses(y, x) as u64,
            None => self.neurons as u64,
        }
    }
    /// Words of the weight ROM.
    pub fn weight_depth(&self) -> usize {
        match &self.conv {
            Some(c) => c.in_channels * c.y.kernel * c.x.kernel * c.channel_groups,
            None => self.inputs * self.parallelism.passes,
        }
    }
    /// The most accumulator words one input event can cost.
    pub fn max_event_words(&self) -> u64 {
        match &self.conv {
            Some(cv) => (cv.y.max_taps() * cv.x.max_taps() * cv.channel_groups) as u64,
            None => self.parallelism.passes as u64,
        }
    }
    /// Output positions per channel map (1 for a dense engine).
    pub fn plane(&self) -> usize {
        self.conv.as_ref().map_or(1, |c| c.positions())
    }
    /// The neuron an output event index belongs to: events are (channel * e + sub-unit) * plane
    /// + position, neurons channel * plane + position (docs/semantics.md).
    pub fn neuron_of_event(&self, n: usize) -> usize {
        let hw = self.plane();
        (n / hw / self.neuron.events) * hw + n % hw
    }
    /// The neuron (its flat CHW index) that lane `lane` holds in accumulator entry `pass`, if
    /// any. Dense: neuron pass * P + lane; conv: entry = position * CG + cg, channel cg * P + lane.
    pub fn neuron_at(&self, pass: usize, lane: usize) -> Option<usize> {
        match &self.conv {
            None => {
                let lanes = self.parallelism.lanes;
                let o = pass * lanes + lane;
                (lane < lanes && o < self.neurons).then_some(o)
            }
            Some(c) => {
                let (pos, cg) = (pass / c.channel_groups, pass % c.channel_groups);
                let lanes = self.parallelism.lanes;
                let ch = cg * lanes + lane;
                (lane < lanes && ch < c.out_channels).then_some(ch * c.positions() + pos)
            }
        }
    }
    /// The shape of the engine's neuron layer (CHW for a conv engine, flat for a dense one).
    pub fn shape_out(&self) -> Shape {
        match &self.conv {
            Some(c) => Shape::chw(c.out_channels, c.y.out, c.x.out),
            None => Shape::flat(self.neurons),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub engines: Vec<EnginePlan>,
    /// The readout: its classes (the last engine's neurons), the widths of a class index
    /// (0..classes) and a class count (0..=classes), and of a class's score.
    pub classes: usize,
    pub class_index_bits: usize,
    pub class_count_bits: usize,
    pub score_bits: usize,
    pub input_len: usize,
    pub encoding: Encoding,
}

/// Bits of an unsigned value (at least 1).
pub fn bits_u(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).max(1)
}

/// Bits of a signed range [lo, hi].
pub fn bits_s(lo: i64, hi: i64) -> usize {
    let mut w = 1;
    while !(-(1i128 << (w - 1)) <= lo as i128 && (hi as i128) < (1i128 << (w - 1))) {
        w += 1;
    }
    w
}

/// ceil(log2(n)), at least 1: the width of an index into n entries.
pub fn clog2(n: usize) -> usize {
    if n <= 1 {
        1
    } else {
        bits_u(n as u64 - 1)
    }
}

/// The form the hardware is generated from: decoupled turns every LIFB layer into a LifGroup.
pub fn apply_form(net: &IntNetwork, form: Form) -> Result<IntNetwork> {
    net.validate()?;
    match form {
        Form::Native => Ok(net.clone()),
        Form::Decoupled => crate::decouple::to_lif_groups(net),
        // Its lateral synapses have no hardware; refused before any work.
        Form::PureLif => Err(Error::bad_input(
            "the hardware generator builds the native and decoupled (group) forms, not the pure-LIF form",
        )),
    }
}

fn refuse(i: usize, l: &Layer<i32>, why: &str) -> Error {
    Error::bad_input(format!("{}: {why}", layer_label(i, l)))
}

/// The weight ROM cut into slices of whole bits, each as wide as one ECP5 block RAM is at this
/// depth (16384x1 .. 512x36), so that a deep ROM maps to one block per slice instead of a grid of
/// blocks behind wide output multiplexers. One slice keeps the plain file name.
fn rom_slices(module: &str, depth: usize, width: usize) -> Vec<(usize, usize, String)> {
    let max = match depth {
        0..=512 => 36,
        513..=1024 => 18,
        1025..=2048 => 9,
        2049..=4096 => 4,
        4097..=8192 => 2,
        _ => 1,
    };
    let n = width.div_ceil(max);
    if n == 1 {
        return vec![(0, width, format!("{module}_w.hex"))];
    }
    (0..n)
        .map(|s| {
            let lo = s * max;
            (lo, max.min(width - lo), format!("{module}_w{s}.hex"))
        })
        .collect()
}

/// Every parameter row of the group has non-decreasing thresholds, so that H reaching threshold
/// k means it reaches every threshold before it (the decoupling's ladder theta + (k-1) D does).
pub fn thresholds_ascending(g: &LifGroup<i32>) -> bool {
    let k = g.group as usize;
    g.thresholds
        .chunks(k)
        .all(|row| row.windows(2).all(|w| w[0] <= w[1]))
}

/// The prefix sums rho_0 + .. + rho_k of every row of a group's rho, row after row.
pub fn rho_prefix_sums(g: &LifGroup<i32>) -> Vec<i64> {
    g.rho
        .chunks(g.group as usize)
        .flat_map(|row| {
            row.iter().scan(0i64, |acc, &r| {
                *acc += r as i64;
                Some(*acc)
            })
        })
        .collect()
}

/// Engine `ei`'s value of a per-engine list (`--lanes`, `--units`), capped at `all`; None = default.
fn per_engine(list: &Lanes, flag: &str, ei: usize, all: usize) -> Result<Option<usize>> {
    let Lanes::List(v) = list else {
        return Ok(None);
    };
    let want = if v.len() == 1 {
        v[0]
    } else {
        *v.get(ei).ok_or_else(|| {
            Error::bad_input(format!(
                "{flag} gives {} values but the network has more engines (one per dense layer); give one value or one per engine",
                v.len()
            ))
        })?
    };
    Ok(Some(if want == 0 { all } else { want.min(all) }))
}

pub fn plan(net: &IntNetwork, opts: &Options) -> Result<Plan> {
    // The IR's legality: structure, the arithmetic bounds (accumulator and lateral currents,
    // pooled counts) and the readout rule apply to the hardware as to the golden model.
    net.validate()?;
    net.check_readout()?;
    let fx = net.fixed.as_ref().ok_or_else(|| {
        Error::bad_input("the model is a float network; quantize it first (lifb-hdl quantize)")
    })?;
    let membrane = fx.membrane_bits as usize;
    let weight = fx.weight_bits as usize;
    let v_max = fx.v_max();
    let mut engines: Vec<EnginePlan> = Vec::new();
    let mut max_in: u64 = match net.input.encoding {
        Encoding::Direct | Encoding::Steps => fx.input_max() as u64,
        Encoding::Rate { .. } => 1,
        Encoding::Burst { max_count } => max_count as u64,
    };
    let shapes = net.shapes()?;
    // a sum pool waiting for the synaptic layer it feeds: (layer, window, its input shape)
    let mut pool: Option<(usize, [usize; 2], Shape)> = None;
    let mut i = 0;
    while i < net.layers.len() {
        let layer = &net.layers[i];
        let in_shape = net.input_shape_of(&shapes, i);
        // (in_features, out neurons, fan-in of one neuron, conv geometry)
        let (n_in, n_out, fan_in, conv) = match layer {
            Layer::Dense(d) => (d.in_features, d.out_features, d.in_features, None),
            Layer::Flatten => {
                i += 1;
                continue;
            }
            Layer::Conv2d(c) => {
                let out = shapes[i];
                let ax = |d: usize, len: usize, o: usize| Axis {
                    len,
                    kernel: c.kernel[d],
                    stride: c.stride[d],
                    pad: c.padding[d],
                    out: o,
                };
                let cv = ConvPlan {
                    in_channels: c.in_channels,
                    out_channels: c.out_channels,
                    y: ax(0, in_shape.h, out.h),
                    x: ax(1, in_shape.w, out.w),
                    channel_groups: 0,
                    last_group_channels: 0,
                    per_channel: true,
                };
                if c.padding[0] >= c.kernel[0] || c.padding[1] >= c.kernel[1] {
                    return Err(refuse(i, layer, "the conv engine supports padding below the kernel size (0..K-1); a larger padding only adds outputs that see no input"));
                }
                (
                    in_shape.len(),
                    out.len(),
                    c.in_channels * c.kernel[0] * c.kernel[1],
                    Some(cv),
                )
            }
            Layer::Pool(p) => {
                if p.kind != PoolKind::Sum {
                    return Err(refuse(i, layer, "only sum pooling reaches hardware (quantize turns avg_pool2d into sum_pool2d)"));
                }
                if p.stride != p.kernel {
                    return Err(refuse(i, layer, "the hardware routes events to their pooled index, which needs non-overlapping windows (stride equal to the kernel); retrain with stride = kernel"));
                }
                if pool.is_some() {
                    return Err(refuse(i, layer, "two pooling layers in a row are not supported by the hardware generator; merge them into one window"));
                }
                let next = net.layers[i + 1..].iter().find(|l| !matches!(l, Layer::Flatten));
                if !matches!(next, Some(Layer::Dense(_)) | Some(Layer::Conv2d(_))) {
                    return Err(refuse(i, layer, "a pooling layer must feed a synaptic layer (dense or conv2d, after an optional flatten): the hardware folds the pooling into that layer's input routing, which is exact only because the synapses are linear in the counts"));
                }
                pool = Some((i, p.kernel, in_shape));
                i += 1;
                continue;
            }
            Layer::LifRecurrent(_) => {
                return Err(refuse(i, layer, "lif_recurrent layers are not supported by the hardware generator; use the native form or lif_group (decouple to groups)"))
            }
            _ => return Err(refuse(i, layer, "expected a dense or conv2d layer here")),
        };
        let pooled = pool.take();
        let window = pooled.map_or(1, |(_, k, _)| k[0] * k[1]);
        let route = match (&conv, pooled) {
            (_, Some((_, k, src))) => Some(RoutePlan::new(src, k)?),
            (Some(_), None) => Some(RoutePlan::new(in_shape, [1, 1])?),
            (None, None) => None,
        };
        let src_len = route.as_ref().map_or(n_in, |r| r.src.len());
        let ei = engines.len();
        let neuron = net.layers.get(i + 1).filter(|l| l.is_neuron());
        let mut rho_prefix = false;
        let (kind, thresholds, events, out_count, leak, reset, max_out, rho, state) = match neuron {
            None => (EngineKind::Current, 0, 1, 0, None, Reset::Zero, 0u64, 0, 1),
            Some(Layer::Lifb(n)) => {
                let b = n.max_burst as usize;
                (
                    EngineKind::Lifb,
                    b,
                    1,
                    bits_u(b as u64),
                    Some(n.leak),
                    n.reset,
                    b as u64,
                    0,
                    membrane,
                )
            }
            Some(Layer::LifGroup(g)) => {
                let gk = g.group as usize;
                rho_prefix = g.reset == Reset::Subtract && thresholds_ascending(g);
                // the neuron ROM holds each rho, or (rho_prefix) the prefix sums of every row
                let (rho_max, removed_max) = if rho_prefix {
                    let m = rho_prefix_sums(g).into_iter().max().unwrap_or(0);
                    (m, m)
                } else {
                    let m = g.rho.iter().map(|&r| r as i64).max().unwrap_or(0);
                    (m, gk as i64 * m)
                };
                let rho = if rho_max <= v_max {
                    membrane - 1
                } else if rho_prefix {
                    bits_u(rho_max as u64)
                } else {
                    31
                };
                let state = match g.reset {
                    Reset::Zero => membrane,
                    Reset::Subtract if rho_prefix => bits_s(fx.v_min() - removed_max, fx.v_max()),
                    Reset::Subtract => {
                        bits_s(fx.v_min() - gk as i64 * ((1i64 << rho) - 1), fx.v_max())
                    }
                };
                (
                    EngineKind::Group,
                    gk,
                    gk,
                    1,
                    Some(g.leak),
                    g.reset,
                    1,
                    rho,
                    state,
                )
            }
            Some(l) => {
                return Err(refuse(
                    i + 1,
                    l,
                    "this neuron layer kind is not supported by the hardware generator",
                ))
            }
        };
        if state > 64 {
            return Err(refuse(i + 1, neuron.unwrap(), "the membrane would need more than 64 bits of storage (rho values beyond the membrane range); lower rho"));
        }
        let n = n_out;
        // conv engines spread output channels over the lanes
        let lane_span = conv.as_ref().map_or(n, |c| c.out_channels);
        let lanes = per_engine(&opts.lanes, "--lanes", ei, lane_span)?
            .unwrap_or(lane_span.min(super::DEFAULT_LANES_PER_ENGINE));
        let conv = conv.map(|mut c| {
            c.channel_groups = c.out_channels.div_ceil(lanes);
            c.last_group_channels = c.out_channels - (c.channel_groups - 1) * lanes;
            c.per_channel = neuron.is_none_or(|l| per_channel_params(l, shapes[i]));
            c
        });
        let passes = match &conv {
            Some(c) => c.positions() * c.channel_groups,
            None => n.div_ceil(lanes),
        };
        // firing happens once per neuron and step, accumulating once per input event: a quarter
        // of the lanes keeps the fire process off the critical path at a quarter of its logic
        let fire_units =
            per_engine(&opts.units, "--units", ei, lanes)?.unwrap_or((lanes / 4).max(1));
        let unit_groups = lanes.div_ceil(fire_units);
        let in_count = bits_u(max_in);
        // Declared bound of |acc + bias|; the simulator guarantees the real one fits 32 bits.
        let bound = (1u128 << (membrane - 1))
            + (fan_in * window) as u128 * (1u128 << (weight - 1)) * max_in as u128;
        let decl = bits_u(bound.min(u64::MAX as u128) as u64) + 1;
        // at least one bit more than a single product count * weight (weight + in_count bits)
        let acc = decl.min(32).max(membrane + 1).max(weight + in_count + 1);
        let leak_impl = match leak {
            None | Some(Leak::Fixed { d: 0 }) => LeakImpl::None,
            Some(Leak::Fixed { d }) if d.is_power_of_two() => {
                LeakImpl::Shift(fx.leak_frac_bits - d.trailing_zeros())
            }
            Some(Leak::Fixed { d }) => LeakImpl::Mul {
                d,
                f: fx.leak_frac_bits,
            },
            Some(Leak::Lambda { .. }) => {
                return Err(Error::bad_input("a float leak in an integer network"))
            }
        };
        let (neuron_params, out_count) = match kind {
            EngineKind::Current => (membrane, acc),
            EngineKind::Lifb => (membrane * (1 + thresholds), out_count),
            EngineKind::Group => (
                membrane * (1 + thresholds)
                    + if reset == Reset::Subtract {
                        thresholds * rho
                    } else {
                        0
                    },
                out_count,
            ),
        };
        let sum = state.max(acc).max(membrane) + 2;
        let module = format!("{}_l{ei}", super::TOP);
        let syn = match (&conv, &net.layers[i]) {
            (Some(c), Layer::Conv2d(l)) => format!(
                "conv2d {}x{}x{} -> {}x{}x{} k{}x{} s{}x{} p{}x{}",
                c.in_channels,
                c.y.len,
                c.x.len,
                c.out_channels,
                c.y.out,
                c.x.out,
                l.kernel[0],
                l.kernel[1],
                l.stride[0],
                l.stride[1],
                l.padding[0],
                l.padding[1]
            ),
            _ => format!("dense {}x{}", n_in, n),
        };
        let syn = match pooled {
            Some((pl, k, _)) => format!("sum_pool2d {}x{} (layer {pl}) + {syn}", k[0], k[1]),
            None => syn,
        };
        let desc = match neuron {
            Some(l) => format!(
                "{syn} + {} (layers {i}, {}), {lanes} lanes",
                l.kind_name(),
                i + 1
            ),
            None => format!("{syn} (layer {i}), current readout, {lanes} lanes"),
        };
        let w_depth = match &conv {
            Some(c) => c.in_channels * c.y.kernel * c.x.kernel * c.channel_groups,
            None => n_in * passes,
        };
        let spram = if opts.spram.contains(&ei) {
            if conv.is_some() {
                return Err(refuse(i, layer, &format!("--spram: only dense engines keep their weights in SPRAM (a conv engine's shared kernel fits block RAM); drop engine {ei} from --spram")));
            }
            let port = engines
                .iter()
                .filter(|e| e.memories.spram.is_some())
                .count();
            Some(SpramPlan {
                slices: (lanes * weight).div_ceil(SPRAM_BITS),
                banks: w_depth.div_ceil(SPRAM_WORDS),
                port,
            })
        } else {
            None
        };
        let state_in_block_ram = opts.state_bram.contains(&ei);
        if state_in_block_ram && conv.is_some() {
            return Err(refuse(i, layer, &format!("--state-bram: only dense engines keep their accumulators and membranes in block RAM; drop engine {ei} from --state-bram")));
        }
        let weight_slices = match &spram {
            Some(sp) => (0..sp.slices)
                .map(|s| {
                    let lo = s * SPRAM_BITS;
                    let width = SPRAM_BITS.min(lanes * weight - lo);
                    (lo, width, format!("{module}_w{s}.hex"))
                })
                .collect(),
            None => rom_slices(&module, w_depth, lanes * weight),
        };
        engines.push(EnginePlan {
            memories: Memories {
                weight_slices,
                neuron_file: format!("{module}_n.hex"),
                fifo_addr: clog2(src_len + 2).clamp(2, 10),
                spram,
                state_in_block_ram,
            },
            module,
            desc,
            syn_layer: i,
            neuron_layer: neuron.map(|_| i + 1),
            kind,
            inputs: n_in,
            neurons: n,
            max_in_count: max_in,
            const_in: ei == 0 && net.input.encoding.is_constant(),
            parallelism: Parallelism {
                lanes,
                passes,
                fire_units,
                unit_groups,
                fire_words: passes * unit_groups,
            },
            widths: Widths {
                in_index: clog2(n_in),
                in_count,
                source_index: clog2(src_len),
                out_index: clog2(n * events),
                out_count,
                state,
                weight,
                acc,
                membrane,
                sum,
                rho,
                neuron_params,
                pass_index: clog2(passes),
                pass_count: bits_u(passes as u64),
                pending_index: clog2(fire_units * events),
                unit_index: clog2(fire_units),
                weight_addr: clog2(w_depth),
            },
            neuron: NeuronPlan {
                thresholds,
                events,
                leak: leak_impl,
                reset_zero: reset == Reset::Zero,
                rho_prefix,
            },
            conv,
            route,
        });
        max_in = max_out;
        i += if neuron.is_some() { 2 } else { 1 };
    }
    if engines.is_empty() {
        return Err(Error::bad_input("the network has no dense or conv2d layer"));
    }
    for (list, flag) in [(&opts.lanes, "--lanes"), (&opts.units, "--units")] {
        if let Lanes::List(v) = list {
            if v.len() > 1 && v.len() != engines.len() {
                return Err(Error::bad_input(format!(
                    "{flag} gives {} values for {} engines; give one value or one per engine",
                    v.len(),
                    engines.len()
                )));
            }
        }
    }
    for (list, flag) in [(&opts.spram, "--spram"), (&opts.state_bram, "--state-bram")] {
        if let Some(&e) = list.iter().find(|&&e| e >= engines.len()) {
            return Err(Error::bad_input(format!(
                "{flag} names engine {e}, but the design has {} engine(s), numbered from 0",
                engines.len()
            )));
        }
    }
    let blocks: usize = engines
        .iter()
        .filter_map(|e| e.memories.spram.as_ref().map(SpramPlan::blocks))
        .sum();
    if blocks > SPRAM_BLOCKS {
        let each: Vec<String> = engines
            .iter()
            .filter_map(|e| {
                let sp = e.memories.spram.as_ref()?;
                Some(format!(
                    "engine {}: {} lanes x {} bits in {} slice(s) x {} bank(s)",
                    e.module, e.parallelism.lanes, e.widths.weight, sp.slices, sp.banks
                ))
            })
            .collect();
        return Err(Error::bad_input(format!(
            "--spram: the weights need {blocks} SPRAM blocks of {SPRAM_WORDS} x {SPRAM_BITS} bits ({}), an iCE40 UP5K has {SPRAM_BLOCKS}: a block holds one 16-bit slice of the weight word for {SPRAM_WORDS} words, so choose --lanes with ceil(lanes x weight bits / 16) x ceil(inputs x passes / {SPRAM_WORDS}) <= {SPRAM_BLOCKS} in all (fewer lanes give narrower but more words), or keep an engine's weights in block RAM",
            each.join("; ")
        )));
    }
    let last = engines.last().expect("not empty");
    let classes = last.neurons;
    let score_bits = match last.kind {
        EngineKind::Current => last.widths.acc + 16,
        _ => 16 + bits_u((last.neuron.thresholds * last.neuron.events.max(1)) as u64) + 1,
    };
    Ok(Plan {
        classes,
        class_index_bits: clog2(classes),
        class_count_bits: bits_u(classes as u64),
        score_bits,
        input_len: net.input.shape.len(),
        encoding: net.input.encoding,
        engines,
    })
}

/// Whether a neuron layer's parameters are shared per channel (or by the whole layer) on this
/// map, so that a conv engine's neuron ROM needs one word per channel group, not per position.
fn per_channel_params(l: &Layer<i32>, shape: Shape) -> bool {
    let hw = shape.h * shape.w;
    if hw == 1 {
        return true;
    }
    let ok = |len: usize, per: usize| {
        (0..shape.len()).all(|n| {
            let r = param_row(len, per, shape, n);
            r == 0 || r == n / hw
        }) && (len / per == 1 || len / per == shape.c)
    };
    match l {
        Layer::Lifb(n) => ok(n.threshold.len(), 1) && ok(n.spacing.len(), 1),
        Layer::LifGroup(g) => {
            let k = g.group as usize;
            ok(g.thresholds.len(), k) && ok(g.rho.len(), k)
        }
        _ => true,
    }
}

/// The cycle model's prose formula lives with the model itself (`cosim::cycles`).
pub use crate::cosim::cycles::CYCLE_FORMULA;

#[cfg(test)]
mod tests {
    use super::*;

    fn group(thresholds: Vec<i32>, rho: Vec<i32>) -> LifGroup<i32> {
        LifGroup {
            leak: Leak::Fixed { d: 0 },
            group: 3,
            thresholds,
            rho,
            reset: Reset::Subtract,
        }
    }

    #[test]
    fn ascending_thresholds_are_checked_row_by_row() {
        // equal thresholds fire together, so they keep the prefix property
        assert!(thresholds_ascending(&group(
            vec![5, 7, 7, 1, 2, 3],
            vec![1; 3]
        )));
        // the second row descends once
        assert!(!thresholds_ascending(&group(
            vec![5, 7, 9, 1, 3, 2],
            vec![1; 3]
        )));
    }

    #[test]
    fn prefix_sums_restart_at_every_row() {
        let g = group(vec![1, 2, 3], vec![4, 5, 6, 1, 1, 1]);
        assert_eq!(rho_prefix_sums(&g), vec![4, 9, 15, 1, 2, 3]);
    }
}
