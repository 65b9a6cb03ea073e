//! Legality of the arithmetic: the bounds that keep every integer current and spike count exact.
//! docs/semantics.md ("Integer model") promises that the current X of a neuron never overflows:
//! |X| <= |b| + sum |w| * (largest count of an input) for every synaptic output, plus, for the
//! pure-LIF form (`lif_recurrent`), the sum of |lateral| weights of the unit. A network whose bound
//! exceeds 2^31 - 1 is refused here, when it is built or loaded, naming the layer and the neuron.

use super::{layer_label, param_row, Elem, Encoding, Layer, Network, Shape};
use crate::error::{Error, Result};

/// The largest current the integer datapath (golden simulator and RTL) holds exactly.
pub const CURRENT_MAX: u128 = i32::MAX as u128;

/// The largest spike count one value between layers may carry (counts are added as i32).
pub const COUNT_MAX: u128 = i32::MAX as u128;

impl<T: Elem> Network<T> {
    /// Check that every current of an integer network (synaptic, plus lateral for `lif_recurrent`)
    /// fits 32 bits, and that no spike count after sum pooling exceeds 2^31 - 1 (any network).
    /// Assumes [`Network::validate_structure`] passed. Exact integer arithmetic (u128): no
    /// rounding and no overflow for any validated network.
    pub fn check_bounds(&self) -> Result<()> {
        let shapes = self.shapes()?;
        let int = self.fixed.is_some();
        // Largest count (or input value) one input of the next synaptic layer can carry.
        let mut max_count: u128 = match self.input.encoding {
            Encoding::Direct | Encoding::Steps => {
                self.fixed.as_ref().map_or(1, |f| f.input_max() as u128)
            }
            Encoding::Rate { .. } => 1,
            Encoding::Burst { max_count } => max_count as u128,
        };
        // Per output of the last synaptic layer: the bound of its current, and how many
        // consecutive neurons share one bound (H*W for a convolution's channel, 1 for dense).
        let mut currents: Vec<u128> = Vec::new();
        let mut per_bound = 1usize;
        for (li, layer) in self.layers.iter().enumerate() {
            let input = self.input_shape_of(&shapes, li);
            let out = shapes[li];
            let label = || layer_label(li, layer);
            match layer {
                Layer::Dense(d) => {
                    if int {
                        currents =
                            synaptic_bounds(&d.weight, d.bias.as_deref(), d.in_features, max_count);
                        per_bound = 1;
                        check_currents(&currents, per_bound, label)?;
                    }
                }
                Layer::Conv2d(c) => {
                    if int {
                        let fan_in = c.in_channels * c.kernel[0] * c.kernel[1];
                        currents = synaptic_bounds(&c.weight, c.bias.as_deref(), fan_in, max_count);
                        per_bound = out.h * out.w;
                        check_currents(&currents, per_bound, label)?;
                    }
                }
                Layer::Pool(p) => {
                    max_count = max_count.saturating_mul((p.kernel[0] * p.kernel[1]) as u128);
                    if max_count > COUNT_MAX {
                        return Err(Error::bad_input(format!(
                            "{}: a pooled spike count can reach {max_count}, beyond {COUNT_MAX}; use fewer or smaller pooling windows",
                            label()
                        )));
                    }
                }
                Layer::Flatten => {}
                Layer::Lifb(n) => max_count = n.max_burst as u128,
                Layer::LifGroup(_) => max_count = 1,
                Layer::LifRecurrent(n) => {
                    max_count = 1;
                    if int {
                        check_lateral(li, layer, n, input, &currents, per_bound)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<T> Network<T> {
    /// The readout rule: the last layer is a neuron layer (spike-count readout) or a synaptic
    /// layer (current readout). The golden simulators and the hardware both rely on it.
    pub fn check_readout(&self) -> Result<()> {
        match self.layers.last() {
            None => Err(Error::bad_input("the network has no layers")),
            Some(l) if l.is_neuron() || l.is_synaptic() => Ok(()),
            Some(l) => Err(readout_rule_error(self.layers.len() - 1, l)),
        }
    }
}

/// The error for a last layer that has no readout (pooling, flatten).
pub fn readout_rule_error<T>(index: usize, last: &Layer<T>) -> Error {
    Error::bad_input(format!(
        "{}: the last layer must be a neuron layer (spike-count readout) or a synaptic layer (current readout)",
        layer_label(index, last)
    ))
}

/// |b_o| + sum_i |w_oi| * max_count for every output row o.
fn synaptic_bounds<T: Elem>(
    weight: &[T],
    bias: Option<&[T]>,
    fan_in: usize,
    max_count: u128,
) -> Vec<u128> {
    weight
        .chunks(fan_in.max(1))
        .enumerate()
        .map(|(o, row)| {
            let sum: u128 = row.iter().map(|w| abs_int(*w)).sum();
            let b = bias.map_or(0, |b| abs_int(b[o]));
            b.saturating_add(sum.saturating_mul(max_count))
        })
        .collect()
}

/// |x| of a validated integer value (weights and biases are within 32 bits).
fn abs_int<T: Elem>(x: T) -> u128 {
    x.to_f64().abs() as u128
}

fn check_currents(bounds: &[u128], per_bound: usize, label: impl Fn() -> String) -> Result<()> {
    if let Some((o, b)) = bounds.iter().enumerate().find(|(_, &b)| b > CURRENT_MAX) {
        let which = if per_bound > 1 {
            format!("output channel {o}")
        } else {
            format!("output {o}")
        };
        return Err(Error::bad_input(format!(
            "{} {which}: the input current can reach {b}, beyond a 32-bit accumulator; use fewer weight bits or smaller inputs",
            label()
        )));
    }
    Ok(())
}

/// A `lif_recurrent` unit adds its lateral weights to the current of the synaptic layer before:
/// the sum must fit 32 bits too.
fn check_lateral<T: Elem>(
    li: usize,
    layer: &Layer<T>,
    n: &super::LifRecurrent<T>,
    input: Shape,
    currents: &[u128],
    per_bound: usize,
) -> Result<()> {
    let g = n.group as usize;
    let hw = input.h * input.w;
    let orig = Shape {
        c: input.c / g,
        ..input
    };
    for u in 0..input.len() {
        let (cc, p) = (u / hw, u % hw);
        let (c, k) = (cc / g, cc % g);
        let row = param_row(n.lateral.len(), g * g, orig, c * hw + p);
        let base = row * g * g + k * g;
        let lateral: u128 = n.lateral[base..base + g].iter().map(|w| abs_int(*w)).sum();
        let current = currents.get(u / per_bound.max(1)).copied().unwrap_or(0);
        let bound = current.saturating_add(lateral);
        if bound > CURRENT_MAX {
            return Err(Error::bad_input(format!(
                "{} unit {u}: the input current ({current}) plus the lateral synapses ({lateral}) can reach {bound}, beyond a 32-bit accumulator; lower the thresholds (they set the lateral weights) or the weights before",
                layer_label(li, layer)
            )));
        }
    }
    Ok(())
}
