//! `lifb-hdl sweep`: compare variants of a design on one target: a table, sweep.json, and a Pareto
//! plot of latency against logic cells in sweep.html. With `--model`, for every neuron form and
//! lane setting: generate, co-simulate against the golden model, synthesize; with `--hdl`,
//! synthesize design folders generated beforehand. Spread over machines (docs/scale-out.md):
//! `sweep plan`, `sweep run --plan P --shard I/N`, `sweep merge --plan P` (`sweep_shards.rs`).
//! The work is the library's (`crate::pipeline::sweep`); this file maps the arguments and prints
//! what it did.

use super::progress::Spinners;
use crate::codegen::Form;
use crate::error::{Error, Result};
use crate::pipeline::sweep::{self, HdlSweep, ModelSweep};
use crate::synth::{Backend, Target};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<super::sweep_shards::Action>,
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// Result cache for --model (default: none, every point is measured): points measured
    /// before with the same model, options and tools are read from it.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["model", "hdl"])))]
pub struct SweepArgs {
    /// Model (float or integer manifest) to generate, co-simulate and synthesize the variants from.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Or: generated design directories to compare (repeat --hdl). Each may hold manifest.json
    /// with "top", "label" and "cycles_per_image".
    #[arg(long, value_name = "DIR", conflicts_with_all = [
        "model", "lanes", "units", "forms", "cosim_images", "data", "inputs", "random", "steps", "weight_bits", "input_bits", "no_synth"
    ])]
    pub hdl: Vec<PathBuf>,
    /// Device to synthesize for (with --model: default ecp5-45k).
    #[arg(long, value_enum, required_unless_present = "model")]
    pub target: Option<Target>,
    /// Synthesis tools (auto: Debian's for iCE40, YoWASP for ECP5).
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Output directory (default: out/sweep/<target>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Lane settings to sweep, separated by ';' or given repeatedly; each is what `generate --lanes`
    /// takes ("16,all": 16 lanes in the first engine, one per neuron in the second).
    /// Default: 16,all;32,all;64,all;128,all.
    #[arg(long, value_delimiter = ';')]
    pub lanes: Option<Vec<String>>,
    /// Fire units per engine for every variant (as `generate --units`; default: a quarter of the
    /// lanes, at least one).
    #[arg(long)]
    pub units: Option<String>,
    /// Neuron forms to sweep, separated by commas.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_values = ["native", "decoupled"]
    )]
    pub forms: Vec<Form>,
    /// Co-simulate this many of the samples per variant.
    #[arg(long, default_value_t = 20)]
    pub cosim_images: usize,
    #[command(flatten)]
    pub samples: super::InputSourceArgs,
    #[command(flatten)]
    pub quant: super::StepsQuantArgs,
    #[command(flatten)]
    pub synth: super::SynthRunArgs,
}

impl SweepArgs {
    /// The model sweep these arguments ask for (None: an --hdl sweep).
    pub(super) fn model_sweep(&self) -> Option<ModelSweep> {
        let model = self.model.as_ref()?;
        let target = self.target.unwrap_or(Target::Ecp5_45k);
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| sweep::default_out(target));
        Some(ModelSweep {
            model: model.clone(),
            target,
            backend: self.backend,
            out,
            lanes: self.lanes.clone(),
            units: self.units.clone(),
            forms: self.forms.clone(),
            cosim_images: self.cosim_images,
            inputs: self.samples.source(),
            steps: self.quant.steps,
            weight_bits: self.quant.weight_bits,
            input_bits: self.quant.input_bits,
            synth: !self.synth.no_synth,
            synth_timeout: self.synth.timeout(),
        })
    }
}

pub fn run(a: Args) -> Result<()> {
    if let Some(action) = a.action {
        return super::sweep_shards::run(action);
    }
    let (cache, a) = (a.cache.as_deref(), a.sweep);
    let mut progress = Spinners::default();
    let (s, out) = match a.model_sweep() {
        Some(o) => (sweep::run_model(&o, cache, &mut progress)?, o.out),
        None if cache.is_some() => {
            return Err(Error::bad_input(
                "sweep --cache works with --model (an --hdl sweep synthesizes every folder)",
            ))
        }
        None => {
            let timeout = a.synth.timeout();
            let o = HdlSweep::new(a.hdl, a.target, a.backend, a.out, timeout)?;
            (sweep::run_hdl(&o, &mut progress)?, o.out)
        }
    };
    finish(s, &out)
}

/// Mark the front, print the table, write sweep.json and sweep.html; a diverging variant or a
/// failed tool run is the exit status.
pub(super) fn finish(mut s: crate::report::sweep::Sweep, out: &std::path::Path) -> Result<()> {
    s.mark_pareto();
    out!("{}", s.table());
    s.write(out)?;
    outln!("wrote {} and sweep.html", out.join("sweep.json").display());
    s.failure().map_or(Ok(()), Err)
}
