//! `lifb-hdl study`: the results study (docs/results.md). `study run` trains and measures every
//! cell of a grid file that is not done yet; `study report` summarizes the finished cells into
//! results.json, results.md and SVG figures. The work is the library's (`crate::study`).

use crate::error::Result;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: StudyCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum StudyCommand {
    /// Train and measure every cell of the grid (or of one shard of it) whose result is not in
    /// OUT yet, then report (an unsharded run only).
    Run {
        /// Grid file (JSON; format in docs/results.md).
        #[arg(long)]
        grid: PathBuf,
        /// Study directory (cells/, models/, results.*).
        #[arg(long)]
        out: PathBuf,
        /// Where scripts/fetch-data.sh put MNIST and Fashion-MNIST.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// This run's shard, I/N: cells k with k % N == I (a sharded run does not report;
        /// `study report` does once every shard finished). Default: SLURM_ARRAY_TASK_ID of
        /// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX of LIFB_SHARDS, else 0/1 (all).
        #[arg(long, value_name = "I/N", conflicts_with = "emit")]
        shard: Option<String>,
        // With --emit nothing is trained: the job file that runs the shards is printed.
        #[command(flatten)]
        job: super::EmitArgs,
    },
    /// Summarize the finished cells of OUT: results.json, results.md, figures (SVG).
    Report {
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(a: Args) -> Result<()> {
    match a.command {
        StudyCommand::Run {
            grid,
            out,
            data_dir,
            shard,
            job,
        } => match job.emit {
            Some(kind) => emit_job(&grid, &out, &data_dir, kind, &job),
            None => run_grid(&grid, &out, &data_dir, shard.as_deref()),
        },
        StudyCommand::Report { out } => report(&out),
    }
}

#[cfg(feature = "train")]
fn run_grid(
    grid: &std::path::Path,
    out: &std::path::Path,
    data_dir: &std::path::Path,
    shard: Option<&str>,
) -> Result<()> {
    let g = crate::study::Grid::load(grid)?;
    let shard = crate::scale::Shard::resolve(shard)?;
    let n = g.cells().len();
    let part = if shard == crate::scale::Shard::ALL {
        String::new()
    } else {
        format!(", shard {shard}")
    };
    errln!(
        "study: {n} cells in {}{part}, results in {}",
        grid.display(),
        out.display()
    );
    let s = crate::study::run(&g, out, data_dir, shard, &mut |line| errln!("{line}"))?;
    outln!(
        "study: {} cells trained, {} already done",
        s.trained,
        s.skipped
    );
    if shard != crate::scale::Shard::ALL {
        // Other shards may still be training: the report is the merge step's.
        outln!(
            "shard {shard} done; once every shard has finished: lifb-hdl study report --out {}",
            out.display()
        );
        return Ok(());
    }
    report(out)
}

#[cfg(not(feature = "train"))]
fn run_grid(
    _: &std::path::Path,
    _: &std::path::Path,
    _: &std::path::Path,
    _: Option<&str>,
) -> Result<()> {
    Err(crate::error::Error::bad_input(
        "this lifb-hdl was built without the `train` feature; rebuild with default features",
    ))
}

fn report(out: &std::path::Path) -> Result<()> {
    let r = crate::study::report(out)?;
    outln!("{}", crate::study::summary::markdown(&r.results).trim_end());
    for p in &r.written {
        outln!("wrote {}", p.display());
    }
    Ok(())
}

/// `study run --emit`: the job file whose tasks each run one shard of the grid (the shard from
/// the scheduler's environment) and whose last step is `study report`.
fn emit_job(
    grid: &std::path::Path,
    out: &std::path::Path,
    data_dir: &std::path::Path,
    kind: crate::scale::emit::JobKind,
    job: &super::EmitArgs,
) -> Result<()> {
    let shards = job.checked_shards()?;
    // Checked now, not on the cluster: a bad grid fails here, before anything is submitted.
    crate::study::Grid::load(grid)?;
    // The job file names the paths as they are; one that is not UTF-8 cannot be written into it.
    let text = |p: &std::path::Path, what: &str| {
        p.to_str().map(String::from).ok_or_else(|| {
            crate::error::Error::bad_input(format!(
                "{what} {} is not valid UTF-8, which a job file cannot name; rename it",
                p.display()
            ))
        })
    };
    let (grid, out, data) = (
        text(grid, "the grid file")?,
        text(out, "the study folder")?,
        text(data_dir, "the data folder")?,
    );
    let shard_args = [
        "study",
        "run",
        "--grid",
        &grid,
        "--out",
        &out,
        "--data-dir",
        &data,
    ];
    let spec = crate::scale::emit::JobSpec::lifb(
        "lifb-study",
        shards,
        &job.image,
        &shard_args,
        &["study", "report", "--out", &out],
    );
    out!("{}", crate::scale::emit::render(kind, &spec));
    Ok(())
}
