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
    /// Train and measure every cell of the grid whose result is not in OUT yet, then report.
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
        } => run_grid(&grid, &out, &data_dir),
        StudyCommand::Report { out } => report(&out),
    }
}

#[cfg(feature = "train")]
fn run_grid(
    grid: &std::path::Path,
    out: &std::path::Path,
    data_dir: &std::path::Path,
) -> Result<()> {
    let g = crate::study::Grid::load(grid)?;
    let n = g.cells().len();
    errln!(
        "study: {n} cells in {}, results in {}",
        grid.display(),
        out.display()
    );
    let s = crate::study::run(&g, out, data_dir, &mut |line| errln!("{line}"))?;
    outln!(
        "study: {} cells trained, {} already done",
        s.trained,
        s.skipped
    );
    report(out)
}

#[cfg(not(feature = "train"))]
fn run_grid(_: &std::path::Path, _: &std::path::Path, _: &std::path::Path) -> Result<()> {
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
