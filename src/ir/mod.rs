//! The network IR: one representation that every front end produces and every pass and back end
//! consumes. A network is generic over its number type: `f32` for the float model (training,
//! import) and `i32` for the integer model (quantized; what the golden simulator and the hardware
//! run). The semantics of both are in docs/semantics.md.

mod display;
mod legal;
pub mod random;
mod shape;

pub use legal::readout_rule_error;
pub use shape::{Shape, MAX_ELEMENTS, MAX_WINDOW};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;

/// A number type a network can hold.
pub trait Elem: Copy + Debug + PartialEq + Default + Send + Sync + 'static {
    /// The safetensors dtype name ("F32" or "I32").
    const DTYPE: &'static str;
    fn to_f64(self) -> f64;
    fn is_finite(self) -> bool;
    /// A real number in this type: rounded half away from zero and clamped for integers.
    fn from_f64_rounded(x: f64) -> Self;
}

impl Elem for f32 {
    const DTYPE: &'static str = "F32";
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    fn from_f64_rounded(x: f64) -> f32 {
        x as f32
    }
}

impl Elem for i32 {
    const DTYPE: &'static str = "I32";
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn is_finite(self) -> bool {
        true
    }
    fn from_f64_rounded(x: f64) -> i32 {
        x.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32
    }
}

pub type FloatNetwork = Network<f32>;
pub type IntNetwork = Network<i32>;

#[derive(Debug, Clone, PartialEq)]
pub struct Network<T> {
    pub name: String,
    pub input: InputSpec,
    pub layers: Vec<Layer<T>>,
    /// Present exactly on integer networks: the bit widths of the fixed-point model.
    pub fixed: Option<FixedPoint>,
    /// Free-form facts carried along (accuracy, provenance); never read by the semantics.
    pub meta: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub shape: Shape,
    pub encoding: Encoding,
}

/// How an input sample (values in [0, 1] for float networks, 0..=2^input_bits-1 for integer ones)
/// becomes the first layer's input at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encoding {
    /// The input values themselves, the same at every step.
    Direct,
    /// A seeded Bernoulli spike per input per step with probability value/max.
    Rate { seed: u64 },
    /// A spike count 0..=max_count per input per step: round(value/max * max_count), every step.
    Burst { max_count: u32 },
    /// Per-step input (a train): a sample holds one vector per step (T x N values, step-major),
    /// and step t's vector is the first layer's input at step t, as `direct` takes its one vector
    /// (docs/file-formats.md, "Input trains"). The tools set it when they are given trains.
    Steps,
}

impl Encoding {
    /// Whether the first layer's input is the same at every step (so its current can be reused,
    /// and the hardware streams the inputs once per sample).
    pub fn is_constant(self) -> bool {
        matches!(self, Encoding::Direct | Encoding::Burst { .. })
    }

    /// How many values one sample holds for `inputs` inputs and `steps` steps: one vector, or
    /// one per step.
    pub fn sample_len(self, inputs: usize, steps: u32) -> usize {
        match self {
            Encoding::Steps => inputs.saturating_mul(steps as usize),
            _ => inputs,
        }
    }
}

/// The neuron form of a network: its LIFB neurons as they are, or one of the two decoupled forms
/// (docs/semantics.md, "Decoupling"). The hardware generator builds the native and group forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// One membrane per LIFB neuron; a spike count 0..=B goes to the next layer.
    Native,
    /// The group form: each LIFB neuron becomes B binary sub-units sharing one membrane (exact
    /// always). "decoupled" in the hardware commands; "group" is accepted too.
    #[value(alias = "group")]
    #[serde(alias = "group")]
    Decoupled,
    /// The pure-LIF form: B standard LIF units per neuron with lateral synapses (exact without
    /// leak; subtract reset only).
    PureLif,
}

impl Form {
    /// The word for this form on the command line, in manifests and reports.
    pub fn name(self) -> &'static str {
        match self {
            Form::Native => "native",
            Form::Decoupled => "decoupled",
            Form::PureLif => "pure-lif",
        }
    }
}

