//! The command line (clap). Each subcommand lives in its own file with its own `Args` and `run`;
//! this module dispatches and maps errors to exit codes (2: bad input, 1: anything else).

use clap::{Parser, Subcommand};

/// `println!` for the CLI: through [`print_out`], so that a closed pipe or a full disk is handled
/// (see there) instead of panicking. Returns early with the error on a write failure.
macro_rules! outln {
    () => { $crate::cli::print_out(format_args!("\n"))? };
    ($($arg:tt)*) => { $crate::cli::print_out(format_args!("{}\n", format_args!($($arg)*)))? };
}

/// `print!` for the CLI (see [`outln!`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::print_out(format_args!($($arg)*))? };
}

/// `eprintln!` that never panics: a message that cannot be written to stderr is dropped.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::print_err(format_args!($($arg)*)) };
}

mod bench;
mod cosim;
mod decouple;
mod eval;
mod export;
mod flow;
mod generate;
mod import;
mod inspect;
pub(crate) use crate::limits;
mod mutate;
mod progress;
mod quantize;
mod simulate;
mod study;
mod sweep;
mod sweep_shards;
mod synth;
mod train;
mod verify;

#[derive(Parser, Debug)]
#[command(
    name = "lifb-hdl",
    version,
    about = "LIFB spiking networks to spike-exact FPGA hardware",
    long_about = "lifb-hdl takes spiking networks of LIFB (leaky integrate-and-fire-or-burst) and LIF neurons \
from training or import, through quantization and lossless decoupling into LIF neurons, to Verilog that is \
co-simulated spike for spike against a golden model and synthesized with open tools.\n\n\
Typical pipeline:\n  lifb-hdl quantize --model float.json -o int.json\n  lifb-hdl decouple --model int.json -o lif.json\n  \
lifb-hdl simulate int.json --input inputs.json --steps 4 -o trace.json\n  lifb-hdl generate --model int.json --out rtl/\n  \
lifb-hdl cosim --model int.json --random 100 --steps 4\n  lifb-hdl synth --hdl rtl/ --target ice40-up5k\n\n\
Or all of it at once: lifb-hdl flow"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show a model's layers, shapes, parameter counts and memory needs.
    Inspect(inspect::Args),
    /// Turn a float model into an integer (fixed-point) model.
    Quantize(quantize::Args),
    /// Turn the LIFB layers of an integer model into arrays of LIF neurons.
    Decouple(decouple::Args),
    /// Run the golden simulator on inputs and write a spike trace.
    Simulate(simulate::Args),
    /// Accuracy of the float, integer and decoupled models on a data set, and their agreement.
    Eval(eval::Args),
    /// Train an LIFB or LIF network with surrogate gradients.
    Train(train::Args),
    /// Import a network from NIR or PyTorch (safetensors) weights.
    Import(import::Args),
    /// Export a network to NIR.
    Export(export::Args),
    /// Generate Verilog for an integer model.
    Generate(generate::Args),
    /// Co-simulate the generated Verilog in Verilator (or Icarus) against the golden model.
    Cosim(cosim::Args),
    /// Mutation campaign: plant single faults in the RTL and check co-simulation catches them.
    Mutate(mutate::Args),
    /// Synthesize generated Verilog with Yosys and nextpnr and report resources and fmax.
    Synth(synth::Args),
    /// The whole flow: model to report, with a summary table.
    Flow(flow::Args),
    /// Sweep parallelism and neuron form for a model and target.
    Sweep(Box<sweep::Args>),
    /// Measure golden-model throughput.
    Bench(bench::Args),
    /// The results study: train and measure a grid of networks, summarize with error bars.
    Study(study::Args),
    /// Verification campaign: co-simulate many random networks (sharded like a sweep).
    Verify(verify::Args),
}

/// Set once standard output turned out to be a closed pipe: later output is dropped.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Write to standard output. Policy (documented in the README's exit codes):
/// - a closed pipe (EPIPE, e.g. `lifb-hdl inspect m.json | head -1`) is not an error: the rest of
///   the output is dropped quietly and the command finishes its work (files it writes are still
///   written) and exits with its usual code, 0 on success. (Rust ignores SIGPIPE, so the write
///   returns EPIPE instead of killing the process.)
/// - any other write error (a full disk: `> /dev/full`) is an I/O error: exit 1 with a message.
pub(crate) fn print_out(args: std::fmt::Arguments<'_>) -> crate::error::Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    match o.write_fmt(args) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(stdout_error(e)),
    }
}

fn stdout_error(e: std::io::Error) -> crate::error::Error {
    crate::error::Error::io(std::path::Path::new("standard output"), e)
        .context("writing the command's output")
}

