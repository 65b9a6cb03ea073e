//! `lifb-hdl cosim`: the generated RTL in Verilator against the golden simulator, spike by spike.

use super::generate::options;
use crate::codegen::Form;
use crate::cosim::{cosim, default_cache_dir, CosimOptions};
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Integer model (manifest .json written by lifb-hdl).
    #[arg(long)]
    pub model: PathBuf,
    /// Input set (docs/file-formats.md: {"samples": [[values in 0..1]]}); each value becomes
    /// round(x * input_max).
    #[arg(long, conflicts_with = "random")]
    pub inputs: Option<PathBuf>,
    /// Co-simulate this many random samples (each value 0 with probability 1/2, else uniform).
    #[arg(long)]
    pub random: Option<usize>,
    /// Seed of the random samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time steps per sample.
    #[arg(long)]
    pub steps: u32,
    /// Lanes per engine (as for generate).
    #[arg(long)]
    pub lanes: Option<String>,
    /// Fire units per engine (as for generate).
    #[arg(long)]
    pub units: Option<String>,
    #[arg(long, value_enum, default_value = "native")]
    pub form: Form,
    /// Verilator build cache (default target/lifb-cosim, or $LIFB_COSIM_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Randomly stall the output stream (tests back-pressure; cycle counts grow).
    #[arg(long)]
    pub stall: bool,
}

pub fn run(args: Args) -> Result<()> {
    use super::limits;
    limits::steps(
        "--steps (the hardware counts steps in 16 bits)",
        args.steps,
        u16::MAX as u32,
    )?;
    if let Some(n) = args.random {
        limits::count("--random", n, limits::MAX_SAMPLES)?;
    }
    let net = crate::format::load_integer(&args.model)?;
    if let Some(n) = args.random {
        limits::buffer(
            "--random samples",
            limits::input_bytes(&net, n),
            "lower --random",
        )?;
    }
    let fx = net.fixed.as_ref().expect("integer model");
    let inputs: Vec<Vec<u32>> = match (&args.inputs, args.random) {
        (Some(p), None) => {
            let set = crate::inputs::InputSet::read(p, net.input.shape.len())?;
            set.samples
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|&x| crate::golden::encode::quantize_input(x, fx.input_max()))
                        .collect()
                })
                .collect()
        }
        (None, Some(n)) => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
            let max = fx.input_max();
            (0..n)
                .map(|_| {
                    (0..net.input.shape.len())
                        .map(|_| {
                            if rng.random_bool(0.5) {
                                0
                            } else {
                                rng.random_range(0..=max)
                            }
                        })
                        .collect()
                })
                .collect()
        }
        _ => {
            return Err(Error::bad_input(
                "give the samples with --inputs FILE or ask for --random N (with --seed S)",
            ))
        }
    };
    if inputs.is_empty() {
        return Err(Error::bad_input("no input samples to co-simulate"));
    }
    let opts = CosimOptions {
        steps: args.steps,
        codegen: options(args.lanes.as_deref(), args.units.as_deref(), args.form)?,
        cache_dir: args.cache.unwrap_or_else(default_cache_dir),
        stall: args.stall,
    };
    let report = cosim(&net, &inputs, &opts)?;
    out!("{}", report.summary());
    match report.divergence {
        Some(d) => Err(Error::mismatch(format!("co-simulation MISMATCH: {d}"))),
        None => {
            outln!(
                "co-simulation OK: {} samples x {} steps, every layer and step spike-exact ({} form)",
                report.samples,
                report.steps,
                args.form.name()
            );
            Ok(())
        }
    }
}
