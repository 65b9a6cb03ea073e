//! `lifb-hdl export --nir`: a model (float or integer; LIF, IF and the pure-LIF decoupled form)
//! to a NIR graph. docs/import.md ("Export") says what NIR consumers see.

use crate::error::Result;
use crate::format;
use crate::nir::{export_any, ExportOptions};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model to export (JSON manifest).
    #[arg(long, value_name = "MODEL.json")]
    pub model: PathBuf,
    /// Write a NIR graph (.nir, HDF5) here.
    #[arg(long, value_name = "FILE.nir")]
    pub nir: PathBuf,
    /// Time step that tau is expressed against (snnTorch's exporter uses 1e-4).
    #[arg(long, default_value_t = 1e-4)]
    pub dt: f64,
}

pub fn run(args: Args) -> Result<()> {
    super::limits::float("--dt", args.dt, 0.0, f64::MAX, true)?;
    super::Files::default()
        .model_in(&args.model, "--model")
        .file_out(Some(&args.nir), "--nir")
        .check()?;
    let net = format::load(&args.model)?;
    let out = export_any(&net, &ExportOptions { dt: args.dt })?;
    for w in &out.warnings {
        errln!("warning: {w}");
    }
    crate::util::write_atomic(&args.nir, &out.bytes)?;
    outln!(
        "exported {} ({} NIR nodes, {} bytes) -> {}",
        net.name(),
        out.nodes,
        out.bytes.len(),
        args.nir.display()
    );
    Ok(())
}
