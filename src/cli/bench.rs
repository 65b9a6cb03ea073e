use crate::error::{Error, Result};
use crate::golden::bench;
use crate::ir::Encoding;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchEncoding {
    Direct,
    Rate,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Layer sizes of the benchmark MLP.
    #[arg(long, default_value = "784-256-10")]
    pub arch: String,
    /// Maximum burst B of every layer.
    #[arg(long, default_value_t = 4)]
    pub burst: u32,
    #[arg(long, default_value_t = 8)]
    pub steps: u32,
    #[arg(long, default_value_t = 20000)]
    pub images: usize,
    /// Share of inputs active per step.
    #[arg(long, default_value_t = 0.2)]
    pub active: f64,
    /// Only this input encoding; default both.
    #[arg(long, value_enum)]
    pub encoding: Option<BenchEncoding>,
    /// Simulation threads (each takes a share of the images).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Also write the benchmark's network and input images to FILE.json and FILE.bin (for
    /// the peer benchmark of scripts/bench-peers.sh; docs/benchmarks.md); with --encoding.
    #[arg(long, value_name = "FILE")]
    pub export: Option<std::path::PathBuf>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let sizes: Vec<usize> = a
        .arch
        .split('-')
        .map(|s| {
            s.parse().map_err(|_| {
                Error::bad_input(format!(
                    "--arch {:?}: expected sizes like 784-256-10",
                    a.arch
                ))
            })
        })
        .collect::<Result<_>>()?;
    use super::limits;
    if sizes.len() < 2 || sizes.contains(&0) {
        return Err(Error::bad_input("--arch needs at least two non-zero sizes"));
    }
    if let Some(&w) = sizes.iter().find(|&&w| w > limits::MAX_BENCH_WIDTH) {
        return Err(Error::bad_input(format!(
            "--arch: width {w} is above the limit of {}",
            limits::MAX_BENCH_WIDTH
        )));
    }
    for p in sizes.windows(2) {
        let n = p[0] as u128 * p[1] as u128;
        if n > crate::ir::MAX_ELEMENTS as u128 {
            return Err(Error::bad_input(format!(
                "--arch: a {}x{} layer has {n} weights, above the limit of {} per layer",
                p[0],
                p[1],
                crate::ir::MAX_ELEMENTS
            )));
        }
    }
    if !(1..=64).contains(&a.burst) {
        return Err(Error::bad_input(format!(
            "--burst must be 1..=64, got {}",
            a.burst
        )));
    }
    limits::float("--active", a.active, 0.0, 1.0, false)?;
    limits::count("--images", a.images, limits::MAX_BENCH_IMAGES)?;
    limits::steps("--steps", a.steps, limits::MAX_STEPS)?;
    limits::count("--threads", a.threads, limits::MAX_THREADS)?;
    // One traced sample (counts of every neuron at every step) is held while counting events.
    let neurons: u128 = sizes[1..].iter().map(|&w| w as u128).sum();
    limits::buffer(
        "one sample's trace at --steps",
        neurons * 4 * a.steps as u128,
        "lower --steps or the --arch widths",
    )?;
    limits::buffer(
        "the benchmark's input images",
        a.images.min(bench::DISTINCT_IMAGES) as u128 * sizes[0] as u128 * 4,
        "lower --images or the input width of --arch",
    )?;
    if a.export.is_some() && a.encoding.is_none() {
        return Err(Error::bad_input(
            "--export writes one case: choose its input coding with --encoding direct|rate",
        ));
    }
    for enc in [Encoding::Direct, Encoding::Rate { seed: 7 }] {
        let name = if matches!(enc, Encoding::Direct) {
            "direct"
        } else {
            "rate"
        };
        let this = if matches!(enc, Encoding::Direct) {
            BenchEncoding::Direct
        } else {
            BenchEncoding::Rate
        };
        if a.encoding.is_some_and(|e| e != this) {
            continue;
        }
        let net = bench::mlp(&sizes, a.burst, enc, 1);
        if let Some(path) = &a.export {
            let count = a.images.min(bench::DISTINCT_IMAGES);
            bench::export(
                &net,
                a.steps,
                &bench::inputs(&net, count, a.active, 2),
                path,
            )?;
        }
        let t = bench::measure(&net, a.steps, a.images, a.active, 2, a.threads)?;
        if a.json {
            outln!("{}", serde_json::to_string(&t).unwrap_or_default());
        } else {
            outln!(
                "golden integer model {} B={} T={} {:<10} active {:>5.1} %: {:>9.0} images/s, {:>7.1} M synaptic events/s ({} images in {:.2} s, {} thread{})",
                t.network,
                a.burst,
                t.steps,
                name,
                t.active_input_share * 100.0,
                t.images_per_s,
                t.synaptic_events_per_s / 1e6,
                t.images,
                t.seconds,
                t.threads,
                if t.threads == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}
