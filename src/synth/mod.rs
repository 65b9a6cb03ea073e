//! Synthesis with Yosys and place-and-route with nextpnr, for a directory of Verilog files.
//!
//! Input: a directory of `.v`/`.sv` files (plus `.hex` files read by `$readmemh`, resolved relative to that
//! directory), a top module (given, or `top` in `DIR/manifest.json`). Output: the tools' logs, netlist and
//! reports in an output directory, and `synth.json` (a [`SynthResult`]) written last, so a `synth.json` is
//! always from a finished run.
//!
//! ```no_run
//! use lifb_hdl::synth::{self, Backend, SynthRequest, Target};
//! let req = SynthRequest::new("rtl/", Target::Ice40Up5k, Backend::Auto, "out/synth");
//! let result = synth::run(&req)?;
//! println!("{} logic cells, fmax {:?} MHz", result.resources.logic_cells.used, result.min_fmax_mhz());
//! # Ok::<(), lifb_hdl::Error>(())
//! ```

pub mod io_wrap;
pub mod modules;
pub mod parse;
mod run;
pub mod target;
pub mod tools;

pub use io_wrap::IoWrapper;
pub use modules::ModuleUsage;
pub use parse::Usage;
pub use run::try_run;
pub use target::{Device, Family, Target};
pub use tools::{Backend, Toolset};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to synthesize, for which device, with which tools.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRequest {
    pub hdl_dir: PathBuf,
    /// Top module; `None` reads `top` from `hdl_dir/manifest.json`.
    pub top: Option<String>,
    pub target: Target,
    pub backend: Backend,
    pub out_dir: PathBuf,
    /// Clock target for nextpnr in MHz; `None` uses [`Target::default_freq_mhz`].
    pub freq_mhz: Option<f64>,
    /// nextpnr placer seed (fixed so that runs are repeatable).
    pub seed: u64,
    /// YoWASP venv; `None` searches (see [`tools::find_venv`]).
    pub venv: Option<PathBuf>,
    /// When to measure the design inside a scan wrapper (see [`io_wrap`]).
    pub io_wrap: IoWrap,
    /// Stop a tool that runs longer than this (per tool run); `None` waits as long as it takes.
    pub timeout: Option<std::time::Duration>,
    /// Also measure the resources per module (a second, hierarchy-keeping synthesis in the same
    /// Yosys run, see [`modules`]); off by default, as it about doubles the Yosys time.
    pub per_module: bool,
}

/// When to put the design in a scan wrapper (for designs with more port bits than the package has pins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum IoWrap {
    /// Only when the ports do not fit the package's pins.
    Auto,
    Never,
    Always,
}

impl SynthRequest {
    pub fn new(
        hdl_dir: impl Into<PathBuf>,
        target: Target,
        backend: Backend,
        out_dir: impl Into<PathBuf>,
    ) -> Self {
        SynthRequest {
            hdl_dir: hdl_dir.into(),
            top: None,
            target,
            backend,
            out_dir: out_dir.into(),
            freq_mhz: None,
            seed: 1,
            venv: None,
            io_wrap: IoWrap::Auto,
            timeout: None,
            per_module: false,
        }
    }
}

/// Everything one synthesis run measured. Serialized as `synth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthResult {
    pub top: String,
    pub target: Target,
    pub part: String,
    pub package: String,
    pub backend: Backend,
    pub tools: ToolVersions,
    /// Verilog files read, relative to the HDL directory, in the order given to Yosys.
    pub sources: Vec<String>,
    pub resources: Resources,
    pub fmax: Vec<ClockFmax>,
    /// Clock target given to nextpnr (MHz).
    pub freq_target_mhz: f64,
    /// Set when the design was measured inside a scan wrapper; its flip-flops are included in `resources`.
    #[serde(default)]
    pub io_wrapper: Option<IoWrapper>,
    pub seed: u64,
    /// Yosys cell counts by type, after technology mapping (before packing).
    pub yosys_cells: BTreeMap<String, u64>,
    /// nextpnr's utilisation by bel type, after packing.
    pub utilisation: BTreeMap<String, Usage>,
    /// Resources per module of the top level (engines, FIFOs, the top's own logic), from a
    /// synthesis that keeps the hierarchy (see [`modules`]); empty in results of older versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<ModuleUsage>,
    /// Tool run times. The only part of a result that changes between identical runs, so reports drop it
    /// (see [`SynthResult::without_runtime`]) to stay byte-identical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
    /// Files written to the output directory, by role.
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolVersions {
    pub yosys: String,
    pub nextpnr: String,
    pub yosys_path: String,
    pub nextpnr_path: String,
}

