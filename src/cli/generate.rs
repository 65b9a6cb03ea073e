//! `lifb-hdl generate`: Verilog, ROM files and a manifest for an integer model.

use crate::codegen::{self, Form, Lanes, Options};
use crate::error::{Error, Result};
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
    /// Do not write the testbench folder DIR/sim/.
    #[arg(long)]
    pub no_sim: bool,
    /// Samples for the testbench folder (a file as `cosim --inputs` reads). Default: 4 random
    /// samples, seed 1. Per-step trains make a design that takes its input per step.
    #[arg(long, conflicts_with = "no_sim")]
    pub sim_inputs: Option<PathBuf>,
    /// Time steps per sample in the testbench folder. Default: the model's recorded steps, else 4.
    #[arg(long, conflicts_with = "no_sim")]
    pub steps: Option<u32>,
    /// Also write <top>_axis.v, an AXI4-Stream wrapper (docs/hardware.md).
    #[arg(long)]
    pub axis: bool,
    /// Write into a folder that holds files an earlier generation did not write (they are left
    /// alone).
    #[arg(long)]
    pub force: bool,
}

/// The hardware options of a design, shared by generate, cosim, mutate and flow.
#[derive(clap::Args, Debug, Clone)]
pub struct DesignArgs {
    /// Lanes (neurons updated in parallel) per engine: one value for all engines, or one per
    /// engine separated by commas; "all" means one lane per neuron. Default: min(N, 32).
    #[arg(long)]
    pub lanes: Option<String>,
    /// Fire units per engine (neurons leaked/compared/fired per cycle in the fire phase), at most
    /// the lanes: one value or one per engine; "all" = one per lane. Default: a quarter of the
    /// lanes, at least one.
    #[arg(long)]
    pub units: Option<String>,
    /// Neuron form: native (one membrane per LIFB neuron, counts on the wires) or decoupled
    /// (B binary LIF sub-units per neuron, binary spikes). Native is the default on FPGAs: one
    /// membrane and B comparators per neuron, and the next layer reads one weight per active
    /// neuron instead of one per sub-unit spike.
    #[arg(long, value_enum, default_value = "native")]
    pub form: Form,
    /// Engines (numbered from 0, comma-separated) whose weights go to the single-port RAM of an
    /// iCE40 UltraPlus (SB_SPRAM256KA, four 16K x 16 blocks on a UP5K) instead of block RAM.
    /// Such RAM cannot be initialised by the bitstream: the design gets a load port (wl_valid,
    /// wl_addr, wl_data) that writes spram_load.hex before the first sample.
    #[arg(long, value_delimiter = ',')]
    pub spram: Vec<usize>,
    /// Engines (numbered from 0, comma-separated) whose accumulators and membranes go to block
    /// RAM with a registered read instead of distributed RAM: for FPGAs that have none (iCE40),
    /// where they would otherwise take flip-flops. Same cycles, same results.
    #[arg(long, value_delimiter = ',')]
    pub state_bram: Vec<usize>,
}

impl DesignArgs {
    /// The code generator's options these arguments give.
    pub fn options(&self) -> Result<Options> {
        let units = |s: &str| Lanes::parse_for("--units", s);
        Ok(Options {
            lanes: self
                .lanes
                .as_deref()
                .map_or(Ok(Lanes::Default), Lanes::parse)?,
            units: self.units.as_deref().map_or(Ok(Lanes::Default), units)?,
            form: self.form,
            spram: self.spram.clone(),
            state_bram: self.state_bram.clone(),
        })
    }
}

