//! `lifb-hdl flow`: model -> quantize -> decouple -> golden evaluation -> generate -> co-simulate
//! -> synthesize -> report, with a summary table. The README's main command. The steps are the
//! library's (`crate::pipeline`); this file maps the arguments and prints the summary.

use crate::error::Result;
use crate::pipeline::{self, FlowOptions, Step, Verify};
use crate::synth::{Backend, Target};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model manifest, float or integer (default: the shipped MNIST example).
    #[arg(long, default_value = "examples/mnist-lifb.json")]
    pub model: PathBuf,
    /// Device to synthesize for.
    #[arg(long, value_enum, default_value_t = Target::Ecp5_45k)]
    pub target: Target,
    /// Synthesis tools (auto: Debian's for iCE40, YoWASP for ECP5).
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Output folder (RTL, traces, synthesis, report.json, report.html).
    #[arg(long, default_value = "out/flow")]
    pub out: PathBuf,
    #[command(flatten)]
    pub samples: super::InputSourceArgs,
    /// Evaluate on at most this many samples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Co-simulate this many of the evaluation samples in Verilator.
    #[arg(long, default_value_t = 100)]
    pub cosim_images: usize,
    #[command(flatten)]
    pub quant: super::StepsQuantArgs,
    /// Lanes, fire units and neuron form (as for generate).
    #[command(flatten)]
    pub design: super::generate::DesignArgs,
    #[command(flatten)]
    pub synth: super::SynthRunArgs,
    /// First step to run: quantize, decouple, evaluate, generate, cosim, synth or report. The
    /// artifacts of the steps before it are read from --keep DIR (kept there by an earlier run).
    #[arg(long, value_name = "STEP", default_value = "quantize")]
    pub from: String,
    /// Last step to run (same names as --from).
    #[arg(long, value_name = "STEP", default_value = "report")]
    pub to: String,
    /// Keep every step's artifact in this folder (models, RTL, co-simulation and synthesis
    /// results as files), for a later --from.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Checks that fail the flow when they find a difference: decouple (decoupled vs LIFB spike
    /// counts), cosim (RTL vs golden model), both (default) or none (differences only reported).
    #[arg(long, default_value = "decouple,cosim")]
    pub verify: String,
    /// List the steps, what each makes, and exit.
    #[arg(long)]
    pub list_steps: bool,
}

fn options(a: &Args) -> Result<FlowOptions> {
    let to = Step::parse(&a.to).map_err(|e| e.context("--to"))?;
    if !a.design.spram.is_empty()
        && a.target != Target::Ice40Up5k
        && !a.synth.no_synth
        && to >= Step::Synth
    {
        return Err(crate::error::Error::bad_input(format!(
            "--spram keeps weights in iCE40 UltraPlus single-port RAM, which --target {} has not; give --target ice40-up5k, stop before synthesis (--to cosim or --no-synth), or drop --spram",
            a.target.name()
        )));
    }
    Ok(FlowOptions {
        model: a.model.clone(),
        target: a.target,
        backend: a.backend,
        out: a.out.clone(),
        inputs: a.samples.source(),
        limit: a.limit,
        cosim_images: a.cosim_images,
        steps: a.quant.steps,
        weight_bits: a.quant.weight_bits,
        input_bits: a.quant.input_bits,
        codegen: a.design.options()?,
        lanes_text: a
            .design
            .lanes
            .clone()
            .unwrap_or_else(pipeline::default_lanes_text),
        synth: !a.synth.no_synth,
        synth_timeout: a.synth.timeout(),
        from: Step::parse(&a.from).map_err(|e| e.context("--from"))?,
        to,
        keep: a.keep.clone(),
        verify: Verify::parse(&a.verify)?,
    })
}

pub fn run(a: Args) -> Result<()> {
    if a.list_steps {
        for s in Step::ALL {
            outln!(
                "{:<9} {:<34} makes the {}",
                s.name(),
                s.title(),
                s.artifact()
            );
        }
        return Ok(());
    }
    let o = options(&a)?;
    let t0 = Instant::now();
    let r = pipeline::run(&o, &mut super::progress::Spinners::default())?;
    let rows = pipeline::summary::rows(&r.artifacts, &o, t0.elapsed());
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    outln!();
    outln!("lifb-hdl flow summary");
    outln!("{}", "-".repeat(w + 40));
    for (k, v) in rows {
        outln!("{k:<w$}  {v}");
    }
    match r.failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
