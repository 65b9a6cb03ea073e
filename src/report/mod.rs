//! The report of a run: `report.json` (everything measured) and a self-contained `report.html` with inline
//! SVG figures (spike raster of one input through every layer, resting/regular/burst shares per layer, cycles per
//! layer, resources against the device).
//!
//! The caller fills a [`ReportData`] (every part optional except the title, so each stage can report what it
//! has) and calls [`write`]. Derived figures (latency at fmax, images/s, energy) are computed here, once.
//!
//! ```no_run
//! use lifb_hdl::report::{self, ReportData};
//! let mut data = ReportData::new("MNIST 784-128-10");
//! data.cycles_per_image = Some(1500);
//! report::write(&data, std::path::Path::new("out/report"))?;
//! # Ok::<(), lifb_hdl::Error>(())
//! ```

mod html;
pub mod repro;
pub mod svg;
pub mod sweep;
pub mod training;

pub use repro::{Reproducibility, ToolVersion};
pub use training::EpochPoint;

use crate::error::{Error, Result};
use crate::synth::SynthResult;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything a report can show. Missing parts are left out of the page (and are `null` in report.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub title: String,
    /// Model file or name the run started from.
    pub model: Option<String>,
    pub accuracy: Accuracy,
    pub verification: Option<Verification>,
    /// Clock cycles the hardware takes for one image (all time steps), from co-simulation.
    pub cycles_per_image: Option<u64>,
    /// A lower bound on cycles per image for this architecture, and what it assumes.
    pub lower_bound_cycles: Option<u64>,
    pub lower_bound_note: Option<String>,
    /// Time steps per image.
    pub steps: Option<u32>,
    pub layers: Vec<LayerReport>,
    pub raster: Option<Raster>,
    /// Synthesis result; its run times are left out of the report (they differ between identical runs).
    pub synth: Option<SynthResult>,
    /// Synaptic operations per image (input events x fan-out of the design's engines, an event of
    /// any count one accumulation per synapse: `cosim::cycles::synaptic_ops`), averaged over the
    /// co-simulated images, and neuron updates per image (every neuron at every step).
    pub synaptic_ops_per_image: Option<f64>,
    pub neuron_updates_per_image: Option<f64>,
    pub energy_model: EnergyModel,
    /// Loss and accuracy per training epoch, from the model's meta (None: the model records none).
    #[serde(default)]
    pub training: Option<Vec<EpochPoint>>,
    /// Why there is no training curve, when the model's history could not be shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_note: Option<String>,
    /// The command line, versions and tools of the run.
    #[serde(default)]
    pub reproducibility: Option<Reproducibility>,
    /// Free-form remarks shown at the end of the page.
    pub notes: Vec<String>,
    /// Wall time of each pipeline step before the report, in run order. The only part of
    /// report.json that changes between identical runs; the page does not show it, so
    /// report.html stays byte-identical.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_seconds: Vec<StepTime>,
}

/// The wall time of one pipeline step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    pub step: String,
    pub seconds: f64,
}

impl ReportData {
    pub fn new(title: impl Into<String>) -> Self {
        ReportData {
            title: title.into(),
            model: None,
            accuracy: Accuracy::default(),
            verification: None,
            cycles_per_image: None,
            lower_bound_cycles: None,
            lower_bound_note: None,
            steps: None,
            layers: Vec::new(),
            raster: None,
            synth: None,
            synaptic_ops_per_image: None,
            neuron_updates_per_image: None,
            energy_model: EnergyModel::default(),
            training: None,
            training_note: None,
            reproducibility: None,
            notes: Vec::new(),
            step_seconds: Vec::new(),
        }
    }
}