/// The resources people compare designs by. Logic cells, block RAM, DSP and I/O come from nextpnr (after
/// packing); LUT4, flip-flop and carry counts from Yosys (a packed iCE40 logic cell holds one LUT4, one
/// flip-flop and one carry; on ECP5 "logic cells" are LUT4 sites, TRELLIS_COMB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub logic_cells: Usage,
    pub lut4: u64,
    pub flip_flops: Usage,
    pub carry: u64,
    pub block_ram: Usage,
    pub dsp: Usage,
    pub io: Usage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockFmax {
    /// Clock as the user wrote it (the port or net name).
    pub clock: String,
    /// nextpnr's net name for it.
    pub net: String,
    pub achieved_mhz: f64,
    pub constraint_mhz: f64,
    pub met: bool,
}

/// Wall-clock seconds per tool.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Runtime {
    pub yosys_s: f64,
    pub nextpnr_s: f64,
}

impl SynthResult {
    /// The slowest clock's fmax: what the design as a whole runs at.
    pub fn min_fmax_mhz(&self) -> Option<f64> {
        self.fmax.iter().map(|c| c.achieved_mhz).reduce(f64::min)
    }

    /// The same result without run times (for reports that must be byte-identical across runs).
    pub fn without_runtime(&self) -> SynthResult {
        SynthResult {
            runtime: None,
            ..self.clone()
        }
    }

    /// A short table for the terminal.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {} ({} {}, {} back end)",
            self.top, self.target, self.part, self.package, self.backend
        );
        let _ = writeln!(s, "  yosys:   {}", self.tools.yosys);
        let _ = writeln!(s, "  nextpnr: {}", self.tools.nextpnr);
        let r = &self.resources;
        let row = |s: &mut String, name: &str, u: Usage| {
            let _ = writeln!(
                s,
                "  {name:<12} {:>7} / {:<7} {:>6.1} %",
                u.used,
                u.available,
                u.percent()
            );
        };
        row(&mut s, "logic cells", r.logic_cells);
        row(&mut s, "flip-flops", r.flip_flops);
        row(&mut s, "block RAM", r.block_ram);
        row(&mut s, "DSP", r.dsp);
        if let Some(&u) = self
            .utilisation
            .get("ICESTORM_SPRAM")
            .filter(|u| u.used > 0)
        {
            row(&mut s, "SPRAM", u);
        }
        row(&mut s, "I/O", r.io);
        if let Some(w) = &self.io_wrapper {
            let _ = writeln!(
                s,
                "  note         {} port bits > {} pins: measured in a scan wrapper (+{} flip-flops, included)",
                w.core_port_bits, w.package_pins, w.added_flip_flops
            );
        }
        let _ = writeln!(s, "  {:<12} {:>7}", "LUT4", r.lut4);
        let _ = writeln!(s, "  {:<12} {:>7}", "carry", r.carry);
        if !self.modules.is_empty() {
            let _ = writeln!(
                s,
                "  per module (hierarchical synthesis):   LUT4     FF   BRAM    DSP"
            );
            for m in &self.modules {
                let name = if m.top_level_logic {
                    format!("{} (own logic)", m.module)
                } else {
                    format!("{} x{}", m.module, m.instances)
                };
                let _ = writeln!(
                    s,
                    "    {name:<34} {:>6} {:>6} {:>6} {:>6}",
                    m.lut4, m.flip_flops, m.block_ram, m.dsp
                );
            }
        }
        for c in &self.fmax {
            let _ = writeln!(
                s,
                "  fmax {:<7} {:>7.2} MHz (target {:.2} MHz: {})",
                c.clock,
                c.achieved_mhz,
                c.constraint_mhz,
                if c.met { "met" } else { "missed" }
            );
        }
        if let Some(t) = self.runtime {
            let _ = writeln!(
                s,
                "  run time     yosys {:.1} s, nextpnr {:.1} s",
                t.yosys_s, t.nextpnr_s
            );
        }
        s
    }
}

