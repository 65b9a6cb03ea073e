//! The sweep: the flow's generate, co-simulate and synthesize steps for many variants of one
//! model (every neuron form and lane setting), or synthesis of design folders made beforehand.
//! The results are a [`Sweep`] (report::sweep): rows, Pareto front, sweep.json and sweep.html.

use super::SynthVerdict;
use super::{
    load_and_quantize, per_step_network, synth_request, synthesize, InputSource, Progress, RunSteps,
};
use crate::codegen::{self, Design, Form, Lanes};
use crate::cosim::{self, CosimOptions};
use crate::error::{Error, Result};
use crate::report::sweep::{Sweep, SweepRow};
use crate::synth::{Backend, Target};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Lane settings swept when none are given.
pub const DEFAULT_LANES: [&str; 4] = ["16,all", "32,all", "64,all", "128,all"];

/// A sweep of a model's variants.
#[derive(Debug, Clone)]
pub struct ModelSweep {
    pub model: PathBuf,
    pub target: Target,
    pub backend: Backend,
    pub out: PathBuf,
    /// Lane settings (as `generate --lanes` takes them); None: [`DEFAULT_LANES`].
    pub lanes: Option<Vec<String>>,
    /// Fire units per engine for every variant (as `generate --units`).
    pub units: Option<String>,
    pub forms: Vec<Form>,
    pub cosim_images: usize,
    /// The samples co-simulated (the first `cosim_images` of them).
    pub inputs: InputSource,
    pub steps: Option<u32>,
    pub weight_bits: Option<u32>,
    pub input_bits: Option<u32>,
    /// Run synthesis (false: only generate and co-simulate).
    pub synth: bool,
    pub synth_timeout: Option<Duration>,
}

/// A sweep over design folders generated beforehand.
#[derive(Debug, Clone)]
pub struct HdlSweep {
    pub hdl: Vec<PathBuf>,
    pub target: Target,
    pub backend: Backend,
    pub out: PathBuf,
    pub synth_timeout: Option<Duration>,
}

fn manifest_field(dir: &Path, key: &str) -> Option<serde_json::Value> {
    let bytes = crate::util::read_limited(&dir.join("manifest.json"), 16 << 20).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get(key).cloned()
}

/// Synthesize every folder; cycles per image come from each manifest.
pub fn run_hdl(o: &HdlSweep, progress: &mut dyn Progress) -> Result<Sweep> {
    let mut rows = Vec::new();
    for (i, dir) in o.hdl.iter().enumerate() {
        let label = manifest_field(dir, "label")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| {
                dir.file_name()
                    .map_or(format!("variant {i}"), |n| n.to_string_lossy().into_owned())
            });
        let mut row = SweepRow {
            label,
            hdl: dir.display().to_string(),
            cycles_per_image: manifest_field(dir, "cycles_per_image").and_then(|v| v.as_u64()),
            ..SweepRow::default()
        };
        progress.begin(i + 1, o.hdl.len(), &format!("synthesize {}", row.label));
        let req = synth_request(
            dir,
            o.target,
            o.backend,
            o.out.join(format!("{i:02}")),
            o.synth_timeout,
        );
        synth_into(&req, &mut row)?;
        progress.done(&format!("{}: {}", row.label, row.synth_summary()));
        rows.push(row);
    }
    Ok(Sweep {
        title: format!("Sweep on {}", o.target),
        rows,
        synthesized: true,
        target: Some(o.target),
    })
}