/// Bit widths of an integer network (docs/semantics.md, "Integer model").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedPoint {
    /// Signed weight and bias width, 2..=16.
    pub weight_bits: u32,
    /// Signed membrane width, 4..=32; H and V saturate to it.
    pub membrane_bits: u32,
    /// Unsigned input value width, 1..=16.
    pub input_bits: u32,
    /// Fractional bits of the leak factor d: leak(V) = V - ((V * d) >> leak_frac_bits), 0..=16.
    pub leak_frac_bits: u32,
    /// Per layer: the float current that one integer unit stands for (1.0 for non-synaptic layers).
    pub scales: Vec<f32>,
}

impl FixedPoint {
    pub fn v_min(&self) -> i64 {
        -(1i64 << (self.membrane_bits - 1))
    }
    pub fn v_max(&self) -> i64 {
        (1i64 << (self.membrane_bits - 1)) - 1
    }
    pub fn input_max(&self) -> u32 {
        ((1u64 << self.input_bits) - 1) as u32
    }
    pub fn weight_max(&self) -> i64 {
        (1i64 << (self.weight_bits - 1)) - 1
    }
    pub fn weight_min(&self) -> i64 {
        -(1i64 << (self.weight_bits - 1))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Layer<T> {
    Dense(Dense<T>),
    Conv2d(Conv2d<T>),
    Pool(Pool),
    Flatten,
    Lifb(Lifb<T>),
    LifGroup(LifGroup<T>),
    LifRecurrent(LifRecurrent<T>),
}

/// y = W x + b, W stored row-major as [out][in] (PyTorch's layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Dense<T> {
    pub in_features: usize,
    pub out_features: usize,
    pub weight: Vec<T>,
    pub bias: Option<Vec<T>>,
}

/// 2-D cross-correlation on (C, H, W) inputs; weight [out][in][kh][kw]; zero padding.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d<T> {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub weight: Vec<T>,
    pub bias: Option<Vec<T>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    /// Sum of the window. Exact on spike counts.
    Sum,
    /// Mean of the window. Only in float networks: quantization turns it into Sum and folds
    /// 1/(kh*kw) into the next synaptic layer's scale.
    Avg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub kind: PoolKind,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Leak {
    /// Float networks: H = lam * V + X, lam in [0, 1].
    Lambda { lam: f32 },
    /// Integer networks: H = V - ((V * d) >> leak_frac_bits) + X, 0 <= d <= 2^leak_frac_bits.
    Fixed { d: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reset {
    Subtract,
    Zero,
}

/// LIFB neurons, elementwise on the previous layer's currents. max_burst = 1 is plain LIF.
/// threshold and spacing hold 1 value (per layer), C values (per channel) or N values (per neuron).
#[derive(Debug, Clone, PartialEq)]
pub struct Lifb<T> {
    pub leak: Leak,
    pub threshold: Vec<T>,
    pub spacing: Vec<T>,
    pub max_burst: u32,
    pub reset: Reset,
}

/// Decoupled group form: each neuron is `group` binary LIF sub-units sharing one membrane.
/// Sub-unit k fires on H >= thresholds[p][k]; the membrane loses sum_k s_k * rho[p][k] (subtract)
/// or is zeroed (zero). Output channel c*group + k carries sub-unit k of channel c.
/// thresholds and rho are [P][group] with P = 1, C or N.
#[derive(Debug, Clone, PartialEq)]
pub struct LifGroup<T> {
    pub leak: Leak,
    pub group: u32,
    pub thresholds: Vec<T>,
    pub rho: Vec<T>,
    pub reset: Reset,
}

/// Decoupled pure-LIF form: standard LIF units, each with its own membrane and subtract-by-own-
/// threshold reset, plus lateral synapses inside each group of `group` units with a one-step
/// delay: unit k receives sum_j lateral[p][k][j] * s_j(t-1) on top of its input current.
/// thresholds is [P][group], lateral [P][group][group], P = 1, C or N (of the original neurons).
/// Input and output shapes are equal; channel c*group + k is sub-unit k of original channel c.
#[derive(Debug, Clone, PartialEq)]
pub struct LifRecurrent<T> {
    pub leak: Leak,
    pub group: u32,
    pub thresholds: Vec<T>,
    pub lateral: Vec<T>,
}

impl<T> Layer<T> {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Conv2d(_) => "conv2d",
            Layer::Pool(p) => match p.kind {
                PoolKind::Sum => "sum_pool2d",
                PoolKind::Avg => "avg_pool2d",
            },
            Layer::Flatten => "flatten",
            Layer::Lifb(l) if l.max_burst == 1 => "lif",
            Layer::Lifb(_) => "lifb",
            Layer::LifGroup(_) => "lif_group",
            Layer::LifRecurrent(_) => "lif_recurrent",
        }
    }

    /// Number of stored parameters (weights, biases, neuron parameters).
    pub fn parameter_count(&self) -> usize {
        match self {
            Layer::Dense(d) => d.weight.len() + d.bias.as_ref().map_or(0, Vec::len),
            Layer::Conv2d(c) => c.weight.len() + c.bias.as_ref().map_or(0, Vec::len),
            Layer::Lifb(n) => n.threshold.len() + n.spacing.len(),
            Layer::LifGroup(n) => n.thresholds.len() + n.rho.len(),
            Layer::LifRecurrent(n) => n.thresholds.len() + n.lateral.len(),
            Layer::Pool(_) | Layer::Flatten => 0,
        }
    }

    pub fn is_neuron(&self) -> bool {
        matches!(
            self,
            Layer::Lifb(_) | Layer::LifGroup(_) | Layer::LifRecurrent(_)
        )
    }

    pub fn is_synaptic(&self) -> bool {
        matches!(self, Layer::Dense(_) | Layer::Conv2d(_))
    }

    /// Largest spike count one output of this neuron layer can carry in one step.
    pub fn max_count(&self) -> Option<u32> {
        match self {
            Layer::Lifb(l) => Some(l.max_burst),
            Layer::LifGroup(_) | Layer::LifRecurrent(_) => Some(1),
            _ => None,
        }
    }
}

/// "layer 3 (dense)": how errors and reports name a layer.
pub fn layer_label<T>(index: usize, layer: &Layer<T>) -> String {
    format!("layer {index} ({})", layer.kind_name())
}

impl<T: Elem> Network<T> {
    pub fn is_integer(&self) -> bool {
        self.fixed.is_some()
    }