/// One resource the design needs more of than the device has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    pub resource: String,
    pub needed: u64,
    pub available: u64,
}

/// A run either gives numbers or says which resources the design needs more of.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Fits(Box<SynthResult>),
    DoesNotFit {
        target: Target,
        top: String,
        shortfalls: Vec<Shortfall>,
        /// Which stage found it: "yosys" (cell counts against the data sheet) or "nextpnr" (packing).
        found_by: String,
    },
}

/// Synthesize and place-and-route; a design that does not fit is an error with the numbers.
pub fn run(req: &SynthRequest) -> Result<SynthResult> {
    match try_run(req)? {
        Outcome::Fits(r) => Ok(*r),
        Outcome::DoesNotFit {
            target,
            top,
            shortfalls,
            found_by,
        } => Err(does_not_fit_error(target, &top, &shortfalls, &found_by)),
    }
}

pub fn does_not_fit_error(
    target: Target,
    top: &str,
    shortfalls: &[Shortfall],
    found_by: &str,
) -> Error {
    let dev = target.device();
    let mut msg = format!(
        "design '{top}' does not fit {target} ({} {}), found by {found_by}:\n",
        dev.part, dev.package
    );
    for s in shortfalls {
        let _ = writeln!(
            msg,
            "  {:<14} needs {:>7}, the device has {:>7} ({:.0} %)",
            s.resource,
            s.needed,
            s.available,
            Usage {
                used: s.needed,
                available: s.available
            }
            .percent()
        );
    }
    let larger = match target {
        Target::Ice40Up5k | Target::Ice40Hx8k => "ecp5-45k",
        Target::Ecp5_25k => "ecp5-45k",
        Target::Ecp5_45k | Target::Ecp5_85k => "ecp5-85k",
    };
    if target == Target::Ecp5_85k {
        msg.push_str("To fix: generate the design with less parallelism");
    } else {
        msg.push_str(&format!(
            "To fix: choose a larger target (e.g. --target {larger}) or generate the design with less parallelism"
        ));
    }
    if shortfalls.iter().any(|s| s.resource.starts_with("I/O")) {
        msg.push_str(", or measure it inside a scan wrapper (--io-wrap auto)");
    }
    msg.push('.');
    Error::bad_input(msg)
}

fn timeout_error(tool: &str, top: &str, seconds: f64, log: &Path) -> Error {
    Error::tool(format!(
        "{tool} did not finish on '{top}' within the time limit and was stopped after {seconds:.0} s.\n\
         To fix: raise --timeout, generate the design with fewer lanes, or try the other back end. \
         The log so far: {}",
        log.display()
    ))
}

/// What one Yosys run produced.
struct YosysOut {
    cells: BTreeMap<String, u64>,
    ports: Vec<io_wrap::Port>,
    modules: Vec<ModuleUsage>,
}

