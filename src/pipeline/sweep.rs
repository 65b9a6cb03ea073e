//! The sweep: the flow's generate, co-simulate and synthesize steps for many variants of one
//! model (every neuron form and lane setting), or synthesis of design folders made beforehand.
//! The results are a [`Sweep`] (report::sweep): rows, Pareto front, sweep.json and sweep.html.

use super::sweep_shard;
use super::SynthVerdict;
use super::{synth_request, synthesize, Progress};
use crate::codegen::{Form, Lanes};
use crate::error::{Error, Result};
use crate::report::sweep::{Sweep, SweepRow};
use crate::scale::cache::ResultCache;
use crate::synth::{Backend, Target};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Lane settings swept when none are given.
pub const DEFAULT_LANES: [&str; 4] = ["16,all", "32,all", "64,all", "128,all"];

/// A sweep of a model's variants (a plan carries it: [`super::sweep_shard::SweepPlan`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub inputs: super::InputSource,
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

/// The output folder of a sweep for `target` when none is given: out/sweep/<target>.
pub fn default_out(target: Target) -> PathBuf {
    PathBuf::from("out").join("sweep").join(target.name())
}

impl HdlSweep {
    /// An --hdl sweep: it needs a target (a model sweep has a default); `out` defaults to
    /// [`default_out`].
    pub fn new(
        hdl: Vec<PathBuf>,
        target: Option<Target>,
        backend: Backend,
        out: Option<PathBuf>,
        synth_timeout: Option<Duration>,
    ) -> Result<HdlSweep> {
        let target = target.ok_or_else(|| Error::bad_input("sweep --hdl needs --target"))?;
        Ok(HdlSweep {
            hdl,
            target,
            backend,
            out: out.unwrap_or_else(|| default_out(target)),
            synth_timeout,
        })
    }
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
pub(crate) fn lane_settings(given: Option<&[String]>) -> Result<Vec<(String, String, Lanes)>> {
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

/// Plan, run and merge in one process (one shard holding every point; no result cache unless
/// one is given, the folder `cache`): what `sweep --model` does.
pub fn run_model(
    o: &ModelSweep,
    cache: Option<&Path>,
    progress: &mut dyn Progress,
) -> Result<Sweep> {
    let mut cache = cache.map(ResultCache::open).transpose()?;
    let plan = sweep_shard::plan(o)?;
    let plan_sha = crate::util::sha256_plain_hex(&plan.to_json());
    let shard = crate::scale::Shard::ALL;
    let r = sweep_shard::run_shard(&plan, &plan_sha, shard, cache.as_mut(), progress)?;
    Ok(sweep_shard::merge(&plan, &[("this run".to_string(), r)])?.0)
}

/// Synthesize one variant into its row ([`synthesize`] sorts the outcome): a design that does
/// not fit, or a tool that fails or times out, is recorded in the row and the sweep goes on; bad
/// input stops the sweep.
pub(crate) fn synth_into(req: &crate::synth::SynthRequest, row: &mut SweepRow) -> Result<()> {
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
