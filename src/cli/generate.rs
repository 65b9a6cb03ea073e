//! `lifb-hdl generate`: Verilog, ROM files and a manifest for an integer model.

use crate::codegen::{self, Form, Lanes, Options};
use crate::error::Result;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model (manifest .json written by lifb-hdl): an integer model, or a float model, which is
    /// quantized on the fly with the bit widths it was trained for.
    #[arg(long)]
    pub model: PathBuf,
    /// Output directory for the RTL, the .hex ROM files and manifest.json.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub design: DesignArgs,
}

/// The hardware options of a design, shared by generate, cosim and mutate.
#[derive(clap::Args, Debug, Clone)]
pub struct DesignArgs {
    /// Lanes (neurons updated in parallel) per engine: one value for all engines, or one per
    /// engine separated by commas; "all" means one lane per neuron. Default: min(N, 16).
    #[arg(long)]
    pub lanes: Option<String>,
    /// Fire units per engine (neurons leaked/compared/fired per cycle in the fire phase), at most
    /// the lanes: one value or one per engine; "all" = one per lane. Default: a quarter of the
    /// lanes, at least one.
    #[arg(long)]
    pub units: Option<String>,
    /// Neuron form: native (one membrane per LIFB neuron, counts on the wires) or decoupled
    /// (B binary LIF sub-units per neuron, binary spikes).
    #[arg(long, value_enum, default_value = "native")]
    pub form: Form,
}

impl DesignArgs {
    /// The code generator's options these arguments give.
    pub fn options(&self) -> Result<Options> {
        options(self.lanes.as_deref(), self.units.as_deref(), self.form)
    }
}

pub fn options(lanes: Option<&str>, units: Option<&str>, form: Form) -> Result<Options> {
    Ok(Options {
        lanes: lanes.map_or(Ok(Lanes::Default), Lanes::parse)?,
        units: units.map_or(Ok(Lanes::Default), |s| Lanes::parse_for("--units", s))?,
        form,
    })
}

pub fn run(args: Args) -> Result<()> {
    let net = super::hardware_model(&args.model)?;
    let opts = args.design.options()?;
    let design = codegen::generate(&net, &opts)?;
    codegen::write(&design, &args.out)?;
    outln!(
        "wrote {} files to {} ({} form, top {})",
        design.files.len(),
        args.out.display(),
        args.design.form.name(),
        codegen::TOP
    );
    for e in &design.plan.engines {
        outln!(
            "  {}: {} ; {} pass(es), {} fire unit(s), weight ROM {} x {} bits",
            e.module,
            e.desc,
            e.passes,
            e.q,
            e.n_in * e.passes,
            e.p * e.wb
        );
    }
    Ok(())
}
