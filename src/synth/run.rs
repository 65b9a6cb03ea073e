//! One synthesis run, step by step: check the request and resolve the tools, run Yosys (again
//! inside a scan wrapper when the ports need it), compare the cells with the device, place and
//! route with nextpnr, and write synth.json last.

use super::parse::{self, NextpnrReport};
use super::{
    check_identifier, check_script_word, io_wrap, list_sources, modules, nextpnr_args,
    read_manifest, relative_path, resource_label, summarize, timeout_error, tools, yosys_script,
    ClockFmax, Demand, Device, IoWrap, IoWrapper, Outcome, Runtime, Shortfall, SynthRequest,
    SynthResult, Target, ToolVersions, Toolset, YosysOut,
};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A checked request: the top module, the sources, the device, the tools and the directories.
struct Setup {
    top: String,
    sources: Vec<String>,
    target: Target,
    device: Device,
    freq: f64,
    tools: Toolset,
    yosys_version: String,
    nextpnr_version: String,
    hdl_dir: PathBuf,
    out_dir: PathBuf,
    /// The output directory relative to the HDL directory (where Yosys runs).
    rel_out: PathBuf,
    synth_json: PathBuf,
}

/// Like [`super::run`], but a design that does not fit is an [`Outcome`], not an error (for
/// sweeps).
pub fn try_run(req: &SynthRequest) -> Result<Outcome> {
    let s = setup(req)?;
    let (synthesized, yosys_s, io_wrapper) = synthesize(&s, req)?;
    let yosys_cells = synthesized.cells;
    let modules = synthesized.modules;
    let io_bits: u64 = synthesized.ports.iter().map(|p| p.width).sum();
    let demand = Demand::from_cells(s.device.family, &yosys_cells, io_bits);
    let shortfalls = demand.shortfalls(&s.device);
    if !shortfalls.is_empty() {
        return Ok(Outcome::DoesNotFit {
            target: s.target,
            top: s.top,
            shortfalls,
            found_by: found_by("yosys (cell counts against the data sheet)", &io_wrapper),
        });
    }
    let (pnr, nextpnr_s) = match place_and_route(&s, req)? {
        Placed::Report(r, seconds) => (r, seconds),
        Placed::DoesNotFit(shortfalls) => {
            return Ok(Outcome::DoesNotFit {
                target: s.target,
                top: s.top,
                shortfalls,
                found_by: found_by("nextpnr (packing)", &io_wrapper),
            })
        }
    };
    let resources = summarize(&s.device, &yosys_cells, &pnr.utilization, io_bits);
    let fmax = pnr
        .fmax
        .iter()
        .map(|(net, f)| ClockFmax {
            clock: parse::clock_display_name(net),
            net: net.clone(),
            achieved_mhz: f.achieved,
            constraint_mhz: f.constraint,
            met: f.achieved >= f.constraint,
        })
        .collect();
    let files = output_files(io_wrapper.is_some(), !modules.is_empty());
    let result = SynthResult {
        top: s.top,
        target: s.target,
        part: s.device.part.to_string(),
        package: s.device.package.to_string(),
        backend: s.tools.backend,
        tools: ToolVersions {
            yosys: s.yosys_version,
            nextpnr: s.nextpnr_version,
            yosys_path: s.tools.yosys.display().to_string(),
            nextpnr_path: s.tools.nextpnr.display().to_string(),
        },
        sources: s.sources,
        resources,
        fmax,
        freq_target_mhz: s.freq,
        io_wrapper,
        seed: req.seed,
        yosys_cells,
        utilisation: pnr.utilization,
        modules,
        runtime: Some(Runtime { yosys_s, nextpnr_s }),
        files,
    };
    let mut json = serde_json::to_vec_pretty(&result)
        .map_err(|e| Error::tool(format!("cannot serialize synth.json: {e}")))?;
    json.push(b'\n');
    crate::util::write_atomic(&s.synth_json, &json)?;
    Ok(Outcome::Fits(Box::new(result)))
}

