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

/// One engine: a dense layer and the neuron layer after it (if any).
#[derive(Debug, Clone)]
pub struct EnginePlan {
    pub module: String,
    pub desc: String,
    pub syn_layer: usize,
    pub neuron_layer: Option<usize>,
    pub kind: EngineKind,
    /// Inputs (events come with an index below this) and neurons.
    pub n_in: usize,
    pub n: usize,
    /// Lanes and passes = ceil(n / p).
    pub p: usize,
    pub passes: usize,
    /// Fire units (q <= p), unit groups per pass r = ceil(p / q), fire words = passes * r.
    pub q: usize,
    pub r: usize,
    pub words: usize,
    /// Width of a pass counter (0..=passes) and of a pass index (0..passes).
    pub pw: usize,
    pub ai: usize,
    /// Input event index and count widths; largest input count.
    pub iw: usize,
    pub cw: usize,
    pub max_in: u64,
    /// Output event index and count widths.
    pub oiw: usize,
    pub ocw: usize,
    /// Membrane storage, weight, accumulator, membrane (saturation), sum widths.
    pub vw: usize,
    pub wb: usize,
    pub accw: usize,
    pub mb: usize,
    pub hw: usize,
    /// Thresholds per neuron (B or g), events per fire unit (1 or g); widths of an index into the
    /// pending events (q * e) and of a unit index.
    pub k: usize,
    pub e: usize,
    pub jw: usize,
    pub lw: usize,
    /// Bits per lane of a neuron-ROM word; rho width.
    pub lb: usize,
    pub rw: usize,
    pub w_aw: usize,
    /// Weight ROM files, one per slice of the word: (low bit, width, file).
    pub w_slices: Vec<(usize, usize, String)>,
    pub n_file: String,
    pub leak: LeakImpl,
    pub reset_zero: bool,
    /// A subtract-reset group whose thresholds ascend in every row: the sub-units that fire are
    /// always a prefix 0..c-1, so the neuron ROM holds prefix sums of rho (one subtraction).
    pub rho_prefix: bool,
    /// The input is the same every step (direct/burst encoding, first engine): accumulate once.
    pub const_in: bool,
    pub fifo_aw: usize,
    /// A convolution engine's geometry (None: a dense engine).
    pub conv: Option<ConvPlan>,
    /// Event routing in front of the engine (decode and pooling; always for conv engines, for a
    /// dense engine only after a pool).
    pub route: Option<RoutePlan>,
    /// Index width of the arriving events (the FIFO's index field): `iw` unless routed.
    pub src_iw: usize,
}

