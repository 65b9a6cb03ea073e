//! Verification of the quantization pass against the golden simulators: calibration and
//! agreement of a quantized network with its float original. The pass itself runs no simulator;
//! it takes the calibration score from here.

use crate::error::Result;
use crate::golden::encode::int_inputs;
use crate::golden::{FloatSim, IntSim, TraceOptions};
use crate::ir::{FloatNetwork, IntNetwork};
use crate::quant::{quantize, QuantOptions, QuantReport};
use serde::Serialize;

/// Quantize `net`, choosing each synaptic layer's weight clip to maximise class agreement with the
/// float model on `calibration` (floats in [0, 1]) at `opts.steps` steps. No samples: no
/// calibration.
pub fn quantize_calibrated(
    net: &FloatNetwork,
    opts: &QuantOptions,
    calibration: &[Vec<f32>],
) -> Result<(IntNetwork, QuantReport)> {
    if calibration.is_empty() {
        return quantize(net, opts, None);
    }
    let float = FloatSim::new(net)?;
    let reference: Vec<usize> = calibration
        .iter()
        .enumerate()
        .map(|(s, x)| float.classify(x, s as u64, opts.steps).map(|r| r.0))
        .collect::<Result<_>>()?;
    let mut score = |q: &IntNetwork| agreement_count(q, calibration, &reference, opts.steps);
    quantize(net, opts, Some(&mut score))
}

fn agreement_count(
    q: &IntNetwork,
    calib: &[Vec<f32>],
    reference: &[usize],
    steps: u32,
) -> Result<usize> {
    let sim = IntSim::new(q)?;
    let max = q.fixed.as_ref().map_or(1, |f| f.input_max());
    let mut n = 0;
    for (s, x) in calib.iter().enumerate() {
        let xi = int_inputs(x, max);
        if sim.classify(&xi, s as u64, steps)?.0 == reference[s] {
            n += 1;
        }
    }
    Ok(n)
}

/// How closely an integer network follows its float original on some inputs.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub samples: usize,
    /// Fraction of samples with the same predicted class.
    pub class_agreement: f64,
    /// Per neuron layer: fraction of (step, neuron) spike counts that are equal.
    pub count_agreement: Vec<f64>,
    pub float_accuracy: Option<f64>,
    pub integer_accuracy: Option<f64>,
}

pub fn agreement(
    float: &FloatNetwork,
    int: &IntNetwork,
    inputs: &[Vec<f32>],
    labels: Option<&[u32]>,
    steps: u32,
) -> Result<Agreement> {
    let fs = FloatSim::new(float)?;
    let is = IntSim::new(int)?;
    let max = int.fixed.as_ref().map_or(1, |f| f.input_max());
    let opts = TraceOptions {
        counts: true,
        membranes: false,
    };
    let (mut same, mut fc, mut ic) = (0usize, 0usize, 0usize);
    let mut eq: Vec<(u64, u64)> = Vec::new();
    for (s, x) in inputs.iter().enumerate() {
        let tf = fs.run(x, s as u64, steps, opts)?;
        let ti = is.run(&int_inputs(x, max), s as u64, steps, opts)?;
        same += (tf.predicted == ti.predicted) as usize;
        if let Some(l) = labels {
            fc += (tf.predicted as u32 == l[s]) as usize;
            ic += (ti.predicted as u32 == l[s]) as usize;
        }
        eq.resize(tf.layers.len(), (0, 0));
        for (k, (a, b)) in tf.layers.iter().zip(&ti.layers).enumerate() {
            for (sa, sb) in a.counts.iter().zip(&b.counts) {
                eq[k].0 += sa.iter().zip(sb).filter(|(x, y)| x == y).count() as u64;
                eq[k].1 += sa.len() as u64;
            }
        }
    }
    let n = inputs.len().max(1) as f64;
    Ok(Agreement {
        samples: inputs.len(),
        class_agreement: same as f64 / n,
        count_agreement: eq
            .iter()
            .map(|(a, b)| *a as f64 / (*b).max(1) as f64)
            .collect(),
        float_accuracy: labels.map(|_| fc as f64 / n),
        integer_accuracy: labels.map(|_| ic as f64 / n),
    })
}