/// Check the request (directory, top module, sources, clock), resolve the tools, create the
/// output directory and drop a synth.json of an earlier run.
fn setup(req: &SynthRequest) -> Result<Setup> {
    let hdl_dir = &req.hdl_dir;
    if !hdl_dir.is_dir() {
        return Err(Error::bad_input(format!(
            "{}: not a directory of Verilog files (pass the folder that `lifb-hdl generate` wrote)",
            hdl_dir.display()
        )));
    }
    let manifest = read_manifest(hdl_dir)?;
    let top = match (&req.top, &manifest.top) {
        (Some(t), _) | (None, Some(t)) => t.clone(),
        (None, None) => {
            return Err(Error::bad_input(format!(
                "{}: no top module given: pass --top NAME, or write {} with {{\"top\": \"NAME\"}}",
                hdl_dir.display(),
                hdl_dir.join("manifest.json").display()
            )))
        }
    };
    check_identifier(&top)?;
    let sources = list_sources(hdl_dir, manifest.sources.as_deref())?;
    let target = req.target;
    let device = target.device();
    if sources.iter().any(|n| n == "lifb_spram.v") && target != Target::Ice40Up5k {
        return Err(Error::bad_input(format!(
            "{}: the design keeps weights in iCE40 UltraPlus single-port RAM (lifb_spram.v, generated with --spram), which {} has not; synthesize it for ice40-up5k, or generate it again without --spram",
            hdl_dir.display(),
            target.name()
        )));
    }
    let freq = req.freq_mhz.unwrap_or_else(|| target.default_freq_mhz());
    if !(freq.is_finite() && freq > 0.0 && freq < 10_000.0) {
        return Err(Error::bad_input(format!(
            "clock target {freq} MHz: give a frequency between 0 and 10000 MHz"
        )));
    }
    let tools = tools::resolve(req.backend, device.family, req.venv.as_deref())?;

    std::fs::create_dir_all(&req.out_dir).map_err(|e| Error::io(&req.out_dir, e))?;
    let out_dir = req
        .out_dir
        .canonicalize()
        .map_err(|e| Error::io(&req.out_dir, e))?;
    let hdl_dir = hdl_dir.canonicalize().map_err(|e| Error::io(hdl_dir, e))?;
    let synth_json = out_dir.join("synth.json");
    // A synth.json always belongs to a finished run: drop the previous one before starting.
    match std::fs::remove_file(&synth_json) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&synth_json, e)),
    }

    let yosys_version = tools::version(&tools.yosys, "-V")?;
    let nextpnr_version = tools::version(&tools.nextpnr, "--version")?;

    // Yosys runs inside the HDL directory so that `$readmemh("x.hex")` finds its files, as in simulation.
    // Every path handed to a tool is relative to its working directory: YoWASP's WebAssembly sandbox maps
    // the working directory and its parents faithfully, but mounts its own /tmp over the real one.
    let rel_out = relative_path(&hdl_dir, &out_dir);
    check_script_word(&rel_out.display().to_string())?;
    Ok(Setup {
        top,
        sources,
        target,
        device,
        freq,
        tools,
        yosys_version,
        nextpnr_version,
        hdl_dir,
        out_dir,
        rel_out,
        synth_json,
    })
}

/// Yosys on the design and, when its ports need more pins than the package has (or the request
/// says so), again inside a scan wrapper. Returns the last run's cells and ports, the seconds of
/// all runs, and the wrapper.
fn synthesize(s: &Setup, req: &SynthRequest) -> Result<(YosysOut, f64, Option<IoWrapper>)> {
    let (synthesized, yosys_s) = run_yosys(s, req, &s.sources, &s.top, req.per_module)?;
    let core_bits: u64 = synthesized.ports.iter().map(|p| p.width).sum();
    let wrap = match req.io_wrap {
        IoWrap::Never => false,
        IoWrap::Always => true,
        IoWrap::Auto => core_bits > s.device.io_pins,
    };
    if !wrap {
        return Ok((synthesized, yosys_s, None));
    }
    let (text, info) = io_wrap::wrapper(&s.top, &synthesized.ports, s.device.io_pins)?;
    crate::util::write_atomic(&s.out_dir.join(io_wrap::WRAPPER_FILE), text.as_bytes())?;
    let mut wrapped_sources = s.sources.clone();
    wrapped_sources.push(s.rel_out.join(io_wrap::WRAPPER_FILE).display().to_string());
    let (mut wrapped, seconds) = run_yosys(s, req, &wrapped_sources, io_wrap::WRAPPER_TOP, false)?;
    // The rows per module are the design's own: the wrapper is not one of its modules.
    wrapped.modules = synthesized.modules;
    Ok((wrapped, yosys_s + seconds, Some(info)))
}

/// The per-module statistics of the design (without a scan wrapper) in the output directory.
const MODULE_STAT_FILE: &str = "yosys-stat-modules.json";