/// The lane settings to sweep, each with its label part ("16-all"), all checked before any work.
fn lane_settings(given: Option<&[String]>) -> Result<Vec<(String, String, Lanes)>> {
    let texts: Vec<String> = match given {
        None => DEFAULT_LANES.iter().map(|s| s.to_string()).collect(),
        Some(v) => v.iter().map(|s| s.trim().to_string()).collect(),
    };
    if texts.is_empty() || texts.iter().all(|s| s.is_empty()) {
        return Err(Error::bad_input(
            "sweep --lanes: the list of lane settings is empty; give settings like --lanes '16,all;64,all'",
        ));
    }
    let mut out: Vec<(String, String, Lanes)> = Vec::new();
    for text in texts {
        if text.is_empty() {
            return Err(Error::bad_input(
                "sweep --lanes: an empty lane setting (two ';' in a row?); each setting is like '16,all'",
            ));
        }
        let lanes =
            Lanes::parse(&text).map_err(|e| e.context(format!("sweep --lanes '{text}'")))?;
        let Lanes::List(values) = &lanes else {
            unreachable!("Lanes::parse gives a list")
        };
        let part = values
            .iter()
            .map(|&v| match v {
                0 => "all".to_string(),
                v => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join("-");
        if out.iter().any(|(p, _, _)| *p == part) {
            return Err(Error::bad_input(format!(
                "sweep --lanes: the setting '{text}' is given twice"
            )));
        }
        out.push((part, text, lanes));
    }
    Ok(out)
}

/// A variant generated in memory (nothing is written before every variant has generated).
struct Variant {
    label: String,
    form: Form,
    lanes_text: String,
    opts: codegen::Options,
    design: Design,
}

/// Generate every variant, then per variant: write, co-simulate, synthesize (when spike-exact).
pub fn run_model(o: &ModelSweep, progress: &mut dyn Progress) -> Result<Sweep> {
    // Check every option, the model, the data and every variant before anything is written.
    let settings = lane_settings(o.lanes.as_deref())?;
    let mut forms: Vec<Form> = Vec::new();
    for &f in &o.forms {
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    if forms.is_empty() {
        return Err(Error::bad_input(
            "sweep --forms: no neuron form given; use native, decoupled or native,decoupled",
        ));
    }
    if o.cosim_images == 0 {
        return Err(Error::bad_input(
            "sweep --cosim-images 0: at least one image is needed to measure cycles per image",
        ));
    }
    if o.steps.is_some_and(|s| s == 0 || s > u16::MAX as u32) {
        return Err(Error::bad_input(
            "sweep --steps must be 1..=65535 (the hardware counts steps in 16 bits)",
        ));
    }
    let (_, int, steps) = load_and_quantize(&o.model, o.steps, o.weight_bits, o.input_bits)?;
    let run = RunSteps {
        given: o.steps,
        default: steps,
    };
    let samples = o.inputs.load(&int, Some(o.cosim_images), run)?;
    // Per-step trains: the variants take their input per step, for the trains' steps.
    let (int, steps) = match samples.train_steps {
        Some(_) => (per_step_network(&int)?, run.of(&samples)),
        None => (int, steps),
    };
    let inputs = &samples.int;
    let units = match &o.units {
        Some(s) => Lanes::parse_for("--units", s)?,
        None => Lanes::Default,
    };
    let mut variants = Vec::new();
    for &form in &forms {
        for (part, text, lanes) in &settings {
            let label = format!("{}-{part}", form.name());
            let opts = codegen::Options {
                lanes: lanes.clone(),
                units: units.clone(),
                form,
            };
            let design = codegen::generate(&int, &opts)
                .map_err(|e| e.context(format!("sweep variant {label} (--lanes '{text}')")))?;
            variants.push(Variant {
                label,
                form,
                lanes_text: text.clone(),
                opts,
                design,
            });
        }
    }
    if o.synth {
        // Missing tools fail now, not after the first co-simulation.
        crate::synth::tools::resolve(o.backend, o.target.family(), None)?;
    }
    let device = match o.synth {
        true => o.target.to_string(),
        false => "no device (synthesis skipped)".to_string(),
    };
    progress.line(&format!(
        "sweep: {} on {device}: {} variants ({} form(s) x {} lane setting(s)), {} co-simulated each, T = {steps}",
        o.model.display(),
        variants.len(),
        forms.len(),
        settings.len(),
        samples.describe(),
    ));

    // A decoupled variant is exact only if its golden network (the one its design carries) also
    // equals the LIFB network on the same images: checked once per form.
    let mut form_divergence: Vec<(Form, Option<String>)> = Vec::new();
    for v in &variants {
        if form_divergence.iter().any(|(f, _)| *f == v.form) {
            continue;
        }
        let d = match v.form {
            Form::Native => None,
            Form::Decoupled | Form::PureLif => {
                let eq = crate::verify::compare(&int, &v.design.network, inputs, steps)?;
                (!eq.exact()).then(|| {
                    format!(
                        "the decoupled golden model differs from the LIFB model: {}",
                        eq.first.map(|d| d.to_string()).unwrap_or_default()
                    )
                })
            }
        };
        form_divergence.push((v.form, d));
    }

    let per_variant = if o.synth { 2 } else { 1 };
    let total = variants.len() * per_variant;
    let mut rows: Vec<SweepRow> = Vec::new();
    let mut stage = 0;
    for (vi, v) in variants.iter().enumerate() {
        let vdir = o.out.join(&v.label);
        let rtl = vdir.join("rtl");
        codegen::write(&v.design, &rtl)?;
        let mut row = SweepRow {
            label: v.label.clone(),
            hdl: rtl.display().to_string(),
            form: Some(v.form),
            lanes: Some(v.lanes_text.clone()),
            engine_lanes: Some(v.design.plan.engines.iter().map(|e| e.p).collect()),
            cosim_images: Some(inputs.len()),
            ..SweepRow::default()
        };
        // Lane settings clipped to the layer sizes can give the same design: measure it once.
        if let Some(prev) = variants[..vi]
            .iter()
            .position(|p| p.design.files == v.design.files)
        {
            let p = &rows[prev];
            // every measurement is the earlier variant's; only what names this variant is its own
            let row = SweepRow {
                same_design_as: Some(p.label.clone()),
                ..SweepRow {
                    label: row.label,
                    hdl: row.hdl,
                    form: row.form,
                    lanes: row.lanes,
                    engine_lanes: row.engine_lanes,
                    cosim_images: row.cosim_images,
                    ..p.clone()
                }
            };
            stage += per_variant;
            progress.line(&format!(
                "  [{stage}/{total}] {}: the same design as {} (results reused)",
                v.label, p.label
            ));
            rows.push(row);
            continue;
        }

        stage += 1;
        progress.begin(
            stage,
            total,
            &format!("{}: co-simulate {} images", v.label, inputs.len()),
        );
        let copts = CosimOptions {
            steps,
            codegen: v.opts.clone(),
            cache_dir: cosim::default_cache_dir(),
            ..Default::default()
        };
        let cs = cosim::cosim_design(&v.design, inputs, &copts)?;
        let form_div = form_divergence
            .iter()
            .find(|(f, _)| *f == v.form)
            .and_then(|(_, d)| d.clone());
        let divergence = cs.divergence.clone().or(form_div);
        row.spike_exact = Some(divergence.is_none());
        row.divergence = divergence;
        row.cycles_per_image = Some(cs.cycles_per_sample());
        progress.done(&format!(
            "{}: {}, {} cycles per image ({:.3}x the lower bound)",
            v.label,
            match &row.divergence {
                None => "spike-exact".to_string(),
                Some(d) => format!("MISMATCH: {d}"),
            },
            row.cycles_per_image.unwrap_or(0),
            cs.ratio()
        ));

        if o.synth {
            stage += 1;
            if row.spike_exact == Some(true) {
                progress.begin(
                    stage,
                    total,
                    &format!("{}: synthesize for {}", v.label, o.target),
                );
                let req = synth_request(
                    &rtl,
                    o.target,
                    o.backend,
                    vdir.join("synth"),
                    o.synth_timeout,
                );
                synth_into(&req, &mut row)?;
                progress.done(&format!("{}: {}", v.label, row.synth_summary()));
            } else {
                progress.line(&format!(
                    "  [{stage}/{total}] {}: not synthesized (its RTL diverges from the golden model)",
                    v.label
                ));
            }
        }
        rows.push(row);
    }
    Ok(Sweep {
        title: format!("Sweep of {} on {device}", int.name),
        rows,
        synthesized: o.synth,
        target: Some(o.target),
    })
}

/// Synthesize one variant into its row ([`synthesize`] sorts the outcome): a design that does
/// not fit, or a tool that fails or times out, is recorded in the row and the sweep goes on; bad
/// input stops the sweep.
fn synth_into(req: &crate::synth::SynthRequest, row: &mut SweepRow) -> Result<()> {
    let v = synthesize(req).map_err(|e| e.context(format!("sweep variant {}", row.label)))?;
    match v {
        SynthVerdict::Fits(r) => {
            let fmax = r.min_fmax_mhz();
            row.fits = Some(true);
            row.logic_cells = Some(r.resources.logic_cells.used);
            row.block_ram = Some(r.resources.block_ram.used);
            row.fmax_mhz = fmax;
            row.latency_us = row.cycles_per_image.zip(fmax).map(|(c, f)| c as f64 / f);
        }
        SynthVerdict::DoesNotFit { shortfalls, .. } => {
            row.fits = Some(false);
            row.shortfalls = shortfalls
                .iter()
                .map(|s| format!("{} {}/{}", s.resource, s.needed, s.available))
                .collect();
        }
        SynthVerdict::Failed { message, .. } => row.synth_error = Some(message),
    }
    Ok(())
}