    /// Output shape of every layer, checking that each layer fits its input.
    pub fn shapes(&self) -> Result<Vec<Shape>> {
        let mut shapes = Vec::with_capacity(self.layers.len());
        let mut cur = self.input.shape;
        for (i, layer) in self.layers.iter().enumerate() {
            cur = shape::output_shape(layer, cur).map_err(|e| e.context(layer_label(i, layer)))?;
            shapes.push(cur);
        }
        Ok(shapes)
    }

    /// Input shape of layer i.
    pub fn input_shape_of(&self, shapes: &[Shape], i: usize) -> Shape {
        if i == 0 {
            self.input.shape
        } else {
            shapes[i - 1]
        }
    }

    pub fn output_shape(&self) -> Result<Shape> {
        Ok(self.shapes()?.last().copied().unwrap_or(self.input.shape))
    }

    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Layer::parameter_count).sum()
    }

    /// The output width of every dense layer, in order.
    pub fn dense_widths(&self) -> Vec<usize> {
        let dense = |l: &Layer<T>| match l {
            Layer::Dense(d) => Some(d.out_features),
            _ => None,
        };
        self.layers.iter().filter_map(dense).collect()
    }

    /// Full structural and numeric validation: shapes, tensor lengths, parameter ranges, widths,
    /// and the bounds that keep the integer arithmetic exact ([`Network::check_bounds`]).
    /// Every front end and the loader call this; passes may assume a validated network.
    pub fn validate(&self) -> Result<()> {
        self.validate_structure()?;
        self.check_bounds()
    }

    /// [`Network::validate`] without the arithmetic bounds.
    pub fn validate_structure(&self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::bad_input("the network has no layers"));
        }
        self.input
            .shape
            .validate()
            .map_err(|e| e.context("input"))?;
        if let Encoding::Burst { max_count } = self.input.encoding {
            if max_count == 0 || max_count > 255 {
                return Err(Error::bad_input(format!(
                    "input: burst encoding max_count must be 1..=255, got {max_count}"
                )));
            }
        }
        if let Some(fx) = &self.fixed {
            validate_fixed(fx, self.layers.len())?;
        }
        if !self.layers[0].is_synaptic() {
            return Err(Error::bad_input(format!(
                "{}: the first layer must be dense or conv2d (it turns inputs into currents)",
                layer_label(0, &self.layers[0])
            )));
        }
        let shapes = self.shapes()?;
        let mut prev_synaptic = false;
        for (i, layer) in self.layers.iter().enumerate() {
            let input = self.input_shape_of(&shapes, i);
            self.validate_layer(layer, input)
                .map_err(|e| e.context(layer_label(i, layer)))?;
            if layer.is_neuron() && !prev_synaptic {
                return Err(Error::bad_input(format!(
                    "{}: a neuron layer must follow a dense or conv2d layer (it takes currents)",
                    layer_label(i, layer)
                )));
            }
            if layer.is_synaptic() && i > 0 && prev_synaptic {
                return Err(Error::bad_input(format!(
                    "{}: two synaptic layers in a row; merge them or put a neuron layer between",
                    layer_label(i, layer)
                )));
            }
            if layer.is_synaptic() {
                prev_synaptic = true;
            } else if layer.is_neuron() {
                prev_synaptic = false;
            } else if prev_synaptic {
                return Err(Error::bad_input(format!(
                    "{}: pooling or flattening currents is not supported; put it after a neuron layer",
                    layer_label(i, layer)
                )));
            }
        }
        Ok(())
    }

    fn validate_layer(&self, layer: &Layer<T>, input: Shape) -> Result<()> {
        let int = self.fixed.as_ref();
        match layer {
            Layer::Dense(d) => {
                let n = product(&[d.out_features, d.in_features])?;
                check_synapse(&d.weight, n, d.bias.as_deref(), d.out_features, int)?;
            }
            Layer::Conv2d(c) => {
                let n = product(&[c.out_channels, c.in_channels, c.kernel[0], c.kernel[1]])?;
                check_synapse(&c.weight, n, c.bias.as_deref(), c.out_channels, int)?;
            }
            Layer::Pool(p) => {
                if int.is_some() && p.kind == PoolKind::Avg {
                    return Err(Error::bad_input(
                        "avg_pool2d is not allowed in an integer network (quantize turns it into sum_pool2d)",
                    ));
                }
            }
            Layer::Flatten => {}
            Layer::Lifb(n) => {
                check_leak(n.leak, int)?;
                if n.max_burst == 0 || n.max_burst > 64 {
                    return Err(Error::bad_input(format!(
                        "max_burst (B) must be 1..=64, got {}",
                        n.max_burst
                    )));
                }
                check_param_len("threshold", n.threshold.len(), input, 1)?;
                check_param_len("spacing", n.spacing.len(), input, 1)?;
                check_positive("threshold", &n.threshold)?;
                check_positive("spacing", &n.spacing)?;
                if let Some(f) = int {
                    for i in
                        broadcast_neurons(&[(n.threshold.len(), 1), (n.spacing.len(), 1)], input)
                    {
                        let th = n.threshold[param_row(n.threshold.len(), 1, input, i)].to_f64();
                        let sp = n.spacing[param_row(n.spacing.len(), 1, input, i)].to_f64();
                        let top = burst_threshold(th, sp, n.max_burst - 1);
                        if top > f.v_max() as f64 {
                            return Err(Error::bad_input(format!(
                                "the highest burst threshold theta + (B-1)*D = {top} does not fit the {}-bit membrane (max {}); widen --membrane-bits or lower B",
                                f.membrane_bits,
                                f.v_max()
                            )));
                        }
                    }
                }
            }
            Layer::LifGroup(n) => {
                check_leak(n.leak, int)?;
                check_group(n.group)?;
                let g = n.group as usize;
                check_param_len("thresholds", n.thresholds.len(), input, g)?;
                check_param_len("rho", n.rho.len(), input, g)?;
                check_positive("thresholds", &n.thresholds)?;
                check_positive("rho", &n.rho)?;
                check_values("thresholds", &n.thresholds, int.map(|f| (1, f.v_max())))?;
            }
            Layer::LifRecurrent(n) => {
                check_leak(n.leak, int)?;
                check_group(n.group)?;
                let g = n.group as usize;
                if !input.c.is_multiple_of(g) {
                    return Err(Error::bad_input(format!(
                        "{} channels are not a whole number of groups of {g}",
                        input.c
                    )));
                }
                let orig = Shape {
                    c: input.c / g,
                    ..input
                };
                check_param_len("thresholds", n.thresholds.len(), orig, g)?;
                check_param_len("lateral", n.lateral.len(), orig, g * g)?;
                check_positive("thresholds", &n.thresholds)?;
                check_values("thresholds", &n.thresholds, int.map(|f| (1, f.v_max())))?;
                check_values("lateral", &n.lateral, int.map(|f| (f.v_min(), f.v_max())))?;
            }
        }
        Ok(())
    }
}

