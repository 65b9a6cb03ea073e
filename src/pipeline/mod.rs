//! The pipeline from a model to a report, as named steps with typed artifacts (docs/architecture.md).
//!
//! | step       | needs                         | makes (artifact)                                     |
//! |------------|-------------------------------|------------------------------------------------------|
//! | `quantize` | the model file                | float model (if any), integer model, time steps     |
//! | `decouple` | integer model                 | decoupled (LIF-only) network, its equivalence check |
//! | `evaluate` | integer and decoupled models  | golden accuracies on the evaluation images           |
//! | `generate` | integer model                 | design (RTL files + the hardware network it carries) |
//! | `cosim`    | design                        | co-simulation report (spike-exact verdict, cycles)  |
//! | `synth`    | design (its RTL folder)       | synthesis verdict (fits / does not fit / failed)     |
//! | `report`   | the artifacts above           | report data (report.json, report.html, trace.json)  |
//!
//! [`run`] runs the steps `from..=to` in order; the artifacts of earlier steps are read from a
//! folder that an earlier run kept (`keep`). Every step's wall time is recorded. The sweep
//! ([`sweep`]) runs the same generate, co-simulate and synthesize steps for many variants.

mod inputs;
mod keep;
mod steps;
pub mod summary;
pub mod sweep;

pub use inputs::{per_step_network, random_inputs, InputSource, Inputs, RunSteps};
pub use steps::load_and_quantize;

use crate::codegen::{self, Design};
use crate::cosim::CosimReport;
use crate::error::{Error, ErrorKind, Result};
use crate::ir::{FloatNetwork, IntNetwork};
use crate::report::{ReportData, StepTime};
use crate::synth::{self, Backend, Outcome, Shortfall, SynthRequest, SynthResult, Target};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A named step of the pipeline, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Quantize,
    Decouple,
    Evaluate,
    Generate,
    Cosim,
    Synth,
    Report,
}

impl Step {
    /// Every step, in run order.
    pub const ALL: [Step; 7] = [
        Step::Quantize,
        Step::Decouple,
        Step::Evaluate,
        Step::Generate,
        Step::Cosim,
        Step::Synth,
        Step::Report,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Quantize => "quantize",
            Step::Decouple => "decouple",
            Step::Evaluate => "evaluate",
            Step::Generate => "generate",
            Step::Cosim => "cosim",
            Step::Synth => "synth",
            Step::Report => "report",
        }
    }

    /// What the step does (the progress line while it runs).
    pub fn title(self) -> &'static str {
        match self {
            Step::Quantize => "load and quantize",
            Step::Decouple => "decouple LIFB into LIF groups",
            Step::Evaluate => "golden evaluation",
            Step::Generate => "generate Verilog",
            Step::Cosim => "co-simulate in Verilator",
            Step::Synth => "synthesize",
            Step::Report => "report",
        }
    }

    /// The artifact the step makes.
    pub fn artifact(self) -> &'static str {
        match self {
            Step::Quantize => "integer model",
            Step::Decouple => "decoupled network",
            Step::Evaluate => "golden accuracies",
            Step::Generate => "design (RTL and its hardware network)",
            Step::Cosim => "co-simulation report",
            Step::Synth => "synthesis result",
            Step::Report => "report",
        }
    }

    /// Position in [`Step::ALL`] (1-based in progress lines).
    pub fn index(self) -> usize {
        Step::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }

    /// A step by name; an unknown name is bad input that lists the steps.
    pub fn parse(name: &str) -> Result<Step> {
        Step::ALL
            .into_iter()
            .find(|s| s.name() == name.trim())
            .ok_or_else(|| {
                Error::bad_input(format!(
                    "'{name}' is not a step of the flow; the steps are: {}",
                    step_names().join(", ")
                ))
            })
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How summaries name the default lane setting (codegen::Lanes::Default).
pub fn default_lanes_text() -> String {
    format!("{} (the default)", codegen::DEFAULT_LANES_PER_ENGINE)
}

/// The step names, in run order.
pub fn step_names() -> Vec<&'static str> {
    Step::ALL.iter().map(|s| s.name()).collect()
}