/// Optional parts of `DIR/manifest.json` that synthesis reads.
#[derive(Debug, Default)]
struct Manifest {
    top: Option<String>,
    sources: Option<Vec<String>>,
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    if !path.exists() {
        return Ok(Manifest::default());
    }
    let bytes = crate::util::read_limited(&path, 16 << 20)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_input(format!("{}: not valid JSON: {e}", path.display())))?;
    let top = match v.get("top") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(Error::bad_input(format!(
                "{}: \"top\" must be a string (a module name), found {other}",
                path.display()
            )))
        }
    };
    let sources = match v.get("sources") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| {
                        Error::bad_input(format!(
                            "{}: \"sources\" must list file names, found {i}",
                            path.display()
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(other) => {
            return Err(Error::bad_input(format!(
                "{}: \"sources\" must be a list of file names, found {other}",
                path.display()
            )))
        }
    };
    Ok(Manifest { top, sources })
}

/// The Verilog files to read: the manifest's list, else every `.v`/`.sv` file in the directory except
/// test benches (`tb_*`, `*_tb.v`), sorted by name so the run is repeatable.
fn list_sources(dir: &Path, listed: Option<&[String]>) -> Result<Vec<String>> {
    let names: Vec<String> = match listed {
        Some(list) => {
            for name in list {
                let p = Path::new(name);
                let plain = p.components().count() == 1 && p.file_name().is_some();
                if !plain {
                    return Err(Error::bad_input(format!(
                        "{}: source '{name}' must be a file name inside the directory (no folders, no '..')",
                        dir.join("manifest.json").display()
                    )));
                }
                if !dir.join(name).is_file() {
                    return Err(Error::bad_input(format!(
                        "{}: source '{name}' listed in manifest.json does not exist",
                        dir.display()
                    )));
                }
            }
            list.to_vec()
        }
        None => {
            let mut names = Vec::new();
            for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
                let entry = entry.map_err(|e| Error::io(dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_hdl = name.ends_with(".v") || name.ends_with(".sv");
                let is_bench =
                    name.starts_with("tb_") || name.ends_with("_tb.v") || name.ends_with("_tb.sv");
                if is_hdl && !is_bench && entry.path().is_file() {
                    names.push(name);
                }
            }
            names.sort();
            names
        }
    };
    if names.is_empty() {
        return Err(Error::bad_input(format!(
            "{}: no Verilog files (.v, .sv) to synthesize",
            dir.display()
        )));
    }
    for n in &names {
        check_script_word(n)?;
    }
    Ok(names)
}

fn check_identifier(top: &str) -> Result<()> {
    let ok = !top.is_empty()
        && !top.starts_with(|c: char| c.is_ascii_digit())
        && top
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "top module '{top}' is not a plain Verilog identifier"
        )))
    }
}

/// Yosys splits script commands at whitespace and ';': file names go into the script unquoted.
fn check_script_word(word: &str) -> Result<()> {
    if word.is_empty()
        || word
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ';' | '"' | '\'' | '#'))
    {
        return Err(Error::bad_input(format!(
            "'{word}': file and folder names given to Yosys may not contain spaces, quotes, ';' or '#'; rename it"
        )));
    }
    Ok(())
}

/// `to` relative to `from` (both absolute and canonical), e.g. /a/b/rtl -> /a/out/s gives ../../out/s.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c.as_os_str());
    }
    if rel.as_os_str().is_empty() {
        rel.push(".");
    }
    rel
}

/// The Yosys script: read and elaborate, synthesize flat, write the netlist and its statistics.
/// With `module_stat`, the elaborated design is first also synthesized without flattening and
/// its per-module statistics written there (see [`modules`]).
fn yosys_script(
    sources: &[String],
    top: &str,
    target: Target,
    netlist: &Path,
    stat: &Path,
    module_stat: Option<&Path>,
) -> String {
    let synth = match target.family() {
        // -dsp maps multipliers to the UP5K's SB_MAC16 blocks; the HX8K has none.
        Family::Ice40 if target.device().dsps > 0 => format!("synth_ice40 -dsp -top {top}"),
        Family::Ice40 => format!("synth_ice40 -top {top}"),
        Family::Ecp5 => format!("synth_ecp5 -top {top}"),
    };
    let hierarchical = match module_stat {
        Some(p) => format!(
            "design -save elaborated; {synth} -noflatten; tee -q -o {} stat -json; design -load elaborated; ",
            p.display()
        ),
        None => String::new(),
    };
    // The iCE40 primitives as black boxes first, so that a design may instantiate them (the
    // UltraPlus SPRAM of lifb_spram.v) and still be checked before synthesis.
    let primitives = match target.family() {
        Family::Ice40 => "read_verilog -lib -specify +/ice40/cells_sim.v; ",
        Family::Ecp5 => "",
    };
    format!(
        "{primitives}read_verilog -sv {}; hierarchy -check -top {top}; {hierarchical}{synth}; write_json {}; tee -q -o {} stat -json",
        sources.join(" "),
        netlist.display(),
        stat.display()
    )
}

