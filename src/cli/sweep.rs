//! `lifb-hdl sweep`: synthesize several generated variants of a design for one target and compare them
//! (table, sweep.json, and a Pareto plot of latency against logic cells in sweep.html).
//!
//! Partial: the variants are directories the user (or `flow`) has generated already, one per parallelism and
//! neuron form; generating them from a model inside this command waits for the generator.

use crate::error::{Error, Result};
use crate::report::svg::{self, DesignPoint};
use crate::synth::{self, Backend, Outcome, SynthRequest, Target};
use serde::Serialize;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Generated design directories to compare (repeat --hdl). Each may hold manifest.json with "top",
    /// "label" and "cycles_per_image".
    #[arg(long, value_name = "DIR", required = true)]
    pub hdl: Vec<PathBuf>,
    #[arg(long, value_enum)]
    pub target: Target,
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Output directory (default: out/sweep/<target>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct SweepRow {
    label: String,
    hdl: String,
    fits: bool,
    logic_cells: Option<u64>,
    block_ram: Option<u64>,
    fmax_mhz: Option<f64>,
    cycles_per_image: Option<u64>,
    latency_us: Option<f64>,
    /// Resources short when it does not fit: "block RAM 64/30".
    shortfalls: Vec<String>,
}

fn manifest_field(dir: &std::path::Path, key: &str) -> Option<serde_json::Value> {
    let bytes = crate::util::read_limited(&dir.join("manifest.json"), 16 << 20).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get(key).cloned()
}

pub fn run(args: Args) -> Result<()> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join("sweep").join(args.target.name()));
    let mut rows = Vec::new();
    for (i, dir) in args.hdl.iter().enumerate() {
        let label = manifest_field(dir, "label")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| {
                dir.file_name()
                    .map_or(format!("variant {i}"), |n| n.to_string_lossy().into_owned())
            });
        let cycles = manifest_field(dir, "cycles_per_image").and_then(|v| v.as_u64());
        let req = SynthRequest::new(dir, args.target, args.backend, out.join(format!("{i:02}")));
        eprintln!("sweep: synthesizing {label} ({})", dir.display());
        let row = match synth::try_run(&req)? {
            Outcome::Fits(r) => {
                let fmax = r.min_fmax_mhz();
                SweepRow {
                    label,
                    hdl: dir.display().to_string(),
                    fits: true,
                    logic_cells: Some(r.resources.logic_cells.used),
                    block_ram: Some(r.resources.block_ram.used),
                    fmax_mhz: fmax,
                    cycles_per_image: cycles,
                    latency_us: cycles.zip(fmax).map(|(c, f)| c as f64 / f),
                    shortfalls: Vec::new(),
                }
            }
            Outcome::DoesNotFit { shortfalls, .. } => SweepRow {
                label,
                hdl: dir.display().to_string(),
                fits: false,
                logic_cells: None,
                block_ram: None,
                fmax_mhz: None,
                cycles_per_image: cycles,
                latency_us: None,
                shortfalls: shortfalls
                    .iter()
                    .map(|s| format!("{} {}/{}", s.resource, s.needed, s.available))
                    .collect(),
            },
        };
        rows.push(row);
    }

    println!(
        "{:<24} {:>11} {:>6} {:>10} {:>12} {:>12}",
        "variant", "logic cells", "BRAM", "fmax MHz", "cycles/img", "us/image"
    );
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    for r in &rows {
        if r.fits {
            println!(
                "{:<24} {:>11} {:>6} {:>10} {:>12} {:>12}",
                r.label,
                opt(r.logic_cells.map(|v| v.to_string())),
                opt(r.block_ram.map(|v| v.to_string())),
                opt(r.fmax_mhz.map(|v| format!("{v:.2}"))),
                opt(r.cycles_per_image.map(|v| v.to_string())),
                opt(r.latency_us.map(|v| format!("{v:.3}")))
            );
        } else {
            println!("{:<24} does not fit: {}", r.label, r.shortfalls.join(", "));
        }
    }

    let points: Vec<DesignPoint> = rows
        .iter()
        .filter_map(|r| {
            Some(DesignPoint {
                label: r.label.clone(),
                logic_cells: r.logic_cells?,
                latency_us: r.latency_us?,
            })
        })
        .collect();
    let mut json = serde_json::to_vec_pretty(&rows)
        .map_err(|e| Error::tool(format!("cannot serialize sweep.json: {e}")))?;
    json.push(b'\n');
    crate::util::write_atomic(&out.join("sweep.json"), &json)?;
    let figure = if points.is_empty() {
        "<p>No variant has both a fit and a cycles_per_image in its manifest: nothing to plot.</p>"
            .to_string()
    } else {
        svg::pareto(&points)
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lifb-hdl sweep on {t}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:24px}}svg text{{font-family:inherit}}\
         svg .tick{{font-size:11px;fill:#64748b}}svg .sub{{font-size:12px;fill:#475569}}</style></head>\
         <body><h1>Sweep on {t}</h1>\n{figure}</body></html>\n",
        t = args.target
    );
    crate::util::write_atomic(&out.join("sweep.html"), html.as_bytes())?;
    println!("wrote {} and sweep.html", out.join("sweep.json").display());
    Ok(())
}
