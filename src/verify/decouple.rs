//! Spike-exact comparison of a network with its decoupled form: every neuron layer, every step,
//! every neuron's count against the sum of its sub-units' spikes.

use crate::error::Result;
use crate::golden::{Sim, SimElem, TraceOptions};
use crate::ir::{Layer, Network};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    pub sample: usize,
    pub step: usize,
    /// Index of the neuron layer in the original network.
    pub layer: usize,
    pub neuron: usize,
    pub expected: u32,
    pub actual: u32,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sample {} step {} layer {} neuron {}: original count {}, decoupled sub-units sum to {}",
            self.sample, self.step, self.layer, self.neuron, self.expected, self.actual
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Equivalence {
    /// (sample, step, layer, neuron) counts compared.
    pub compared: u64,
    pub mismatched: u64,
    /// Samples whose predicted class differs.
    pub class_mismatches: u64,
    pub samples: usize,
    pub first: Option<Divergence>,
}

impl Equivalence {
    pub fn exact(&self) -> bool {
        self.mismatched == 0 && self.class_mismatches == 0
    }
    pub fn mismatch_rate(&self) -> f64 {
        if self.compared == 0 {
            0.0
        } else {
            self.mismatched as f64 / self.compared as f64
        }
    }
}

/// Group size of each neuron layer of a network, in order (1 for plain LIFB/LIF layers).
fn groups<T>(net: &Network<T>) -> Vec<(usize, usize)> {
    net.layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            Layer::Lifb(_) => Some((i, 1)),
            Layer::LifGroup(g) => Some((i, g.group as usize)),
            Layer::LifRecurrent(g) => Some((i, g.group as usize)),
            _ => None,
        })
        .collect()
}

/// Simulate `original` and `decoupled` on every input and compare all counts.
pub fn compare<T: SimElem>(
    original: &Network<T>,
    decoupled: &Network<T>,
    inputs: &[Vec<T::Input>],
    steps: u32,
) -> Result<Equivalence> {
    let a = Sim::new(original)?;
    let b = Sim::new(decoupled)?;
    let shapes_b = decoupled.shapes()?;
    let gb = groups(decoupled);
    let opts = TraceOptions {
        counts: true,
        membranes: false,
    };
    let mut eq = Equivalence {
        compared: 0,
        mismatched: 0,
        class_mismatches: 0,
        samples: inputs.len(),
        first: None,
    };
    for (s, x) in inputs.iter().enumerate() {
        let ta = a.run(x, s as u64, steps, opts)?;
        let tb = b.run(x, s as u64, steps, opts)?;
        if ta.predicted != tb.predicted {
            eq.class_mismatches += 1;
        }
        for (li, (la, lb)) in ta.layers.iter().zip(&tb.layers).enumerate() {
            let (bi, g) = gb[li];
            let out = shapes_b[bi];
            let hw = out.h * out.w;
            for (step, (ca, cb)) in la.counts.iter().zip(&lb.counts).enumerate() {
                for (n, &expected) in ca.iter().enumerate() {
                    let (c, p) = (n / hw, n % hw);
                    let actual: u32 = (0..g).map(|k| cb[(c * g + k) * hw + p]).sum();
                    eq.compared += 1;
                    if actual != expected {
                        eq.mismatched += 1;
                        if eq.first.is_none() {
                            eq.first = Some(Divergence {
                                sample: s,
                                step,
                                layer: la.layer,
                                neuron: n,
                                expected,
                                actual,
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(eq)
}