/// nextpnr runs in the output directory, on the netlist Yosys wrote there.
fn nextpnr_args(target: Target, freq: f64, seed: u64) -> Vec<String> {
    let dev = target.device();
    let mut args: Vec<String> = vec![
        dev.nextpnr_device_flag.into(),
        "--package".into(),
        dev.package.into(),
        "--json".into(),
        "netlist.json".into(),
        "--report".into(),
        "nextpnr-report.json".into(),
        "--seed".into(),
        seed.to_string(),
        "--freq".into(),
        format!("{freq}"),
        // A missed clock target is a measurement, not a failure: fmax is what we report.
        "--timing-allow-fail".into(),
    ];
    if dev.family == Family::Ecp5 {
        // No board: let nextpnr choose the pins.
        args.push("--lpf-allow-unconstrained".into());
    }
    args
}

/// What the mapped netlist needs, by resource, before packing.
struct Demand {
    lut4: u64,
    flip_flops: u64,
    block_ram: u64,
    dsp: u64,
    io: u64,
}

impl Demand {
    fn from_cells(family: Family, cells: &BTreeMap<String, u64>, io: u64) -> Demand {
        let count = |pred: &dyn Fn(&str) -> bool| -> u64 {
            cells.iter().filter(|(k, _)| pred(k)).map(|(_, v)| *v).sum()
        };
        match family {
            Family::Ice40 => Demand {
                lut4: count(&|k| k == "SB_LUT4"),
                flip_flops: count(&|k| k.starts_with("SB_DFF")),
                block_ram: count(&|k| k.starts_with("SB_RAM40_4K")),
                dsp: count(&|k| k == "SB_MAC16"),
                io,
            },
            Family::Ecp5 => Demand {
                // A CCU2C carry cell occupies two LUT4 sites.
                lut4: count(&|k| k == "LUT4") + 2 * count(&|k| k == "CCU2C"),
                flip_flops: count(&|k| k == "TRELLIS_FF"),
                block_ram: count(&|k| k == "DP16KD" || k == "PDPW16KD"),
                dsp: count(&|k| k.starts_with("MULT18X18")),
                io,
            },
        }
    }

    fn shortfalls(&self, dev: &Device) -> Vec<Shortfall> {
        let lc_name = match dev.family {
            Family::Ice40 => "logic cells (LUT4)",
            Family::Ecp5 => "LUT4",
        };
        [
            (lc_name, self.lut4, dev.logic_cells),
            ("flip-flops", self.flip_flops, dev.flip_flops),
            ("block RAM", self.block_ram, dev.block_rams),
            ("DSP", self.dsp, dev.dsps),
            ("I/O pins", self.io, dev.io_pins),
        ]
        .into_iter()
        .filter(|(_, needed, available)| needed > available)
        .map(|(name, needed, available)| Shortfall {
            resource: name.to_string(),
            needed,
            available,
        })
        .collect()
    }
}

/// nextpnr bel type -> the name people use.
fn resource_label(bel: &str) -> String {
    let label = match bel {
        "ICESTORM_LC" => "logic cells",
        "ICESTORM_RAM" | "DP16KD" => "block RAM",
        "ICESTORM_SPRAM" => "single-port RAM",
        "ICESTORM_DSP" | "MULT18X18D" => "DSP",
        "SB_IO" | "TRELLIS_IO" => "I/O pins",
        "TRELLIS_COMB" | "TRELLIS_SLICE" => "logic cells",
        "TRELLIS_FF" => "flip-flops",
        _ => return bel.to_string(),
    };
    format!("{label} ({bel})")
}