fn validate_fixed(f: &FixedPoint, layers: usize) -> Result<()> {
    let bad = |what: &str, v: u32, lo: u32, hi: u32| {
        Error::bad_input(format!("fixed point: {what} must be {lo}..={hi}, got {v}"))
    };
    if !(2..=16).contains(&f.weight_bits) {
        return Err(bad("weight_bits", f.weight_bits, 2, 16));
    }
    if !(4..=32).contains(&f.membrane_bits) {
        return Err(bad("membrane_bits", f.membrane_bits, 4, 32));
    }
    if !(1..=16).contains(&f.input_bits) {
        return Err(bad("input_bits", f.input_bits, 1, 16));
    }
    if f.leak_frac_bits > 16 {
        return Err(bad("leak_frac_bits", f.leak_frac_bits, 0, 16));
    }
    if f.scales.len() != layers {
        return Err(Error::bad_input(format!(
            "fixed point: {} scales for {layers} layers",
            f.scales.len()
        )));
    }
    if f.scales.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(Error::bad_input(
            "fixed point: every scale must be finite and > 0",
        ));
    }
    Ok(())
}

fn check_group(g: u32) -> Result<()> {
    if g == 0 || g > 64 {
        return Err(Error::bad_input(format!(
            "group size must be 1..=64, got {g}"
        )));
    }
    Ok(())
}