/// Flush standard output at the end of a command (same policy as [`print_out`]).
fn flush_out() -> crate::error::Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    match std::io::stdout().lock().flush() {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(stdout_error(e)),
    }
}

/// Write a line to standard error; if even that fails there is nobody to tell: dropped.
pub(crate) fn print_err(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = e.write_fmt(args).and_then(|_| e.write_all(b"\n"));
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(a) => inspect::run(a),
        Command::Quantize(a) => quantize::run(a),
        Command::Decouple(a) => decouple::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Train(a) => train::run(a),
        Command::Import(a) => import::run(a),
        Command::Export(a) => export::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Cosim(a) => cosim::run(a),
        Command::Mutate(a) => mutate::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Flow(a) => flow::run(a),
        Command::Sweep(a) => sweep::run(*a),
        Command::Bench(a) => bench::run(a),
        Command::Study(a) => study::run(a),
        Command::Verify(a) => verify::run(a),
    };
    // Output still buffered is flushed here; its failure is reported like any other.
    let result = result.and_then(|()| flush_out());
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = flush_out();
            errln!("error: {e}");
            e.exit_code()
        }
    }
}

/// A pass's model in and model out (quantize, decouple).
#[derive(clap::Args, Debug)]
pub struct PassFiles {
    /// The model to read (.json manifest; its .safetensors beside it).
    #[arg(long)]
    pub model: std::path::PathBuf,
    /// Where to write the result (.json manifest; its .safetensors goes beside it).
    #[arg(short, long)]
    pub output: std::path::PathBuf,
}

impl PassFiles {
    /// Both files for the output check: `-o` (and its tensors file) may not be `--model` (or
    /// its tensors file), nor an existing directory, FIFO or device.
    pub(crate) fn files(&self) -> Files {
        Files::default()
            .model_in(&self.model, "--model")
            .model_out(Some(&self.output), "-o")
    }
}

/// The files a command reads and writes, checked before any work: an output may not be an input
/// or another output (a model stands for its manifest and its tensors file), nor an existing
/// directory, FIFO or device. Nothing is written when the check fails.
#[derive(Default)]
pub(crate) struct Files {
    ins: Vec<(std::path::PathBuf, String)>,
    outs: Vec<(std::path::PathBuf, String)>,
}

impl Files {
    pub(crate) fn model_in(mut self, p: &std::path::Path, opt: &str) -> Self {
        for (k, f) in crate::format::model_files(p).into_iter().enumerate() {
            let role = if k == 0 {
                format!("the input model ({opt})")
            } else {
                format!("the tensors file of the input model ({opt})")
            };
            self.ins.push((f, role));
        }
        self
    }
    pub(crate) fn file_in(mut self, p: Option<&std::path::Path>, opt: &str) -> Self {
        if let Some(p) = p {
            self.ins.push((p.to_path_buf(), format!("the input {opt}")));
        }
        self
    }
    pub(crate) fn model_out(mut self, p: Option<&std::path::Path>, opt: &str) -> Self {
        if let Some(p) = p {
            self.outs
                .push((p.to_path_buf(), format!("the output model ({opt})")));
            self.outs.push((
                crate::format::tensors_path(p),
                format!("the output model's tensors file ({opt})"),
            ));
        }
        self
    }
    pub(crate) fn file_out(mut self, p: Option<&std::path::Path>, opt: &str) -> Self {
        if let Some(p) = p {
            self.outs
                .push((p.to_path_buf(), format!("the output {opt}")));
        }
        self
    }
    pub(crate) fn check(self) -> crate::error::Result<()> {
        crate::util::check_outputs(&self.ins, &self.outs)
    }
}

/// The integer model a hardware command (generate, cosim) works on: an integer model as it is,
/// or a float model quantized on the fly with the bit widths it was trained for (recorded in its
/// meta; `quantize` with no width options makes the same model). Says which on stdout.
pub(crate) fn hardware_model(
    path: &std::path::Path,
) -> crate::error::Result<crate::ir::IntNetwork> {
    match crate::format::load(path)? {
        crate::format::AnyNetwork::Integer(i) => Ok(i),
        crate::format::AnyNetwork::Float(f) => {
            let opts = crate::quant::QuantOptions::recorded(&f.meta, None, None, None);
            let (q, _) = crate::quant::quantize(&f, &opts, None)?;
            outln!(
                "{} is a float model: quantized on the fly to {}-bit weights and {}-bit inputs (the widths it records; 'lifb-hdl quantize' makes the same model)",
                path.display(),
                opts.weight_bits,
                opts.input_bits
            );
            Ok(q)
        }
    }
}