fn summarize(
    dev: &Device,
    cells: &BTreeMap<String, u64>,
    util: &BTreeMap<String, Usage>,
    io_bits: u64,
) -> Resources {
    let demand = Demand::from_cells(dev.family, cells, io_bits);
    let get = |bel: &str| util.get(bel).copied();
    let sum_cells = |pred: &dyn Fn(&str) -> bool| -> u64 {
        cells.iter().filter(|(k, _)| pred(k)).map(|(_, v)| *v).sum()
    };
    // nextpnr counts every I/O pad of the die; the package bonds fewer, so the package's count is the limit.
    let io = Usage {
        used: get("SB_IO")
            .or(get("TRELLIS_IO"))
            .map_or(io_bits, |u| u.used),
        available: dev.io_pins,
    };
    let or_demand =
        |u: Option<Usage>, used: u64, available: u64| u.unwrap_or(Usage { used, available });
    match dev.family {
        Family::Ice40 => Resources {
            logic_cells: or_demand(get("ICESTORM_LC"), demand.lut4, dev.logic_cells),
            lut4: demand.lut4,
            flip_flops: Usage {
                used: demand.flip_flops,
                available: get("ICESTORM_LC").map_or(dev.flip_flops, |u| u.available),
            },
            carry: sum_cells(&|k| k == "SB_CARRY"),
            block_ram: or_demand(get("ICESTORM_RAM"), demand.block_ram, dev.block_rams),
            dsp: or_demand(get("ICESTORM_DSP"), demand.dsp, dev.dsps),
            io,
        },
        Family::Ecp5 => Resources {
            logic_cells: or_demand(
                get("TRELLIS_COMB").or_else(|| {
                    // Older nextpnr-ecp5 counts slices of two LUT4s.
                    get("TRELLIS_SLICE").map(|u| Usage {
                        used: 2 * u.used,
                        available: 2 * u.available,
                    })
                }),
                demand.lut4,
                dev.logic_cells,
            ),
            lut4: sum_cells(&|k| k == "LUT4"),
            flip_flops: or_demand(get("TRELLIS_FF"), demand.flip_flops, dev.flip_flops),
            carry: sum_cells(&|k| k == "CCU2C"),
            block_ram: or_demand(get("DP16KD"), demand.block_ram, dev.block_rams),
            dsp: or_demand(get("MULT18X18D"), demand.dsp, dev.dsps),
            io,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_round_trip() {
        for t in Target::ALL {
            assert_eq!(t.name().parse::<Target>().unwrap(), t);
            let j = serde_json::to_string(&t).unwrap();
            assert_eq!(j, format!("\"{}\"", t.name()));
        }
        assert!("ecp5-12k".parse::<Target>().is_err());
    }

    #[test]
    fn shortfalls_name_the_numbers() {
        let mut cells = BTreeMap::new();
        cells.insert("SB_RAM40_4K".to_string(), 64);
        cells.insert("SB_LUT4".to_string(), 100);
        let d = Demand::from_cells(Family::Ice40, &cells, 10);
        let s = d.shortfalls(&Target::Ice40Up5k.device());
        assert_eq!(
            s,
            vec![Shortfall {
                resource: "block RAM".into(),
                needed: 64,
                available: 30
            }]
        );
        let msg = does_not_fit_error(Target::Ice40Up5k, "big", &s, "yosys").to_string();
        assert!(
            msg.contains("64") && msg.contains("30") && msg.contains("ice40-up5k"),
            "{msg}"
        );
    }

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| {
            relative_path(Path::new(a), Path::new(b))
                .display()
                .to_string()
        };
        assert_eq!(r("/a/b/rtl", "/a/out/s"), "../../out/s");
        assert_eq!(r("/a/rtl", "/a/rtl/out"), "out");
        assert_eq!(r("/a/rtl", "/a/rtl"), ".");
        assert_eq!(r("/tmp/x", "/work/y"), "../../work/y");
    }

    #[test]
    fn script_words_are_checked() {
        assert!(check_script_word("a.v").is_ok());
        assert!(check_script_word("a b.v").is_err());
        assert!(check_script_word("a;b.v").is_err());
        assert!(check_identifier("lif_top").is_ok());
        assert!(check_identifier("lif top").is_err());
        assert!(check_identifier("9x").is_err());
    }
}
