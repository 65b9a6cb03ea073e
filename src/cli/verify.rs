//! `lifb-hdl verify`: verification campaigns over random networks (`crate::verify::campaign`),
//! spread over shards like a sweep (docs/scale-out.md), and `verify merge` for the totals.

use crate::cosim::Simulator;
use crate::error::{Error, Result};
use crate::scale::emit::{self, JobKind, JobSpec};
use crate::scale::Shard;
use crate::verify::campaign::{self, Campaign};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Co-simulate this many random dense networks (each with its own random inputs, steps,
    /// form, lanes, fire units, FIFO depth, output stalls and input gaps) against the golden model.
    #[arg(long, required = true)]
    pub random_networks: Option<u64>,
    /// Campaign seed: network k of the campaign depends on the seed and k alone.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// This run's shard, I/N: networks k with k % N == I. Default: SLURM_ARRAY_TASK_ID of
    /// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX of LIFB_SHARDS, else 0/1 (all).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Output folder: shard totals in OUT/shards, reproducers of failing networks in
    /// OUT/reproducers.
    #[arg(long, default_value = "out/verify")]
    pub out: PathBuf,
    /// The simulator (icarus compiles each network in a fraction of a second; a Verilator build
    /// takes seconds).
    #[arg(long, value_enum, default_value = "icarus")]
    pub simulator: Simulator,
    /// Verilator build cache (default target/lifb-cosim, or $LIFB_COSIM_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    // With --emit the campaign does not run: the job file that runs its shards is printed.
    #[command(flatten)]
    pub job: super::EmitArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Add up the shards' totals (networks, samples, steps, spikes compared, divergences).
    Merge(MergeArgs),
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The campaign's output folder.
    #[arg(long, default_value = "out/verify")]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    if let Some(Action::Merge(m)) = a.action {
        return merge(m);
    }
    let networks = a.random_networks.expect("required by clap");
    if let Some(kind) = a.job.emit {
        return emit_job(&a, kind, networks);
    }
    let shard = Shard::resolve(a.shard.as_deref())?;
    let c = Campaign {
        networks,
        seed: a.seed,
        simulator: a.simulator,
        out: a.out.clone(),
        build_cache: a
            .cache
            .clone()
            .unwrap_or_else(crate::cosim::default_cache_dir),
    };
    let mine = networks
        .saturating_sub(shard.index as u64)
        .div_ceil(shard.count as u64);
    outln!(
        "verify: shard {shard} of a campaign of {networks} random networks (seed {}): {mine} networks, {}",
        a.seed,
        a.simulator.name()
    );
    let mut last_report = std::time::Instant::now();
    let r = campaign::run_shard(&c, shard, &mut |k, t| {
        if last_report.elapsed().as_secs() >= 30 {
            last_report = std::time::Instant::now();
            errln!(
                "  {} of {mine} networks done (last: network {}), {} divergences",
                t.networks + t.errors,
                k.index,
                t.divergences
            );
        }
    })?;
    let t = &r.totals;
    outln!(
        "shard {shard}: {} networks ({} native, {} decoupled), {} samples, {} steps, {} spikes and {} membranes compared, in {:.1} s",
        t.networks,
        t.native,
        t.decoupled,
        t.samples,
        t.steps,
        t.spikes_compared,
        t.membranes_compared,
        r.wall_seconds
    );
    outln!(
        "wrote {}",
        campaign::ShardTotals::path(&a.out, shard).display()
    );
    failures(&r.failures)
}

fn failures(f: &[campaign::Failure]) -> Result<()> {
    if f.is_empty() {
        return Ok(());
    }
    for x in f {
        outln!(
            "{} in {}: {}\n  reproducer: {} (run replay.sh there)",
            x.kind.to_uppercase(),
            x.case,
            x.message,
            x.reproducer
        );
    }
    Err(Error::mismatch(format!(
        "{} of the random networks failed (reproducers listed above)",
        f.len()
    )))
}

fn merge(m: MergeArgs) -> Result<()> {
    let (shards, t) = campaign::merge(&m.out)?;
    let first = &shards[0];
    let cpu: f64 = shards.iter().map(|s| s.wall_seconds).sum();
    outln!(
        "campaign of {} random networks (seed {}, {}), {} shards:",
        first.campaign_networks,
        first.seed,
        first.simulator,
        shards.len()
    );
    outln!(
        "  networks {} ({} native, {} decoupled), samples {}, steps {}",
        t.networks,
        t.native,
        t.decoupled,
        t.samples,
        t.steps
    );
    outln!(
        "  compared: {} spikes, {} membranes, {} output beats; {} stall cycles, {} gap cycles",
        t.spikes_compared,
        t.membranes_compared,
        t.output_beats_compared,
        t.stall_cycles,
        t.gap_cycles
    );
    outln!("  divergences {}, tool errors {}", t.divergences, t.errors);
    outln!("  shard time summed: {cpu:.0} s");
    let all: Vec<campaign::Failure> = shards.iter().flat_map(|s| s.failures.clone()).collect();
    if t.networks + t.errors != first.campaign_networks {
        return Err(Error::bad_input(format!(
            "the shards ran {} networks, the campaign has {}",
            t.networks + t.errors,
            first.campaign_networks
        )));
    }
    failures(&all)
}

fn emit_job(a: &Args, kind: JobKind, networks: u64) -> Result<()> {
    let shards = a.job.checked_shards()?;
    let out = a.out.display().to_string();
    let (n, seed) = (networks.to_string(), a.seed.to_string());
    let shard_args = [
        "verify",
        "--random-networks",
        &n,
        "--seed",
        &seed,
        "--simulator",
        a.simulator.name(),
        "--out",
        &out,
    ];
    let merge_args = ["verify", "merge", "--out", &out];
    let spec = JobSpec::lifb(
        "lifb-verify",
        shards,
        &a.job.image,
        &shard_args,
        &merge_args,
    );
    out!("{}", emit::render(kind, &spec));
    Ok(())
}