/// Which verifications run (each a failure of the run when it finds a difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verify {
    /// `decouple`: the decoupled network's spike counts equal the LIFB network's on the
    /// evaluation images (a difference stops the run at once).
    pub decouple: bool,
    /// `cosim`: the RTL is spike-exact against the golden model (a divergence fails the run after
    /// the report is written; without this check it is only reported).
    pub cosim: bool,
}

impl Default for Verify {
    fn default() -> Self {
        Verify {
            decouple: true,
            cosim: true,
        }
    }
}

impl Verify {
    /// "decouple,cosim", "cosim", "none".
    pub fn parse(s: &str) -> Result<Verify> {
        let mut v = Verify {
            decouple: false,
            cosim: false,
        };
        for part in s.split(',').map(str::trim) {
            match part {
                "decouple" => v.decouple = true,
                "cosim" => v.cosim = true,
                "none" => {}
                _ => {
                    return Err(Error::bad_input(format!(
                        "--verify: '{part}' is not a checked step; give decouple, cosim, decouple,cosim or none"
                    )))
                }
            }
        }
        Ok(v)
    }
}

/// Everything the flow takes.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    /// Model manifest, float or integer.
    pub model: PathBuf,
    pub target: Target,
    pub backend: Backend,
    /// Output folder (rtl/, synth/, trace.json, report.json, report.html).
    pub out: PathBuf,
    /// The evaluation samples: a data set (default: the shipped sample of the model's own), an
    /// input set file, or seeded random samples.
    pub inputs: InputSource,
    /// Evaluate on at most this many samples.
    pub limit: Option<usize>,
    /// Evaluation samples co-simulated in Verilator.
    pub cosim_images: usize,
    /// Time steps (None: the model's meta "steps", else 4).
    pub steps: Option<u32>,
    pub weight_bits: Option<u32>,
    pub input_bits: Option<u32>,
    pub codegen: codegen::Options,
    /// The lane setting as the user gave it (shown in summaries).
    pub lanes_text: String,
    /// Run the synthesis step (false: it is skipped and the report has no device).
    pub synth: bool,
    pub synth_timeout: Option<Duration>,
    pub from: Step,
    pub to: Step,
    /// Folder for every intermediate artifact; `from` past the first step reads them back.
    pub keep: Option<PathBuf>,
    pub verify: Verify,
}

impl FlowOptions {
    /// The defaults of `lifb-hdl flow` for a model, writing into `out`.
    pub fn new(model: impl Into<PathBuf>, out: impl Into<PathBuf>) -> FlowOptions {
        FlowOptions {
            model: model.into(),
            target: Target::Ecp5_45k,
            backend: Backend::Auto,
            out: out.into(),
            inputs: InputSource::default(),
            limit: None,
            cosim_images: 100,
            steps: None,
            weight_bits: None,
            input_bits: None,
            codegen: codegen::Options::default(),
            lanes_text: default_lanes_text(),
            synth: true,
            synth_timeout: None,
            from: Step::Quantize,
            to: Step::Report,
            keep: None,
            verify: Verify::default(),
        }
    }

    /// Checks before any work: counts, the step range, the keep folder.
    pub fn validate(&self) -> Result<()> {
        use crate::limits;
        // A flow that co-simulates nothing has verified nothing.
        limits::count("--cosim-images", self.cosim_images, limits::MAX_SAMPLES)?;
        if let Some(n) = self.limit {
            limits::count("--limit", n, usize::MAX)?;
        }
        if let InputSource::Random { n, .. } = self.inputs {
            limits::count("--random", n, limits::MAX_SAMPLES)?;
        }
        if let Some(s) = self.steps {
            limits::steps("--steps", s, u16::MAX as u32)?;
        }
        if self.from > self.to {
            return Err(Error::bad_input(format!(
                "--from {} comes after --to {}; the steps run in the order {}",
                self.from,
                self.to,
                step_names().join(", ")
            )));
        }
        if self.from != Step::Quantize && self.keep.is_none() {
            return Err(Error::bad_input(format!(
                "--from {} needs --keep DIR: the folder where an earlier run (with --keep DIR) kept the artifacts of the steps before {}",
                self.from, self.from
            )));
        }
        Ok(())
    }
}

/// The decoupled network's agreement with the LIFB network on the evaluation images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoupleCheck {
    /// (sample, step, layer, neuron) spike counts compared.
    pub compared: u64,
    pub mismatched: u64,
    /// The first difference, in words.
    pub first: Option<String>,
}

