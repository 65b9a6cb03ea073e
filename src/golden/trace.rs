//! Simulation traces: every neuron layer's spike counts at every step (docs/file-formats.md, "Trace").

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const TRACE_FORMAT: &str = "lifb-trace";
pub const TRACE_VERSION: u32 = 1;
/// Largest trace file read back.
pub const MAX_TRACE_FILE: u64 = 2 << 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub format: String,
    pub version: u32,
    /// "integer" or "float".
    pub model: String,
    /// sha256 of the model's canonical bytes, when known.
    pub model_hash: Option<String>,
    pub steps: u32,
    pub samples: Vec<SampleTrace>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SampleTrace {
    /// Index of the sample in its input set (also the rate encoder's sample number).
    pub sample: u64,
    /// One entry per neuron layer, in network order.
    pub layers: Vec<LayerTrace>,
    /// Per class: summed output spike counts (spiking readout) or summed currents (integrator
    /// readout), over all steps.
    pub readout: Vec<f64>,
    pub predicted: usize,
    pub label: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LayerTrace {
    /// Index of the layer in the network.
    pub layer: usize,
    pub kind: String,
    /// counts[step][neuron]: spikes emitted in that step (0..=B).
    pub counts: Vec<Vec<u32>>,
    /// membranes[step][neuron]: post-reset membrane, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membranes: Option<Vec<Vec<f64>>>,
}

impl Trace {
    pub fn new(model: &str, model_hash: Option<String>, steps: u32) -> Self {
        Trace {
            format: TRACE_FORMAT.into(),
            version: TRACE_VERSION,
            model: model.into(),
            model_hash,
            steps,
            samples: Vec::new(),
        }
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let json =
            serde_json::to_vec(self).map_err(|e| Error::tool(format!("serializing trace: {e}")))?;
        crate::util::write_atomic(path, &json)
    }

    pub fn read(path: &Path) -> Result<Self> {
        let bytes = crate::util::read_limited(path, MAX_TRACE_FILE)?;
        let t: Trace = serde_json::from_slice(&bytes)
            .map_err(|e| Error::bad_input(format!("{}: not a trace file: {e}", path.display())))?;
        if t.format != TRACE_FORMAT || t.version != TRACE_VERSION {
            return Err(Error::bad_input(format!(
                "{}: trace format {} v{} is not {TRACE_FORMAT} v{TRACE_VERSION}",
                path.display(),
                t.format,
                t.version
            )));
        }
        Ok(t)
    }
}

/// The first place two sample traces differ, as a sentence naming layer, neuron, step, expected
/// and actual values.
pub fn first_divergence(expected: &SampleTrace, actual: &SampleTrace) -> Option<String> {
    if expected.layers.len() != actual.layers.len() {
        return Some(format!(
            "sample {}: expected {} traced layers, got {}",
            expected.sample,
            expected.layers.len(),
            actual.layers.len()
        ));
    }
    let steps = expected.layers.first().map_or(0, |l| l.counts.len());
    for step in 0..steps {
        for (le, la) in expected.layers.iter().zip(&actual.layers) {
            let (ce, ca) = match (le.counts.get(step), la.counts.get(step)) {
                (Some(a), Some(b)) => (a, b),
                _ => {
                    return Some(format!(
                        "sample {}: layer {} has no step {step}",
                        expected.sample, le.layer
                    ))
                }
            };
            if ce.len() != ca.len() {
                return Some(format!(
                    "sample {} step {step} layer {} ({}): expected {} neurons, got {}",
                    expected.sample,
                    le.layer,
                    le.kind,
                    ce.len(),
                    ca.len()
                ));
            }
            if let Some(n) = (0..ce.len()).find(|&n| ce[n] != ca[n]) {
                let mem = le
                    .membranes
                    .as_ref()
                    .and_then(|m| m.get(step))
                    .and_then(|m| m.get(n))
                    .map(|v| format!(", expected membrane after the step {v}"))
                    .unwrap_or_default();
                return Some(format!(
                    "sample {} step {step} layer {} ({}) neuron {n}: expected count {}, got {}{mem}",
                    expected.sample, le.layer, le.kind, ce[n], ca[n]
                ));
            }
        }
    }
    if expected.readout != actual.readout {
        return Some(format!(
            "sample {}: readout differs: expected {:?}, got {:?}",
            expected.sample, expected.readout, actual.readout
        ));
    }
    None
}