fn check_leak(leak: Leak, int: Option<&FixedPoint>) -> Result<()> {
    match (leak, int) {
        (Leak::Lambda { lam }, None) => {
            if !(0.0..=1.0).contains(&lam) {
                return Err(Error::bad_input(format!(
                    "leak lam must be in [0, 1], got {lam}"
                )));
            }
        }
        (Leak::Fixed { d }, Some(f)) => {
            if d as u64 > 1u64 << f.leak_frac_bits {
                return Err(Error::bad_input(format!(
                    "leak d = {d} exceeds 2^leak_frac_bits = {}",
                    1u64 << f.leak_frac_bits
                )));
            }
        }
        (Leak::Lambda { .. }, Some(_)) => {
            return Err(Error::bad_input(
                "an integer network needs a fixed leak {d}, found lam",
            ))
        }
        (Leak::Fixed { .. }, None) => {
            return Err(Error::bad_input(
                "a float network needs a leak lam, found fixed d",
            ))
        }
    }
    Ok(())
}

/// A synaptic layer's `n_weights` weights (within the weight width of an integer network) and
/// optional bias (one per output, within the membrane width).
fn check_synapse<T: Elem>(
    weight: &[T],
    n_weights: usize,
    bias: Option<&[T]>,
    outputs: usize,
    int: Option<&FixedPoint>,
) -> Result<()> {
    check_len("weight", weight, n_weights)?;
    if let Some(b) = bias {
        check_len("bias", b, outputs)?;
    }
    check_values(
        "weight",
        weight,
        int.map(|f| (f.weight_min(), f.weight_max())),
    )?;
    if let Some(b) = bias {
        check_values("bias", b, int.map(|f| (f.v_min(), f.v_max())))?;
    }
    Ok(())
}

fn check_len<T>(what: &str, v: &[T], want: usize) -> Result<()> {
    if v.len() != want {
        return Err(Error::bad_input(format!(
            "{what} has {} values, expected {want}",
            v.len()
        )));
    }
    Ok(())
}

/// The product of some sizes, or a bad-input error when it overflows.
fn product(sizes: &[usize]) -> Result<usize> {
    sizes
        .iter()
        .try_fold(1usize, |acc, &x| acc.checked_mul(x))
        .ok_or_else(|| Error::bad_input(format!("the sizes {sizes:?} multiply beyond any tensor")))
}

