//! Accuracy of models on a data set with the golden simulators (float and integer), and the
//! agreement between two models image by image. Runs on all cores (scoped threads).

use super::Dataset;
use crate::error::Result;
use crate::golden::encode::quantize_input;
use crate::golden::{Sim, SimElem};
use crate::ir::{FloatNetwork, IntNetwork};

/// Predicted class and readout of every image.
pub type Outputs = Vec<(usize, Vec<f64>)>;

/// Run `sim` on every input (sample number = index, for rate coding).
pub fn run_all<T: SimElem>(sim: &Sim<T>, inputs: &[Vec<T::Input>], steps: u32) -> Result<Outputs> {
    let parts = crate::util::par_chunks(inputs, crate::util::worker_threads(), |first, part| {
        let mut ws = sim.workspace();
        part.iter()
            .enumerate()
            .map(|(i, x)| {
                let class = sim.classify_in(&mut ws, x, (first + i) as u64, steps)?;
                Ok((class, ws.readout().to_vec()))
            })
            .collect::<Result<Outputs>>()
    })?;
    Ok(parts.into_iter().flatten().collect())
}

/// Float inputs as the float model sees them: rounded to `input_bits` when the model was trained
/// (and will be quantized) with integer inputs, else the raw values.
pub fn float_inputs(ds: &Dataset, input_bits: Option<u32>) -> Vec<Vec<f32>> {
    (0..ds.len())
        .map(|i| {
            let x = ds.image(i);
            match input_bits {
                Some(b) => {
                    let l = (1u32 << b) - 1;
                    x.iter()
                        .map(|&v| quantize_input(v, l) as f32 / l as f32)
                        .collect()
                }
                None => x.to_vec(),
            }
        })
        .collect()
}

/// Integer inputs 0..=2^input_bits - 1.
pub fn int_inputs(ds: &Dataset, input_bits: u32) -> Vec<Vec<u32>> {
    let l = (1u32 << input_bits) - 1;
    (0..ds.len())
        .map(|i| ds.image(i).iter().map(|&v| quantize_input(v, l)).collect())
        .collect()
}

pub fn accuracy(out: &Outputs, labels: &[u8]) -> f64 {
    let ok = out
        .iter()
        .zip(labels)
        .filter(|((p, _), &l)| *p == l as usize)
        .count();
    ok as f64 / labels.len().max(1) as f64
}

/// Fraction of images on which two models predict the same class, and on which their readouts
/// are identical.
pub fn agreement(a: &Outputs, b: &Outputs) -> (f64, f64) {
    let n = a.len().max(1) as f64;
    let same_class = a.iter().zip(b).filter(|(x, y)| x.0 == y.0).count() as f64 / n;
    let same_readout = a.iter().zip(b).filter(|(x, y)| x.1 == y.1).count() as f64 / n;
    (same_class, same_readout)
}

pub fn float_outputs(
    net: &FloatNetwork,
    ds: &Dataset,
    steps: u32,
    input_bits: Option<u32>,
) -> Result<Outputs> {
    let sim = Sim::<f32>::new(net)?;
    run_all(&sim, &float_inputs(ds, input_bits), steps)
}

pub fn int_outputs(net: &IntNetwork, ds: &Dataset, steps: u32) -> Result<Outputs> {
    let sim = Sim::<i32>::new(net)?;
    let bits = net.fixed.as_ref().map_or(8, |f| f.input_bits);
    run_all(&sim, &int_inputs(ds, bits), steps)
}

/// Test accuracy of a float model in the golden float simulator.
pub fn float_accuracy(
    net: &FloatNetwork,
    ds: &Dataset,
    steps: u32,
    input_bits: Option<u32>,
) -> Result<f64> {
    Ok(accuracy(
        &float_outputs(net, ds, steps, input_bits)?,
        &ds.labels,
    ))
}