/// Accuracy (fraction 0..1) of each representation. The golden models are evaluated on `images`
/// images, the RTL only on the `rtl_images` co-simulated ones, so each row carries its own count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Images the float, integer and decoupled accuracies are measured on.
    pub images: Option<u64>,
    /// Images the RTL accuracy is measured on (the co-simulated ones).
    #[serde(default)]
    pub rtl_images: Option<u64>,
    pub float: Option<f64>,
    pub integer: Option<f64>,
    pub decoupled: Option<f64>,
    pub rtl: Option<f64>,
}

/// Did the RTL produce the golden model's spikes exactly?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub spike_exact: bool,
    pub inputs_checked: u64,
    /// What was compared, or the first mismatch (layer, neuron, step, expected, actual).
    pub detail: String,
}

/// Per-layer activity and cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    pub name: String,
    /// "dense", "conv2d", "lifb", ...
    pub kind: String,
    pub neurons: u64,
    /// Neuron-steps by output mode, summed over the evaluated images.
    pub modes: Option<ModeCounts>,
    /// Cycles per image spent in this layer, split by phase (e.g. "accumulate", "fire"); may be empty.
    pub cycles: Vec<CyclePart>,
    /// The Verilog module of the engine that computes this layer (names its row among the
    /// resources per module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_module: Option<String>,
}

/// How often a neuron-step emitted 0 spikes (resting), 1 (regular) or more (burst).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeCounts {
    pub resting: u64,
    pub regular: u64,
    pub burst: u64,
}

impl ModeCounts {
    pub fn total(&self) -> u64 {
        self.resting + self.regular + self.burst
    }
    /// Count one neuron-step that emitted `spikes` spikes.
    pub fn add(&mut self, spikes: u32) {
        match spikes {
            0 => self.resting += 1,
            1 => self.regular += 1,
            _ => self.burst += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CyclePart {
    pub phase: String,
    pub cycles: u64,
}

/// Spikes of one input through every layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raster {
    /// Which input (e.g. "test image 0, label 7, predicted 7").
    pub input: String,
    pub steps: u32,
    pub layers: Vec<RasterLayer>,
    /// What the counts stand for when the hardware form differs from them (e.g. a decoupled
    /// design, whose binary sub-unit spikes are shown summed per LIFB neuron).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RasterLayer {
    pub name: String,
    pub neurons: u32,
    /// Non-zero spike counts only.
    pub events: Vec<SpikeEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpikeEvent {
    pub step: u32,
    pub neuron: u32,
    pub count: u32,
}

/// Energy per operation. The default constants are 45 nm figures (Horowitz, ISSCC 2014): a 32-bit integer
/// add 0.1 pJ and a 32-bit read from a small SRAM about 5 pJ; an FPGA spends more per operation, so the
/// estimate is a floor for comparing designs, not a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyModel {
    /// One synaptic operation: a weight read plus an accumulate.
    pub pj_per_synaptic_op: f64,
    /// One neuron update: leak, threshold compare, reset.
    pub pj_per_neuron_update: f64,
    pub source: String,
}

impl Default for EnergyModel {
    fn default() -> Self {
        EnergyModel {
            pj_per_synaptic_op: 5.1,
            pj_per_neuron_update: 0.3,
            source: "45 nm CMOS (Horowitz, ISSCC 2014): SRAM word read 5 pJ + 32-bit add 0.1 pJ per synaptic \
                     operation; three 32-bit adds/compares per neuron update"
                .into(),
        }
    }
}

/// Figures computed from the data (one place for each formula).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// The slowest clock's fmax (MHz).
    pub fmax_mhz: Option<f64>,
    /// cycles_per_image / fmax.
    pub latency_us: Option<f64>,
    pub images_per_s: Option<f64>,
    /// cycles_per_image / lower_bound_cycles.
    pub cycles_over_lower_bound: Option<f64>,
    pub energy_uj_per_image: Option<f64>,
}

impl Derived {
    pub fn of(data: &ReportData) -> Derived {
        let fmax_mhz = data.synth.as_ref().and_then(|s| s.min_fmax_mhz());
        let latency_us = match (data.cycles_per_image, fmax_mhz) {
            (Some(c), Some(f)) if f > 0.0 => Some(c as f64 / f),
            _ => None,
        };
        let images_per_s = latency_us.filter(|l| *l > 0.0).map(|l| 1e6 / l);
        let cycles_over_lower_bound = match (data.cycles_per_image, data.lower_bound_cycles) {
            (Some(c), Some(lb)) if lb > 0 => Some(c as f64 / lb as f64),
            _ => None,
        };
        let e = &data.energy_model;
        let energy_uj_per_image = match (data.synaptic_ops_per_image, data.neuron_updates_per_image)
        {
            (None, None) => None,
            (s, n) => Some(
                (s.unwrap_or(0.0) * e.pj_per_synaptic_op
                    + n.unwrap_or(0.0) * e.pj_per_neuron_update)
                    * 1e-6,
            ),
        };
        Derived {
            fmax_mhz,
            latency_us,
            images_per_s,
            cycles_over_lower_bound,
            energy_uj_per_image,
        }
    }
}

/// The version of report.json's layout (docs/report.schema.json). Raised when a field changes
/// meaning or type, or goes away; new optional fields keep it.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct ReportJson<'a> {
    format_version: u32,
    #[serde(flatten)]
    data: &'a ReportData,
    derived: Derived,
}

