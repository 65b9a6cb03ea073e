//! The command line (clap). Each subcommand lives in its own file with its own `Args` and `run`;
//! this module dispatches and maps errors to exit codes (2: bad input, 1: anything else).

use clap::{Parser, Subcommand};

mod bench;
mod cosim;
mod decouple;
mod eval;
mod export;
mod flow;
mod generate;
mod import;
mod inspect;
mod quantize;
mod simulate;
mod sweep;
mod synth;
mod train;

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
    /// Co-simulate the generated Verilog in Verilator against the golden model.
    Cosim(cosim::Args),
    /// Synthesize generated Verilog with Yosys and nextpnr and report resources and fmax.
    Synth(synth::Args),
    /// The whole flow: model to report, with a summary table.
    Flow(flow::Args),
    /// Sweep parallelism and neuron form for a model and target.
    Sweep(sweep::Args),
    /// Measure golden-model throughput.
    Bench(bench::Args),
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
        Command::Synth(a) => synth::run(a),
        Command::Flow(a) => flow::run(a),
        Command::Sweep(a) => sweep::run(a),
        Command::Bench(a) => bench::run(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