/// Golden accuracies (fractions 0..1) on the evaluation samples. Samples without labels have no
/// accuracy: then the float and decoupled models are compared with the integer model instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// What the samples are ("mnist-sample images", "random samples (seed 1)").
    pub data: String,
    pub images: u64,
    /// Whether the samples have labels (else every accuracy is None).
    pub labelled: bool,
    pub float: Option<f64>,
    pub integer: Option<f64>,
    pub decoupled: Option<f64>,
    /// The share of samples on which the float (decoupled) model predicts the integer model's
    /// class: measured with or without labels.
    pub float_agrees: Option<f64>,
    pub decoupled_agrees: Option<f64>,
}

/// What one synthesis run came to. The one place that sorts tool outcomes: a fit is numbers; not
/// fitting is a result (with the resources short); a tool that fails or times out is a failure
/// of this run that the caller records; bad input is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SynthVerdict {
    Fits(Box<SynthResult>),
    DoesNotFit {
        shortfalls: Vec<Shortfall>,
        /// Which stage found it: "yosys" or "nextpnr".
        found_by: String,
    },
    /// The tool failed or timed out: the first line of its error, and all of it (with the
    /// tool's output and what to do).
    Failed {
        message: String,
        detail: String,
    },
}

impl SynthVerdict {
    pub fn result(&self) -> Option<&SynthResult> {
        match self {
            SynthVerdict::Fits(r) => Some(r),
            _ => None,
        }
    }

    /// One line: resources and fmax, the shortfalls, or the failure.
    pub fn describe(&self, target: Target) -> String {
        match self {
            SynthVerdict::Fits(r) => format!(
                "{} ({}): {} logic cells, {} BRAM, fmax {}",
                r.part,
                r.backend,
                r.resources.logic_cells.used,
                r.resources.block_ram.used,
                r.min_fmax_mhz()
                    .map_or("-".into(), |f| format!("{f:.1} MHz"))
            ),
            SynthVerdict::DoesNotFit {
                shortfalls,
                found_by,
            } => {
                let what = shortfalls
                    .iter()
                    .map(|s| format!("{} needs {} of {}", s.resource, s.needed, s.available))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("does not fit {target} (found by {found_by}): {what}")
            }
            SynthVerdict::Failed { message, .. } => format!("failed: {message}"),
        }
    }
}

/// Run synthesis and sort the outcome ([`SynthVerdict`]); only bad input is an error.
pub fn synthesize(req: &SynthRequest) -> Result<SynthVerdict> {
    match synth::try_run(req) {
        Ok(Outcome::Fits(r)) => Ok(SynthVerdict::Fits(r)),
        Ok(Outcome::DoesNotFit {
            shortfalls,
            found_by,
            ..
        }) => Ok(SynthVerdict::DoesNotFit {
            shortfalls,
            found_by,
        }),
        Err(e) if e.kind != ErrorKind::BadInput => Ok(SynthVerdict::Failed {
            message: e.message.lines().next().unwrap_or_default().to_string(),
            detail: e.message,
        }),
        Err(e) => Err(e),
    }
}

/// A synthesis request for an RTL folder with the run's tools and time limit.
pub fn synth_request(
    rtl: &Path,
    target: Target,
    backend: Backend,
    out: PathBuf,
    timeout: Option<Duration>,
) -> SynthRequest {
    let mut req = SynthRequest::new(rtl, target, backend, out);
    req.timeout = timeout;
    req
}

/// The artifacts of a run: each step fills its own, later steps read them.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    /// `quantize`: the float model (when the model file was one), the integer model, time steps.
    pub float: Option<FloatNetwork>,
    pub integer: Option<IntNetwork>,
    pub time_steps: Option<u32>,
    /// `decouple`: the LIF-only network and (when verified) its agreement with the integer model.
    pub decoupled: Option<IntNetwork>,
    pub decouple_check: Option<DecoupleCheck>,
    /// `evaluate`
    pub evaluation: Option<Evaluation>,
    /// `generate`: the design, which carries the hardware network it implements.
    pub design: Option<Design>,
    /// `cosim`
    pub cosim: Option<CosimReport>,
    /// `synth` (None when it did not run).
    pub synth: Option<SynthVerdict>,
    /// `report`
    pub report: Option<ReportData>,
    /// Wall time of every step that ran, in order.
    pub times: Vec<StepTime>,
    /// The evaluation samples, loaded once when a step needs them.
    inputs: Option<Inputs>,
}

