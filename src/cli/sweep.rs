//! `lifb-hdl sweep`: compare variants of a design on one target: a table, sweep.json, and a Pareto
//! plot of latency against logic cells in sweep.html.
//!
//! With `--model`, the sweep makes its own variants: for every neuron form (native, decoupled) and
//! every lane setting it generates the RTL, co-simulates it in Verilator against the golden model
//! (measured cycles per image and the spike-exact verdict) and synthesizes it. With `--hdl`, it
//! synthesizes design folders generated beforehand (cycles per image from their manifest.json).
//! The work is the library's (`crate::pipeline::sweep`); this file maps the arguments.

use super::progress::Spinners;
use crate::codegen::Form;
use crate::error::{Error, Result};
use crate::pipeline::sweep::{self, HdlSweep, ModelSweep};
use crate::synth::{Backend, Target};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["model", "hdl"])))]
pub struct Args {
    /// Model (float or integer manifest) to generate, co-simulate and synthesize the variants from.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Or: generated design directories to compare (repeat --hdl). Each may hold manifest.json
    /// with "top", "label" and "cycles_per_image".
    #[arg(long, value_name = "DIR", conflicts_with_all = [
        "model", "lanes", "units", "forms", "cosim_images", "data", "inputs", "random", "steps", "weight_bits", "input_bits", "no_synth"
    ])]
    pub hdl: Vec<PathBuf>,
    /// Device to synthesize for (with --model: default ecp5-45k).
    #[arg(long, value_enum, required_unless_present = "model")]
    pub target: Option<Target>,
    /// Synthesis tools (auto: Debian's for iCE40, YoWASP for ECP5).
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Output directory (default: out/sweep/<target>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Lane settings to sweep, separated by ';' or given repeatedly; each is what `generate --lanes`
    /// takes ("16,all": 16 lanes in the first engine, one per neuron in the second).
    /// Default: 16,all;32,all;64,all;128,all.
    #[arg(long, value_delimiter = ';')]
    pub lanes: Option<Vec<String>>,
    /// Fire units per engine for every variant (as `generate --units`; default: a quarter of the
    /// lanes, at least one).
    #[arg(long)]
    pub units: Option<String>,
    /// Neuron forms to sweep, separated by commas.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_values = ["native", "decoupled"]
    )]
    pub forms: Vec<Form>,
    /// Co-simulate this many of the samples per variant.
    #[arg(long, default_value_t = 20)]
    pub cosim_images: usize,
    #[command(flatten)]
    pub samples: super::InputSourceArgs,
    /// Time steps (default: the model's meta "steps", else 4).
    #[arg(long)]
    pub steps: Option<u32>,
    /// Quantization for float models (defaults: what the model was trained for, from its meta).
    #[arg(long)]
    pub weight_bits: Option<u32>,
    #[arg(long)]
    pub input_bits: Option<u32>,
    /// Only generate and co-simulate (no logic cells, fmax or latency in microseconds).
    #[arg(long)]
    pub no_synth: bool,
    /// Stop a synthesis tool run after this many seconds.
    #[arg(long)]
    pub synth_timeout: Option<u64>,
}

pub fn run(a: Args) -> Result<()> {
    let timeout = a.synth_timeout.map(Duration::from_secs);
    let default_out = |t: Target| PathBuf::from("out").join("sweep").join(t.name());
    let mut progress = Spinners::default();
    let (mut s, out) = match &a.model {
        Some(model) => {
            let target = a.target.unwrap_or(Target::Ecp5_45k);
            let o = ModelSweep {
                model: model.clone(),
                target,
                backend: a.backend,
                out: a.out.clone().unwrap_or_else(|| default_out(target)),
                lanes: a.lanes.clone(),
                units: a.units.clone(),
                forms: a.forms.clone(),
                cosim_images: a.cosim_images,
                inputs: a.samples.source(),
                steps: a.steps,
                weight_bits: a.weight_bits,
                input_bits: a.input_bits,
                synth: !a.no_synth,
                synth_timeout: timeout,
            };
            (sweep::run_model(&o, &mut progress)?, o.out)
        }
        None => {
            let target = a
                .target
                .ok_or_else(|| Error::bad_input("sweep --hdl needs --target"))?;
            let o = HdlSweep {
                hdl: a.hdl.clone(),
                target,
                backend: a.backend,
                out: a.out.clone().unwrap_or_else(|| default_out(target)),
                synth_timeout: timeout,
            };
            (sweep::run_hdl(&o, &mut progress)?, o.out)
        }
    };
    s.mark_pareto();
    out!("{}", s.table());
    s.write(&out)?;
    outln!("wrote {} and sweep.html", out.join("sweep.json").display());
    match s.failure() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