/// One Yosys run of `sources` with top module `top`: its cells and ports (and, with
/// `per_module`, its resources per module), and its seconds.
fn run_yosys(
    s: &Setup,
    req: &SynthRequest,
    sources: &[String],
    top: &str,
    per_module: bool,
) -> Result<(YosysOut, f64)> {
    let netlist = s.out_dir.join("netlist.json");
    let stat = s.out_dir.join("yosys-stat.json");
    let yosys_log = s.out_dir.join("yosys.log");
    let module_stat = s.out_dir.join(MODULE_STAT_FILE);
    let script = yosys_script(
        sources,
        top,
        s.target,
        &s.rel_out.join("netlist.json"),
        &s.rel_out.join("yosys-stat.json"),
        per_module
            .then(|| s.rel_out.join(MODULE_STAT_FILE))
            .as_deref(),
    );
    // The log goes through Yosys's own -l: YoWASP's console output stops after the first ABC call.
    let yosys_args: Vec<String> = vec![
        "-q".into(),
        "-l".into(),
        s.rel_out.join("yosys.log").display().to_string(),
        "-p".into(),
        script,
    ];
    let _ = std::fs::remove_file(&stat);
    let _ = std::fs::remove_file(&module_stat);
    let run = tools::run_logged(
        &s.tools.yosys,
        &yosys_args,
        &s.hdl_dir,
        &s.out_dir.join("yosys-console.log"),
        req.timeout,
    )?;
    if run.timed_out {
        return Err(timeout_error("yosys", top, run.seconds, &yosys_log));
    }
    if !run.success {
        return Err(Error::tool(format!(
            "yosys failed on '{top}' in {} ({}):\n{}\nFull log: {}",
            s.hdl_dir.display(),
            run.exit,
            tools::failure_excerpt(&[&yosys_log, &s.out_dir.join("yosys-console.log")]),
            yosys_log.display()
        )));
    }
    let cells = parse::yosys_cells(&parse::read_json_file(&stat)?, top, &stat)?;
    let ports = parse::netlist_ports(&parse::read_json_file(&netlist)?, top, &netlist)?;
    let modules = if per_module {
        modules::from_stat(
            &parse::read_json_file(&module_stat)?,
            top,
            s.device.family,
            &module_stat,
        )?
    } else {
        Vec::new()
    };
    Ok((
        YosysOut {
            cells,
            ports,
            modules,
        },
        run.seconds,
    ))
}

/// What nextpnr gave: its report and seconds, or the resources packing found short.
enum Placed {
    Report(NextpnrReport, f64),
    DoesNotFit(Vec<Shortfall>),
}

/// nextpnr on the netlist. A failure whose log shows over-used resources is a design that does
/// not fit; any other failure is a tool error.
fn place_and_route(s: &Setup, req: &SynthRequest) -> Result<Placed> {
    let out_dir = &s.out_dir;
    let report = out_dir.join("nextpnr-report.json");
    let pnr_log = out_dir.join("nextpnr.log");
    let mut pnr_args = nextpnr_args(s.target, s.freq, req.seed);
    pnr_args.extend(["-q".into(), "--log".into(), "nextpnr.log".into()]);
    // A report left from an earlier run must not be read as this run's.
    let _ = std::fs::remove_file(&report);
    let pnr_run = tools::run_logged(
        &s.tools.nextpnr,
        &pnr_args,
        out_dir,
        &out_dir.join("nextpnr-console.log"),
        req.timeout,
    )?;
    if pnr_run.timed_out {
        return Err(timeout_error("nextpnr", &s.top, pnr_run.seconds, &pnr_log));
    }
    if !pnr_run.success {
        let shortfalls = packing_shortfalls(&pnr_log);
        if !shortfalls.is_empty() {
            return Ok(Placed::DoesNotFit(shortfalls));
        }
        return Err(Error::tool(format!(
            "{} failed on '{}' for {} ({}):\n{}\nFull log: {}",
            s.tools.nextpnr.display(),
            s.top,
            s.target,
            pnr_run.exit,
            tools::failure_excerpt(&[&pnr_log, &out_dir.join("nextpnr-console.log")]),
            pnr_log.display()
        )));
    }
    let pnr = parse::nextpnr_report(&parse::read_json_file(&report)?, &report)?;
    Ok(Placed::Report(pnr, pnr_run.seconds))
}

/// The resources a failed nextpnr run's log reports as used beyond what the device has.
fn packing_shortfalls(pnr_log: &Path) -> Vec<Shortfall> {
    let log = std::fs::read_to_string(pnr_log).unwrap_or_default();
    parse::nextpnr_log_utilisation(&log)
        .iter()
        .filter(|(_, u)| u.used > u.available)
        .map(|(name, u)| Shortfall {
            resource: resource_label(name),
            needed: u.used,
            available: u.available,
        })
        .collect()
}

/// Which stage found that the design does not fit; the wrapper's own cost is part of what did
/// not fit, so it is named.
fn found_by(stage: &str, io_wrapper: &Option<IoWrapper>) -> String {
    match io_wrapper {
        Some(w) => format!(
            "{stage}; measured inside a scan wrapper that adds {} flip-flops for the design's {} port bits",
            w.added_flip_flops, w.core_port_bits
        ),
        None => stage.to_string(),
    }
}

/// The files of a finished run, by role (synth.json's `files`).
fn output_files(wrapped: bool, per_module: bool) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = [
        ("netlist", "netlist.json"),
        ("yosys_stat", "yosys-stat.json"),
        ("yosys_log", "yosys.log"),
        ("yosys_console", "yosys-console.log"),
        ("nextpnr_report", "nextpnr-report.json"),
        ("nextpnr_log", "nextpnr.log"),
        ("nextpnr_console", "nextpnr-console.log"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if wrapped {
        files.insert("io_wrapper".into(), io_wrap::WRAPPER_FILE.into());
    }
    if per_module {
        files.insert("yosys_stat_modules".into(), MODULE_STAT_FILE.into());
    }
    files
}
