//! `lifb-hdl generate`: Verilog, ROM files and a manifest for an integer model.

use crate::codegen::{self, Form, Lanes, Options};
use crate::error::Result;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Integer model (manifest .json written by lifb-hdl).
    #[arg(long)]
    pub model: PathBuf,
    /// Output directory for the RTL, the .hex ROM files and manifest.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Lanes (neurons updated in parallel) per engine: one value for all engines, or one per
    /// engine separated by commas; "all" means one lane per neuron. Default: min(N, 16).
    #[arg(long)]
    pub lanes: Option<String>,
    /// Neuron form: native (one membrane per LIFB neuron, counts on the wires) or decoupled
    /// (B binary LIF sub-units per neuron, binary spikes).
    #[arg(long, value_enum, default_value = "native")]
    pub form: Form,
}

pub fn options(lanes: &Option<String>, form: Form) -> Result<Options> {
    Ok(Options {
        lanes: match lanes {
            Some(s) => Lanes::parse(s)?,
            None => Lanes::Default,
        },
        form,
    })
}

pub fn run(args: Args) -> Result<()> {
    let net = crate::format::load_integer(&args.model)?;
    let opts = options(&args.lanes, args.form)?;
    let design = codegen::generate(&net, &opts)?;
    codegen::write(&design, &args.out)?;
    println!(
        "wrote {} files to {} ({} form, top {})",
        design.files.len(),
        args.out.display(),
        args.form.name(),
        codegen::TOP
    );
    for e in &design.plan.engines {
        println!(
            "  {}: {} ; {} pass(es), weight ROM {} x {} bits",
            e.module,
            e.desc,
            e.passes,
            e.n_in * e.passes,
            e.p * e.wb
        );
    }
    Ok(())
}