/// The data as reported: without tool run times, so the same model and options give the same bytes.
fn reportable(data: &ReportData) -> std::borrow::Cow<'_, ReportData> {
    match &data.synth {
        Some(s) if s.runtime.is_some() => {
            let mut d = data.clone();
            d.synth = Some(s.without_runtime());
            std::borrow::Cow::Owned(d)
        }
        _ => std::borrow::Cow::Borrowed(data),
    }
}

/// Paths of the written files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub json: PathBuf,
    pub html: PathBuf,
}

/// Check the data for values a report cannot show honestly (accuracies outside 0..1, raster events out of range).
pub fn validate(data: &ReportData) -> Result<()> {
    let acc = &data.accuracy;
    for (name, v) in [
        ("float", acc.float),
        ("integer", acc.integer),
        ("decoupled", acc.decoupled),
        ("rtl", acc.rtl),
    ] {
        if let Some(v) = v {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::bad_input(format!(
                    "report: {name} accuracy {v} is not a fraction between 0 and 1"
                )));
            }
        }
    }
    if let Some(t) = &data.training {
        training::check(t).map_err(|e| Error::bad_input(format!("report: {e}")))?;
    }
    if let Some(r) = &data.raster {
        for l in &r.layers {
            if let Some(e) = l
                .events
                .iter()
                .find(|e| e.step >= r.steps || e.neuron >= l.neurons || e.count == 0)
            {
                return Err(Error::bad_input(format!(
                    "report: raster layer '{}' has an event at step {}, neuron {}, count {} outside its {} steps x {} neurons",
                    l.name, e.step, e.neuron, e.count, r.steps, l.neurons
                )));
            }
        }
    }
    Ok(())
}

/// The JSON text of the report (data plus derived figures).
pub fn to_json(data: &ReportData) -> Result<Vec<u8>> {
    let data = &*reportable(data);
    let mut json = serde_json::to_vec_pretty(&ReportJson {
        format_version: FORMAT_VERSION,
        data,
        derived: Derived::of(data),
    })
    .map_err(|e| Error::tool(format!("cannot serialize the report: {e}")))?;
    json.push(b'\n');
    Ok(json)
}

/// The self-contained HTML page.
pub fn to_html(data: &ReportData) -> String {
    let data = &*reportable(data);
    html::page(data, &Derived::of(data))
}

/// Write `report.json` and `report.html` into `dir` (each atomically).
pub fn write(data: &ReportData, dir: &Path) -> Result<ReportFiles> {
    validate(data)?;
    let json = dir.join("report.json");
    let html = dir.join("report.html");
    crate::util::write_atomic(&json, &to_json(data)?)?;
    crate::util::write_atomic(&html, to_html(data).as_bytes())?;
    Ok(ReportFiles { json, html })
}