/// `--emit`, `--shards`, `--image`: the job file that runs the shards of a sweep plan, a
/// verification campaign or a results study.
#[derive(clap::Args, Debug)]
pub struct EmitArgs {
    /// Print a job file that runs the shards: an sbatch array script (slurm) or an Indexed Job
    /// manifest (k8s). `sweep plan` still writes its plan; `verify` and `study run` run nothing.
    #[arg(long, value_enum)]
    pub emit: Option<crate::scale::emit::JobKind>,
    /// Shards in the emitted job file.
    #[arg(long, default_value_t = 4, requires = "emit")]
    pub shards: usize,
    /// Container image for --emit k8s.
    #[arg(long, default_value = "lifb-hdl:latest", requires = "emit")]
    pub image: String,
}

impl EmitArgs {
    /// `--shards`, within 1..=[`crate::scale::MAX_SHARDS`].
    pub fn checked_shards(&self) -> crate::error::Result<usize> {
        if !(1..=crate::scale::MAX_SHARDS).contains(&self.shards) {
            return Err(crate::error::Error::bad_input(format!(
                "--shards must be 1..={}, got {}",
                crate::scale::MAX_SHARDS,
                self.shards
            )));
        }
        Ok(self.shards)
    }
}

/// `--steps` (`-T`), `--weight-bits`, `--input-bits` of eval, flow and sweep: the time steps, and
/// the quantization of a float model.
#[derive(clap::Args, Debug, Clone)]
pub struct StepsQuantArgs {
    /// Time steps (default: the model's meta "steps", else 4).
    #[arg(long, short = 'T')]
    pub steps: Option<u32>,
    /// Weight width for quantizing a float model (default: the width it was trained for, else 8).
    #[arg(long)]
    pub weight_bits: Option<u32>,
    /// Input width for quantizing a float model (default: the width it was trained with, else 8).
    #[arg(long)]
    pub input_bits: Option<u32>,
}

/// `--no-synth` and `--synth-timeout` of flow and sweep.
#[derive(clap::Args, Debug, Clone)]
pub struct SynthRunArgs {
    /// Skip synthesis: generate and co-simulate only (no logic cells, fmax or latency in
    /// microseconds).
    #[arg(long)]
    pub no_synth: bool,
    /// Stop a synthesis tool run after this many seconds.
    #[arg(long)]
    pub synth_timeout: Option<u64>,
}

impl SynthRunArgs {
    pub(crate) fn timeout(&self) -> Option<std::time::Duration> {
        self.synth_timeout.map(std::time::Duration::from_secs)
    }
}

/// The samples of flow and sweep: a built-in data set, an input set file, or random samples.
#[derive(clap::Args, Debug, Clone)]
pub struct InputSourceArgs {
    /// Evaluation images from a built-in data set (default: the shipped sample of the model's
    /// own data set).
    #[arg(long, value_enum, conflicts_with_all = ["inputs", "random"])]
    pub data: Option<crate::data::DataSetKind>,
    /// Folder of fetched data sets (for --data mnist or fashion).
    #[arg(long, default_value = "data")]
    pub data_dir: std::path::PathBuf,
    /// Or: the samples of an input set file (docs/file-formats.md, "Input set"; labels optional:
    /// without them no accuracy is measured, only agreement with the golden model).
    #[arg(long, value_name = "FILE", conflicts_with = "random")]
    pub inputs: Option<std::path::PathBuf>,
    /// Or: this many random samples (each input 0 with probability 1/2, else uniform), no labels.
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// Seed of the --random samples.
    #[arg(long, default_value_t = 1, requires = "random")]
    pub seed: u64,
}

impl InputSourceArgs {
    pub(crate) fn source(&self) -> crate::pipeline::InputSource {
        use crate::pipeline::InputSource;
        match (&self.inputs, self.random) {
            (Some(p), _) => InputSource::File(p.clone()),
            (None, Some(n)) => InputSource::Random { n, seed: self.seed },
            (None, None) => InputSource::Dataset {
                kind: self.data,
                dir: self.data_dir.clone(),
            },
        }
    }
}

/// The model argument of inspect and simulate: `--model M` as every other command takes it, or
/// the older positional form.
#[derive(clap::Args, Debug)]
pub struct ModelArg {
    /// Model manifest (.json, with its .safetensors beside it), float or integer.
    #[arg(value_name = "MODEL", required_unless_present = "model")]
    positional: Option<std::path::PathBuf>,
    /// The model, as an option (the same as the positional MODEL).
    #[arg(long, value_name = "MODEL", conflicts_with = "positional")]
    model: Option<std::path::PathBuf>,
}

impl ModelArg {
    pub(crate) fn path(&self) -> &std::path::Path {
        self.model
            .as_deref()
            .or(self.positional.as_deref())
            .expect("clap requires one of the two")
    }
}