impl EnginePlan {
    /// Accumulator words (one per cycle) an input event with source index `i` costs: `passes`
    /// for a dense engine, valid taps x channel groups for a conv engine, 0 for an event the
    /// routing drops (a pooling remainder).
    pub fn event_words(&self, i: usize) -> u64 {
        let (y, x) = match &self.route {
            Some(r) => match r.route(i) {
                Some((_, y, x)) => (y, x),
                None => return 0,
            },
            None => (0, 0),
        };
        match &self.conv {
            Some(cv) => cv.event_words(y, x) as u64,
            None => self.passes as u64,
        }
    }
    /// Words of the weight ROM.
    pub fn weight_depth(&self) -> usize {
        match &self.conv {
            Some(c) => c.cin * c.y.k * c.x.k * c.cg,
            None => self.n_in * self.passes,
        }
    }
    /// The most accumulator words one input event can cost.
    pub fn max_event_words(&self) -> u64 {
        match &self.conv {
            Some(cv) => (cv.y.max_taps() * cv.x.max_taps() * cv.cg) as u64,
            None => self.passes as u64,
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
        (n / hw / self.e) * hw + n % hw
    }
    /// The neuron (its flat CHW index) that lane `lane` holds in accumulator entry `pass`, if
    /// any. Dense: neuron pass * P + lane; conv: entry = position * CG + cg, channel cg * P + lane.
    pub fn neuron_at(&self, pass: usize, lane: usize) -> Option<usize> {
        match &self.conv {
            None => {
                let o = pass * self.p + lane;
                (lane < self.p && o < self.n).then_some(o)
            }
            Some(c) => {
                let (pos, cg) = (pass / c.cg, pass % c.cg);
                let ch = cg * self.p + lane;
                (lane < self.p && ch < c.cout).then_some(ch * c.positions() + pos)
            }
        }
    }
    /// The shape of the engine's neuron layer (CHW for a conv engine, flat for a dense one).
    pub fn shape_out(&self) -> Shape {
        match &self.conv {
            Some(c) => Shape::chw(c.cout, c.y.out, c.x.out),
            None => Shape::flat(self.n),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub engines: Vec<EnginePlan>,
    pub classes: usize,
    pub ki: usize,
    pub clw: usize,
    pub score_w: usize,
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
    let mb = fx.membrane_bits as usize;
    let wb = fx.weight_bits as usize;
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
                    k: c.kernel[d],
                    s: c.stride[d],
                    p: c.padding[d],
                    out: o,
                };
                let cv = ConvPlan {
                    cin: c.in_channels,
                    cout: c.out_channels,
                    y: ax(0, in_shape.h, out.h),
                    x: ax(1, in_shape.w, out.w),
                    cg: 0,
                    last_cg_channels: 0,
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
        let (kind, k, e, ocw, leak, reset, max_out, rw, vw) = match neuron {
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
                    mb,
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
                let rw = if rho_max <= v_max {
                    mb - 1
                } else if rho_prefix {
                    bits_u(rho_max as u64)
                } else {
                    31
                };
                let vw = match g.reset {
                    Reset::Zero => mb,
                    Reset::Subtract if rho_prefix => bits_s(fx.v_min() - removed_max, fx.v_max()),
                    Reset::Subtract => {
                        bits_s(fx.v_min() - gk as i64 * ((1i64 << rw) - 1), fx.v_max())
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
                    rw,
                    vw,
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
        if vw > 64 {
            return Err(refuse(i + 1, neuron.unwrap(), "the membrane would need more than 64 bits of storage (rho values beyond the membrane range); lower rho"));
        }
        let n = n_out;
        // conv engines spread output channels over the lanes
        let lane_span = conv.as_ref().map_or(n, |c| c.cout);
        let p = per_engine(&opts.lanes, "--lanes", ei, lane_span)?
            .unwrap_or(lane_span.min(super::DEFAULT_LANES_PER_ENGINE));
        let conv = conv.map(|mut c| {
            c.cg = c.cout.div_ceil(p);
            c.last_cg_channels = c.cout - (c.cg - 1) * p;
            c.per_channel = neuron.is_none_or(|l| per_channel_params(l, shapes[i]));
            c
        });
        let passes = match &conv {
            Some(c) => c.positions() * c.cg,
            None => n.div_ceil(p),
        };
        // firing happens once per neuron and step, accumulating once per input event: a quarter
        // of the lanes keeps the fire process off the critical path at a quarter of its logic
        let q = per_engine(&opts.units, "--units", ei, p)?.unwrap_or((p / 4).max(1));
        let r = p.div_ceil(q);
        let cw = bits_u(max_in);
        // Declared bound of |acc + bias|; the simulator guarantees the real one fits 32 bits.
        let bound =
            (1u128 << (mb - 1)) + (fan_in * window) as u128 * (1u128 << (wb - 1)) * max_in as u128;
        let decl = bits_u(bound.min(u64::MAX as u128) as u64) + 1;
        // at least one bit more than a single product count * weight (wb + cw bits)
        let accw = decl.min(32).max(mb + 1).max(wb + cw + 1);
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
        let (lb, ocw) = match kind {
            EngineKind::Current => (mb, accw),
            EngineKind::Lifb => (mb * (1 + k), ocw),
            EngineKind::Group => (
                mb * (1 + k) + if reset == Reset::Subtract { k * rw } else { 0 },
                ocw,
            ),
        };
        let hw = vw.max(accw).max(mb) + 2;
        let module = format!("{}_l{ei}", super::TOP);
        let syn = match (&conv, &net.layers[i]) {
            (Some(c), Layer::Conv2d(l)) => format!(
                "conv2d {}x{}x{} -> {}x{}x{} k{}x{} s{}x{} p{}x{}",
                c.cin,
                c.y.len,
                c.x.len,
                c.cout,
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
                "{syn} + {} (layers {i}, {}), {p} lanes",
                l.kind_name(),
                i + 1
            ),
            None => format!("{syn} (layer {i}), current readout, {p} lanes"),
        };
        let w_depth = match &conv {
            Some(c) => c.cin * c.y.k * c.x.k * c.cg,
            None => n_in * passes,
        };
        engines.push(EnginePlan {
            w_slices: rom_slices(&module, w_depth, p * wb),
            n_file: format!("{module}_n.hex"),
            module,
            desc,
            syn_layer: i,
            neuron_layer: neuron.map(|_| i + 1),
            kind,
            n_in,
            n,
            p,
            passes,
            q,
            r,
            words: passes * r,
            pw: bits_u(passes as u64),
            ai: clog2(passes),
            iw: clog2(n_in),
            cw,
            max_in,
            oiw: clog2(n * e),
            ocw,
            vw,
            wb,
            accw,
            mb,
            hw,
            k,
            e,
            jw: clog2(q * e),
            lw: clog2(q),
            lb,
            rw,
            w_aw: clog2(w_depth),
            leak: leak_impl,
            reset_zero: reset == Reset::Zero,
            rho_prefix,
            const_in: ei == 0 && net.input.encoding.is_constant(),
            fifo_aw: clog2(src_len + 2).clamp(2, 10),
            src_iw: clog2(src_len),
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
    let last = engines.last().expect("not empty");
    let classes = match last.kind {
        EngineKind::Group => last.n,
        _ => last.n,
    };
    let score_w = match last.kind {
        EngineKind::Current => last.accw + 16,
        _ => 16 + bits_u((last.k * last.e.max(1)) as u64) + 1,
    };
    Ok(Plan {
        classes,
        ki: clog2(classes),
        clw: bits_u(classes as u64),
        score_w,
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
