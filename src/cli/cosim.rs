//! `lifb-hdl cosim`: the generated RTL in Verilator (or Icarus) against the golden simulator,
//! spike by spike.

use super::generate::DesignArgs;
use crate::codegen::Form;
use crate::cosim::{
    cosim_design_with, cosim_with, default_cache_dir, CosimOptions, Simulator, Stimulus,
};
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model (manifest .json written by lifb-hdl): an integer model, or a float model, which is
    /// quantized on the fly with the bit widths it was trained for.
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
    /// Time steps per sample. Default: the model's recorded steps, else 4.
    #[arg(long)]
    pub steps: Option<u32>,
    /// Lanes, fire units and form (as for generate).
    #[command(flatten)]
    pub design: DesignArgs,
    /// Verilator build cache (default target/lifb-cosim, or $LIFB_COSIM_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Verification stimulus: out_ready stalls, in_valid gaps, inputs in random order within a
    /// step, random resets between samples and random initial register values (all seeded by
    /// --stim-seed; cycle counts then include waiting, so the cycle budget is not checked).
    #[arg(long)]
    pub stall: bool,
    /// Seed of the stimulus (stalls, gaps, order, resets, initial values).
    #[arg(long, default_value_t = 1)]
    pub stim_seed: u64,
    /// Per-cycle probability that an out_ready stall burst starts (0..=0.95; default 0.25 with
    /// --stall, else 0).
    #[arg(long)]
    pub stall_prob: Option<f64>,
    /// Longest out_ready stall burst in cycles (each burst is 1..=N cycles).
    #[arg(long, default_value_t = 8)]
    pub stall_burst: u32,
    /// Per-cycle probability that an in_valid gap starts (0..=0.95; default 0.15 with --stall,
    /// else 0).
    #[arg(long)]
    pub gap_prob: Option<f64>,
    /// Longest in_valid gap in cycles.
    #[arg(long, default_value_t = 4)]
    pub gap_burst: u32,
    /// Cap every FIFO at this many words (a power of two, 2..=1024), so that FIFOs fill.
    #[arg(long, conflicts_with = "hdl")]
    pub fifo_depth: Option<usize>,
    /// Cycle budget: fail when a sample takes more than (1 + M) x the cycle model's prediction
    /// (docs/hardware.md, "Cycle budget"; checked only without stalls and gaps).
    #[arg(long, default_value_t = crate::cosim::DEFAULT_CYCLE_MARGIN)]
    pub cycle_margin: f64,
    /// Do not check the cycle budget.
    #[arg(long)]
    pub no_cycle_budget: bool,
    /// Co-simulate the RTL folder DIR as it is on disk (written by generate, possibly edited)
    /// instead of generating it; lanes, units, form and FIFO depth come from its manifest.
    #[arg(long, conflicts_with_all = ["lanes", "units"])]
    pub hdl: Option<PathBuf>,
    /// The simulator: verilator (C++ harness) or icarus (the plain Verilog testbench
    /// sim/tb_lifb.v); both are driven alike and compared by the same code.
    #[arg(long, value_enum, default_value = "verilator")]
    pub simulator: Simulator,
}

pub fn run(args: Args) -> Result<()> {
    use super::limits;
    if let Some(n) = args.random {
        limits::count("--random", n, limits::MAX_SAMPLES)?;
    }
    let net = super::hardware_model(&args.model)?;
    let steps = super::model_steps(&net, args.steps);
    limits::steps(
        "--steps or the model's recorded steps (the hardware counts steps in 16 bits)",
        steps,
        u16::MAX as u32,
    )?;
    if let Some(n) = args.random {
        limits::buffer(
            "--random samples",
            limits::input_bytes(&net, n),
            "lower --random",
        )?;
    }
    let inputs = sample_inputs(&net, args.inputs.as_deref(), args.random, args.seed)?;
    if inputs.is_empty() {
        return Err(Error::bad_input("no input samples to co-simulate"));
    }
    let mut stimulus = if args.stall {
        Stimulus::verify(args.stim_seed)
    } else {
        Stimulus {
            seed: args.stim_seed,
            ..Stimulus::quiet()
        }
    };
    if let Some(p) = args.stall_prob {
        stimulus.stall_prob = p;
    }
    if let Some(p) = args.gap_prob {
        stimulus.gap_prob = p;
    }
    stimulus.stall_burst = args.stall_burst;
    stimulus.gap_burst = args.gap_burst;
    let mut opts = CosimOptions {
        steps,
        codegen: args.design.options()?,
        cache_dir: args.cache.unwrap_or_else(default_cache_dir),
        stimulus,
        fifo_depth: args.fifo_depth,
        cycle_margin: (!args.no_cycle_budget).then_some(args.cycle_margin),
    };
    let report = match &args.hdl {
        Some(dir) => {
            let h = crate::cosim::hdl::read(dir, &net)?;
            if h.options.form != args.design.form && args.design.form != Form::Native {
                return Err(Error::bad_input(format!(
                    "--form {} disagrees with {}, which holds the {} form",
                    args.design.form.name(),
                    dir.display(),
                    h.options.form.name()
                )));
            }
            opts.codegen = h.options.clone();
            opts.fifo_depth = h.fifo_depth;
            outln!(
                "co-simulating the RTL in {} ({} form){}",
                dir.display(),
                h.options.form.name(),
                if h.edited.is_empty() {
                    ", identical to a fresh generation".to_string()
                } else {
                    format!(
                        "; files that differ from a fresh generation: {}",
                        h.edited.join(", ")
                    )
                }
            );
            cosim_design_with(args.simulator, &h.design, &inputs, &opts)?
        }
        None => cosim_with(args.simulator, &net, &inputs, &opts)?,
    };
    out!("{}", report.summary());
    match report.failure() {
        Some(d) => Err(Error::mismatch(format!("co-simulation MISMATCH: {d}"))),
        None => {
            outln!(
                "co-simulation OK: {} samples x {} steps, every layer and step spike-exact, every event's membrane, the output stream and the classes equal ({} form, {})",
                report.samples,
                report.steps,
                opts.codegen.form.name(),
                args.simulator.name()
            );
            Ok(())
        }
    }
}

/// The samples to co-simulate: read from a file (quantized to the model's input range), or `random`
/// seeded random ones (each input 0 with probability 1/2, else uniform).
pub(crate) fn sample_inputs(
    net: &crate::ir::IntNetwork,
    file: Option<&std::path::Path>,
    random: Option<usize>,
    seed: u64,
) -> Result<Vec<Vec<u32>>> {
    let fx = net.fixed.as_ref().expect("integer model");
    let inputs: Vec<Vec<u32>> = match (file, random) {
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
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
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
    Ok(inputs)
}