impl Artifacts {
    fn need<T>(x: &Option<T>, step: Step, by: Step) -> Result<&T> {
        x.as_ref().ok_or_else(|| {
            Error::bad_input(format!(
                "step {by} needs the {} that step {step} makes; run the flow from {step} or earlier",
                step.artifact()
            ))
        })
    }

    /// The evaluation samples: loaded by the quantize step, or on first use when the run starts
    /// later (from kept models, which must have been made for the same kind of inputs).
    fn inputs(&mut self, o: &FlowOptions) -> Result<&Inputs> {
        if self.inputs.is_none() {
            let int = Self::need(&self.integer, Step::Quantize, Step::Evaluate)?;
            let steps = self.time_steps.expect("set with the integer model");
            let given = o.steps.or(Some(steps));
            let inputs = o.inputs.load(
                int,
                o.limit,
                RunSteps {
                    given,
                    default: steps,
                },
            )?;
            let kept_per_step = int.input.encoding == crate::ir::Encoding::Steps;
            if inputs.train_steps.is_some() != kept_per_step {
                return Err(Error::bad_input(format!(
                    "the kept models were made for {} inputs and {} are {}; run the flow from quantize",
                    if kept_per_step { "per-step" } else { "static" },
                    o.inputs.describe(),
                    if kept_per_step { "not per-step trains" } else { "per-step trains" },
                )));
            }
            self.inputs = Some(inputs);
        }
        Ok(self.inputs.as_ref().expect("loaded above"))
    }
}

/// Told when each step begins and ends (the CLI shows a spinner; tests pass `()`).
pub trait Progress {
    /// Step (or work item) `n` of `total` begins.
    fn begin(&mut self, _n: usize, _total: usize, _what: &str) {}
    /// The item that began last is done: one line of what it made.
    fn done(&mut self, _summary: &str) {}
    /// A line of its own, as given (an item that needs no work, a remark).
    fn line(&mut self, _text: &str) {}
}

impl Progress for () {}

/// What a run came to: its artifacts and, when a check or a tool failed, the error to exit with
/// (given after everything the run could write is written).
pub struct FlowRun {
    pub artifacts: Artifacts,
    pub failure: Option<Error>,
}

/// Run the steps `o.from..=o.to`: earlier artifacts from `o.keep`, each step's artifacts kept
/// there when asked. Bad input and unexpected failures are errors; a co-simulation divergence
/// and a failed synthesis tool are returned in [`FlowRun::failure`] after the report is written.
pub fn run(o: &FlowOptions, progress: &mut dyn Progress) -> Result<FlowRun> {
    o.validate()?;
    let mut a = Artifacts::default();
    if let Some(dir) = &o.keep {
        for &s in Step::ALL.iter().filter(|&&s| s < o.from) {
            keep::load(s, &mut a, dir, o)?;
        }
    }
    for &s in Step::ALL.iter().filter(|&&s| s >= o.from && s <= o.to) {
        if s == Step::Synth && !o.synth {
            continue;
        }
        let title = match s {
            Step::Synth => format!("synthesize for {}", o.target),
            _ => s.title().to_string(),
        };
        progress.begin(s.index() + 1, Step::ALL.len(), &title);
        let t0 = Instant::now();
        let summary = steps::run_step(s, &mut a, o)?;
        a.times.push(StepTime {
            step: s.name().to_string(),
            seconds: t0.elapsed().as_secs_f64(),
        });
        if let Some(dir) = &o.keep {
            keep::save(s, &a, dir)?;
        }
        progress.done(&summary);
    }
    let failure = failure(&a, o);
    Ok(FlowRun {
        artifacts: a,
        failure,
    })
}

/// The error a finished run exits with: a failed synthesis tool, else a co-simulation divergence
/// (when verified).
fn failure(a: &Artifacts, o: &FlowOptions) -> Option<Error> {
    if let Some(SynthVerdict::Failed { detail, .. }) = &a.synth {
        return Some(Error::tool(detail.clone()));
    }
    let d = a.cosim.as_ref()?.divergence.as_ref()?;
    o.verify
        .cosim
        .then(|| Error::mismatch(format!("co-simulation found a divergence: {d}")))
}
