//! `lifb-hdl cosim`: the generated RTL in Verilator (or Icarus) against the golden simulator,
//! spike by spike.

use super::generate::DesignArgs;
use crate::codegen::Form;
use crate::cosim::{
    cosim_design_with, cosim_with, default_cache_dir, CosimOptions, Simulator, Stimulus,
};
use crate::error::{Error, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model (manifest .json written by lifb-hdl): an integer model, or a float model, which is
    /// quantized on the fly with the bit widths it was trained for.
    #[arg(long)]
    pub model: PathBuf,
    /// Input file (docs/file-formats.md): values {"samples": [[values in 0..1]]}, each value
    /// becoming round(x * input_max), or per-step trains {"trains": [..]} (the design then
    /// takes its input per step, and the trains set the time steps).
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
    let model = super::hardware_model(&args.model)?;
    let (net, inputs, steps) = run_samples(
        model.clone(),
        args.inputs.as_deref(),
        args.random,
        args.seed,
        args.steps,
    )?;
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
            let h = match crate::cosim::hdl::read(dir, &net) {
                // the folder is the static-input design of this model: say what is missing
                Err(_) if net != model && crate::cosim::hdl::read(dir, &model).is_ok() => {
                    return Err(Error::bad_input(format!(
                        "{}: the design there takes one input vector per sample; per-step trains need a design generated for them: lifb-hdl generate --model {} --out DIR --sim-inputs {}",
                        dir.display(),
                        args.model.display(),
                        args.inputs.as_deref().unwrap_or(std::path::Path::new("TRAINS")).display()
                    )))
                }
                r => r?,
            };
            if h.options.form != args.design.form && args.design.form != Form::Native {
                return Err(Error::bad_input(format!(
                    "--form {} disagrees with {}, which holds the {} form",
                    args.design.form.name(),
                    dir.display(),
                    h.options.form.name()
                )));
            }
            for (flag, given, held) in [
                ("--spram", &args.design.spram, &h.options.spram),
                (
                    "--state-bram",
                    &args.design.state_bram,
                    &h.options.state_bram,
                ),
            ] {
                if !given.is_empty() && given != held {
                    return Err(Error::bad_input(format!(
                        "{flag} {given:?} disagrees with {}, which was generated with {flag} {held:?}; leave it out (the folder's options are used) or generate the folder again",
                        dir.display()
                    )));
                }
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

/// The samples of a hardware run and what they make of it: read from a file (values quantized to
/// the model's input range, or per-step trains) or `random` seeded random ones
/// ([`crate::pipeline::random_inputs`]). Returns the network to run (taking its input per step
/// for trains), the integer samples and the time steps (the trains' T, else `--steps`, else the
/// model's recorded ones).
pub(crate) fn run_samples(
    net: crate::ir::IntNetwork,
    file: Option<&std::path::Path>,
    random: Option<usize>,
    seed: u64,
    steps: Option<u32>,
) -> Result<(crate::ir::IntNetwork, Vec<Vec<u32>>, u32)> {
    use crate::pipeline::{per_step_network, InputSource, RunSteps};
    let source = match (file, random) {
        (Some(p), None) => InputSource::File(p.to_path_buf()),
        (None, Some(n)) => InputSource::Random { n, seed },
        _ => {
            return Err(Error::bad_input(
                "give the samples with --inputs FILE or ask for --random N (with --seed S)",
            ))
        }
    };
    let run = RunSteps {
        given: steps,
        default: crate::quant::model_steps(&net.meta, None),
    };
    let inputs = source.load(&net, None, run)?;
    let steps = run.of(&inputs);
    super::limits::steps(
        "--steps or the model's recorded steps (the hardware counts steps in 16 bits)",
        steps,
        u16::MAX as u32,
    )?;
    let net = match inputs.train_steps {
        Some(t) => {
            outln!(
                "{}: {} x {t} steps; the design takes its input per step",
                inputs.what,
                inputs.len()
            );
            per_step_network(&net)?
        }
        None => net,
    };
    Ok((net, inputs.int, steps))
}