/// Per-layer, per-channel or per-neuron parameters, each `per` values wide.
fn check_param_len(what: &str, len: usize, input: Shape, per: usize) -> Result<()> {
    let ok = [1, input.c, input.len()]
        .iter()
        .any(|p| p.checked_mul(per) == Some(len));
    if !ok {
        return Err(Error::bad_input(format!(
            "{what} has {len} values; expected {per} (per layer), {} (per channel) or {} (per neuron)",
            input.c.saturating_mul(per),
            input.len().saturating_mul(per)
        )));
    }
    Ok(())
}

fn check_positive<T: Elem>(what: &str, v: &[T]) -> Result<()> {
    for (i, x) in v.iter().enumerate() {
        let f = x.to_f64();
        if !f.is_finite() || f <= 0.0 {
            return Err(Error::bad_input(format!(
                "{what}[{i}] = {f} but must be a finite number > 0"
            )));
        }
    }
    Ok(())
}

fn check_values<T: Elem>(what: &str, v: &[T], range: Option<(i64, i64)>) -> Result<()> {
    for (i, x) in v.iter().enumerate() {
        if !x.is_finite() {
            return Err(Error::bad_input(format!(
                "{what}[{i}] is not finite ({x:?})"
            )));
        }
        if let Some((lo, hi)) = range {
            let f = x.to_f64();
            if f < lo as f64 || f > hi as f64 {
                return Err(Error::bad_input(format!(
                    "{what}[{i}] = {f} is outside the representable range {lo}..={hi}"
                )));
            }
        }
    }
    Ok(())
}

/// The burst-threshold ladder, written once: the k-th threshold (k = 0..B-1) of a LIFB neuron with
/// threshold theta and spacing D is theta + k * D (docs/semantics.md: a neuron fires
/// #{k in 1..=B : H >= theta + (k-1) D} spikes). The group form's sub-unit thresholds, the
/// hardware's comparator constants and the membrane-width checks all use this.
///
/// Computed in f64: exact for integer networks (|theta|, |D| < 2^31 and k < 64 keep every value
/// below 2^38), one rounding for float networks.
#[inline]
pub fn burst_threshold(theta: f64, spacing: f64, k: u32) -> f64 {
    theta + k as f64 * spacing
}

/// [`burst_threshold`] for integer parameters (exact).
#[inline]
pub fn burst_threshold_int(theta: i64, spacing: i64, k: u32) -> i64 {
    burst_threshold(theta as f64, spacing as f64, k) as i64
}

/// Neurons that between them meet every combination of rows of some parameter vectors
/// broadcast over a layer of shape `shape`; each vector is given as (len, per) as for
/// [`param_row`]. Every neuron when one vector is per neuron, the first neuron of each channel
/// when one is per channel, else neuron 0. Checks over all neurons' parameters (the top burst
/// threshold, the accumulator bound) iterate over these instead of `0..max(len)` with `i % len`,
/// which pairs the wrong rows when a per-channel vector meets a per-neuron one.
pub fn broadcast_neurons(vectors: &[(usize, usize)], shape: Shape) -> impl Iterator<Item = usize> {
    let hw = (shape.h * shape.w).max(1);
    let rows = |&(len, per): &(usize, usize)| len / per.max(1);
    let per_neuron = vectors
        .iter()
        .any(|v| rows(v) == shape.len() && shape.len() != shape.c);
    let per_channel = vectors.iter().any(|v| rows(v) == shape.c && rows(v) != 1);
    let (count, stride) = if per_neuron {
        (shape.len(), 1)
    } else if per_channel {
        (shape.c, hw)
    } else {
        (1, 1)
    };
    (0..count).map(move |i| i * stride)
}

/// Index into a parameter vector stored per layer (len = per), per channel (len = C*per) or per
/// neuron (len = N*per), for neuron `n` of a layer of shape `shape`: the one broadcasting rule
/// for neuron parameters (the simulators, the passes and the back ends all use it).
#[inline]
pub fn param_row(len: usize, per: usize, shape: Shape, n: usize) -> usize {
    let rows = len / per;
    if rows == 1 {
        0
    } else if rows == shape.c && rows != shape.len() {
        n / (shape.h * shape.w)
    } else {
        n
    }
}
