//! `lifb-hdl import`: NIR graphs and PyTorch state_dicts (safetensors + architecture JSON) to a
//! model file. docs/import.md has the mapping tables.

use crate::error::{Error, Result};
use crate::format::{self, AnyNetwork};
use crate::ir::Reset;
use crate::nir::{Compare, ImportOptions, Preset};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["nir", "safetensors"])))]
pub struct Args {
    /// A NIR graph (.nir, HDF5).
    #[arg(long, value_name = "FILE.nir")]
    pub nir: Option<PathBuf>,
    /// A PyTorch state_dict saved as safetensors (needs --arch).
    #[arg(long, value_name = "W.safetensors", requires = "arch")]
    pub safetensors: Option<PathBuf>,
    /// The architecture of the state_dict (JSON; see docs/import.md).
    #[arg(long, value_name = "ARCH.json")]
    pub arch: Option<PathBuf>,
    /// The model to write (JSON manifest; tensors go beside it as .safetensors).
    #[arg(short, long, value_name = "MODEL.json")]
    pub output: PathBuf,
    /// The exporter's conventions (units of tau, dt, reset). lifb-hdl files are detected.
    #[arg(long, value_enum)]
    pub preset: Option<PresetArg>,
    /// Time step in the units of the file's tau (default: snntorch 1e-4, norse 1e-3).
    #[arg(long)]
    pub dt: Option<f64>,
    /// Override the reset: subtract (by threshold) or zero.
    #[arg(long, value_enum)]
    pub reset: Option<ResetArg>,
    /// Map NIR's "fire on v > threshold" exactly (next f32 above) or as ">=" (approximate).
    #[arg(long, value_enum, default_value = "exact")]
    pub compare: CompareArg,
    /// Promote LIF layers to LIFB with this maximum burst B (needs --spacing).
    #[arg(long, value_name = "B", requires = "spacing")]
    pub promote_lifb: Option<u32>,
    /// Burst spacing D for --promote-lifb.
    #[arg(long, value_name = "D")]
    pub spacing: Option<f32>,
    /// Accept a final LI node as the sum-of-currents readout (approximate).
    #[arg(long, value_enum)]
    pub li_readout: Option<LiReadout>,
    /// Name of the imported network.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum PresetArg {
    Snntorch,
    Norse,
    Generic,
    LifbHdl,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ResetArg {
    Subtract,
    Zero,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum CompareArg {
    Exact,
    AsGe,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LiReadout {
    Sum,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(b) = args.promote_lifb {
        if b == 0 || b > 64 {
            return Err(Error::bad_input(format!(
                "--promote-lifb must be 1..=64, got {b}"
            )));
        }
    }
    if let Some(d) = args.spacing {
        if !(d.is_finite() && d > 0.0) {
            return Err(Error::bad_input(format!(
                "--spacing must be a number > 0, got {d}"
            )));
        }
    }
    if let Some(dt) = args.dt {
        super::limits::float("--dt", dt, 0.0, f64::MAX, true)?;
    }
    super::Files::default()
        .file_in(args.nir.as_deref(), "--nir")
        .file_in(args.safetensors.as_deref(), "--safetensors")
        .file_in(args.arch.as_deref(), "--arch")
        .model_out(Some(&args.output), "-o")
        .check()?;
    let (net, warnings, summary) = if let Some(path) = &args.nir {
        let opts = ImportOptions {
            preset: args.preset.map(|p| match p {
                PresetArg::Snntorch => Preset::Snntorch,
                PresetArg::Norse => Preset::Norse,
                PresetArg::Generic => Preset::Generic,
                PresetArg::LifbHdl => Preset::LifbHdl,
            }),
            dt: args.dt,
            reset: args.reset.map(|r| match r {
                ResetArg::Subtract => Reset::Subtract,
                ResetArg::Zero => Reset::Zero,
            }),
            compare: match args.compare {
                CompareArg::Exact => Compare::Exact,
                CompareArg::AsGe => Compare::AsGe,
            },
            promote: args.promote_lifb.zip(args.spacing),
            li_readout_sum: args.li_readout.is_some(),
            name: args.name.clone(),
        };
        let imp = crate::nir::import_file(path, &opts)?;
        let summary = format!("preset {}, dt {}", imp.preset.name(), imp.dt);
        (imp.network, imp.warnings, summary)
    } else {
        let w = args.safetensors.as_ref().expect("clap: source group");
        let arch = args
            .arch
            .as_ref()
            .ok_or_else(|| Error::bad_input("--safetensors needs --arch ARCH.json"))?;
        let imp = crate::import::import_state_dict(w, arch, args.name.as_deref())?;
        (AnyNetwork::Float(imp.network), imp.warnings, imp.summary)
    };
    for w in &warnings {
        errln!("warning: {w}");
    }
    let (layers, params) = match &net {
        AnyNetwork::Float(n) => {
            format::save(n, &args.output)?;
            (n.layers.len(), n.parameter_count())
        }
        AnyNetwork::Integer(n) => {
            format::save(n, &args.output)?;
            (n.layers.len(), n.parameter_count())
        }
    };
    outln!(
        "imported {} ({layers} layers, {params} parameters; {summary}; {} warnings) -> {}",
        net.name(),
        warnings.len(),
        args.output.display()
    );
    Ok(())
}