pub fn run(args: Args) -> Result<()> {
    let mut net = super::hardware_model(&args.model)?;
    let opts = args.design.options()?;
    if args.axis && !opts.spram.is_empty() {
        return Err(crate::error::Error::bad_input(
            "--axis with --spram: the AXI4-Stream wrapper has no weight load port; generate the SPRAM design without --axis and drive wl_valid/wl_addr/wl_data beside the stream",
        ));
    }
    // The testbench's samples come first: per-step trains make a design that takes its input
    // per step.
    let mut samples = None;
    if !args.no_sim {
        let (n, inputs, steps) = super::cosim::run_samples(
            net,
            args.sim_inputs.as_deref(),
            args.sim_inputs.is_none().then_some(4),
            1,
            args.steps,
        )?;
        net = n;
        samples = Some((inputs, steps));
    }
    let mut design = codegen::generate(&net, &opts)?;
    let mut extra: Vec<(String, Vec<u8>)> = Vec::new();
    let mut stim_words = None;
    if let Some((inputs, steps)) = samples {
        let (files, words) = crate::cosim::sim_folder::files(&design, &inputs, steps)?;
        stim_words = Some(words);
        for (n, b) in files {
            extra.push((format!("sim/{n}"), b));
        }
    }
    if args.axis {
        extra.push((
            format!("{}_axis.v", codegen::TOP),
            codegen::integration::axis_verilog(&design.plan).into_bytes(),
        ));
    }
    extra.push((
        "files.f".into(),
        codegen::integration::files_f(&design, args.axis).into_bytes(),
    ));
    extra.push((
        format!("{}.core", codegen::TOP),
        codegen::integration::core_file(&design, stim_words, args.axis).into_bytes(),
    ));
    {
        design.manifest.extra_files = extra.iter().map(|(n, _)| n.clone()).collect();
        let json = design.manifest.to_json()?;
        for (n, b) in &mut design.files {
            if n == "manifest.json" {
                *b = json.clone();
            }
        }
    }
    clear_previous(&args.out, args.force)?;
    codegen::write(&design, &args.out)?;
    for (n, b) in &extra {
        let p = args.out.join(n);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        crate::util::write_atomic(&p, b)?;
    }
    outln!(
        "wrote {} files to {} ({} form, top {})",
        design.files.len() + extra.len(),
        args.out.display(),
        args.design.form.name(),
        codegen::TOP
    );
    for e in &design.plan.engines {
        let memory = match &e.memories.spram {
            Some(sp) => format!("weight SPRAM ({} block(s))", sp.blocks()),
            None => "weight ROM".to_string(),
        };
        outln!(
            "  {}: {} ; {} pass(es), {} fire unit(s), {memory} {} x {} bits",
            e.module,
            e.desc,
            e.parallelism.passes,
            e.parallelism.fire_units,
            e.weight_depth(),
            e.parallelism.lanes * e.widths.weight
        );
    }
    if design
        .plan
        .engines
        .iter()
        .any(|e| e.memories.spram.is_some())
    {
        outln!(
            "  load {} through wl_valid/wl_addr/wl_data before the first sample (one line a cycle; docs/hardware.md)",
            codegen::SPRAM_LOAD_FILE
        );
    }
    Ok(())
}

/// Folders make creates inside the generated folder: neither ours to delete nor foreign.
const BUILD_DIRS: &[&str] = &["sim/build"];

/// Before writing into `dir`: remove what the previous generation wrote (the files its
/// manifest.json lists), so that no stale ROM or testbench file remains; refuse (exit 2) when the
/// folder holds anything else, unless `force` (then those files stay as they are). Only files a
/// manifest lists are ever deleted.
fn clear_previous(dir: &std::path::Path, force: bool) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut ours: Vec<String> = Vec::new();
    let mpath = dir.join("manifest.json");
    if mpath.is_file() {
        let bytes = crate::util::read_limited(&mpath, 64 << 20)?;
        if let Ok(m) = codegen::Manifest::parse(&bytes) {
            ours.extend(m.files);
            ours.extend(m.extra_files);
            ours.push("manifest.json".into());
        }
    }
    // a name is only ever joined to `dir` if it is a plain relative path
    ours.retain(|n| {
        !n.is_empty()
            && !n.starts_with('/')
            && n.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
    });
    let mut foreign: Vec<String> = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let here = if rel.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&rel)
        };
        let rd = std::fs::read_dir(&here).map_err(|e| Error::io(&here, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(&here, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let ft = entry.file_type().map_err(|e| Error::io(&entry.path(), e))?;
            if BUILD_DIRS.contains(&path.as_str()) {
                continue;
            }
            if ft.is_dir()
                && (path == "sim" || ours.iter().any(|o| o.starts_with(&format!("{path}/"))))
            {
                stack.push(path);
            } else if !ours.contains(&path) {
                foreign.push(path);
            }
        }
    }
    foreign.sort();
    if !foreign.is_empty() && !force {
        let shown: Vec<&str> = foreign.iter().take(5).map(String::as_str).collect();
        return Err(Error::bad_input(format!(
            "{}: the folder holds {} file(s) that no earlier 'lifb-hdl generate' wrote there ({}{}); give an empty or new folder, or --force to write anyway (they are left alone)",
            dir.display(),
            foreign.len(),
            shown.join(", "),
            if foreign.len() > 5 { ", ..." } else { "" }
        )));
    }
    for n in &ours {
        let p = dir.join(n);
        // never through a linked folder: a removal stays inside `dir`
        let mut parent = dir.to_path_buf();
        let parts: Vec<&str> = n.split('/').collect();
        let linked = parts[..parts.len() - 1].iter().any(|c| {
            parent.push(c);
            std::fs::symlink_metadata(&parent).map_or(true, |m| !m.is_dir())
        });
        if linked {
            continue;
        }
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file() || m.file_type().is_symlink()) {
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    Ok(())
}