/// The name of network layer `index` of kind `kind` in every figure and table of the report
/// (e.g. "layer 1 (lifb)"), so one layer reads the same in the raster, modes and cycle figures.
pub fn layer_name(index: usize, kind: &str) -> String {
    format!("layer {index} ({kind})")
}

/// Spike raster of one traced sample: every neuron layer, named by [`layer_name`].
pub fn raster_from_trace(
    trace: &crate::golden::trace::Trace,
    sample: usize,
    input: impl Into<String>,
) -> Option<Raster> {
    let s = trace.samples.get(sample)?;
    let layers = s
        .layers
        .iter()
        .map(|l| {
            let neurons = l.counts.first().map_or(0, |c| c.len()) as u32;
            let events = l
                .counts
                .iter()
                .enumerate()
                .flat_map(|(step, row)| {
                    row.iter()
                        .enumerate()
                        .filter(|(_, c)| **c > 0)
                        .map(move |(n, c)| SpikeEvent {
                            step: step as u32,
                            neuron: n as u32,
                            count: *c,
                        })
                })
                .collect();
            RasterLayer {
                name: layer_name(l.layer, &l.kind),
                neurons,
                events,
            }
        })
        .collect();
    Some(Raster {
        input: input.into(),
        steps: trace.steps,
        layers,
        note: None,
    })
}

/// Resting/regular/burst counts per neuron layer over every sample of a trace (in the trace's layer order).
pub fn mode_counts_from_trace(trace: &crate::golden::trace::Trace) -> Vec<ModeCounts> {
    let mut counts: Vec<ModeCounts> = Vec::new();
    for s in &trace.samples {
        if counts.len() < s.layers.len() {
            counts.resize(s.layers.len(), ModeCounts::default());
        }
        for (i, l) in s.layers.iter().enumerate() {
            for row in &l.counts {
                for &c in row {
                    counts[i].add(c);
                }
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden::trace::{LayerTrace, SampleTrace, Trace};

    fn trace() -> Trace {
        let mut t = Trace::new("integer", None, 3);
        t.samples.push(SampleTrace {
            sample: 0,
            layers: vec![LayerTrace {
                layer: 1,
                kind: "lifb".into(),
                counts: vec![vec![0, 1], vec![3, 0], vec![0, 0]],
                membranes: None,
            }],
            readout: vec![],
            predicted: 0,
            label: None,
        });
        t
    }

    #[test]
    fn raster_and_modes_from_a_trace() {
        let t = trace();
        let r = raster_from_trace(&t, 0, "sample 0").unwrap();
        assert_eq!(r.steps, 3);
        assert_eq!(r.layers[0].name, "layer 1 (lifb)");
        assert_eq!(r.layers[0].neurons, 2);
        assert_eq!(
            r.layers[0].events,
            vec![
                SpikeEvent {
                    step: 0,
                    neuron: 1,
                    count: 1
                },
                SpikeEvent {
                    step: 1,
                    neuron: 0,
                    count: 3
                }
            ]
        );
        assert!(raster_from_trace(&t, 1, "none").is_none());
        let m = mode_counts_from_trace(&t);
        assert_eq!(
            m,
            vec![ModeCounts {
                resting: 4,
                regular: 1,
                burst: 1
            }]
        );
    }

    #[test]
    fn derived_figures() {
        let mut d = ReportData::new("t");
        assert_eq!(Derived::of(&d).latency_us, None);
        d.cycles_per_image = Some(2000);
        d.lower_bound_cycles = Some(1000);
        d.synaptic_ops_per_image = Some(1e6);
        let x = Derived::of(&d);
        assert_eq!(x.cycles_over_lower_bound, Some(2.0));
        assert!((x.energy_uj_per_image.unwrap() - 5.1).abs() < 1e-12);
    }
}
