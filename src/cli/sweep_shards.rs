//! `lifb-hdl sweep plan | run | merge`: a model sweep in steps that can run on different machines
//! (docs/scale-out.md). The work is the library's (`crate::pipeline::sweep_shard`); this file maps
//! the arguments and prints what it did.

use super::progress::Spinners;
use super::sweep::{finish, SweepArgs};
use crate::error::{Error, Result};
use crate::pipeline::sweep_shard::{self, SweepPlan};
use crate::scale::emit;
use std::path::PathBuf;

/// The sweep in steps that can run on different machines (docs/scale-out.md).
#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Check everything and write the design points (nothing is measured); with --emit, also
    /// print a Slurm or Kubernetes job file that runs the shards.
    Plan(Box<PlanArgs>),
    /// Measure one shard of a plan's points (shard from --shard, else from Slurm's or
    /// Kubernetes' environment, else all points) into OUT/shards/.
    Run(RunArgs),
    /// Gather every shard's results into sweep.json and sweep.html.
    Merge(MergeArgs),
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// The plan file to write.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub job: super::EmitArgs,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The plan (from `sweep plan`).
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
    /// This run's shard, I/N (0 <= I < N). Default: SLURM_ARRAY_TASK_ID of
    /// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX of LIFB_SHARDS, else 0/1 (every point).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Result cache shared by the shards (default: OUT/cache).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// Measure every point, reading and writing no result cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The plan the shards ran.
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
}

pub fn run(action: Action) -> Result<()> {
    match action {
        Action::Plan(p) => plan(*p),
        Action::Run(r) => run_shard(r),
        Action::Merge(m) => merge(m),
    }
}

fn plan(p: PlanArgs) -> Result<()> {
    let o = p.sweep.model_sweep().ok_or_else(|| {
        Error::bad_input("sweep plan needs --model (an --hdl sweep is not planned: it runs as is)")
    })?;
    super::Files::default()
        .model_in(&o.model, "--model")
        .file_out(Some(&p.output), "plan (-o)")
        .check()?;
    if p.job.emit.is_some() {
        p.job.checked_shards()?;
    }
    let said = sweep_shard::write_plan(&o, &p.output)?;
    match p.job.emit {
        None => outln!("{said}"),
        Some(kind) => {
            // the job file is the output; what was written goes to standard error
            errln!("{said}");
            let spec = SweepPlan::job(&p.output, p.job.shards, &p.job.image);
            out!("{}", emit::render(kind, &spec));
        }
    }
    Ok(())
}

fn run_shard(r: RunArgs) -> Result<()> {
    let (shard, cache) = (r.shard.as_deref(), r.cache.as_deref());
    let mut progress = Spinners::default();
    let said = sweep_shard::run_planned(&r.plan, shard, r.no_cache, cache, &mut progress)?;
    outln!("{said}");
    Ok(())
}

fn merge(m: MergeArgs) -> Result<()> {
    let (s, out, said) = sweep_shard::merge_planned(&m.plan)?;
    outln!("{said}");
    finish(s, &out)
}
