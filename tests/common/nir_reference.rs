//! The reference spikes of the NIR fixtures (tests/fixtures/nir/*.json, written by
//! scripts/make-nir-fixtures.py from snnTorch and the NIR reference reading): per sample the
//! input, each neuron layer's spike counts per step, and the readout; and our float simulator's
//! trace of the same input, for the NIR import and state-dict tests to compare.

use lifb_hdl::golden::{SampleTrace, Sim, TraceOptions};
use serde_json::Value;

/// One sample of a reference file.
pub struct RefSample {
    pub input: Vec<f32>,
    /// Per neuron layer: its NIR node and its spike counts, `[step][neuron]`.
    pub layers: Vec<(String, Vec<Vec<u32>>)>,
    /// The readout, where the reference records one.
    pub readout: Option<Vec<f64>>,
}

/// The time steps of a reference file.
pub fn steps(reference: &Value) -> u32 {
    reference["steps"].as_u64().unwrap() as u32
}

/// The samples of a reference file.
pub fn samples(reference: &Value) -> Vec<RefSample> {
    let samples = reference["samples"].as_array().expect("reference samples");
    samples
        .iter()
        .map(|s| RefSample {
            input: s["input"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect(),
            layers: s["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    let node = l["node"].as_str().unwrap_or_default().to_string();
                    (node, serde_json::from_value(l["counts"].clone()).unwrap())
                })
                .collect(),
            readout: (!s["readout"].is_null())
                .then(|| serde_json::from_value(s["readout"].clone()).unwrap()),
        })
        .collect()
}

/// Our float simulator's spike counts (no membranes) and readout for one sample, with the
/// sample's index as the seed.
pub fn simulate(sim: &Sim<f32>, input: &[f32], index: usize, steps: u32) -> SampleTrace {
    let opts = TraceOptions {
        counts: true,
        membranes: false,
    };
    sim.run(input, index as u64, steps, opts).unwrap()
}
