//! Spike-exact co-simulation: the generated RTL in Verilator against the golden simulator.
//! The C++ harness (templates/harness.cpp) streams each sample's encoded input events, records
//! every neuron layer's output events at every step through the trace taps, and prints them as
//! text lines; this module builds it (cached by content hash), runs it and compares.
//!
//! Harness output lines: `S sample`, `E tap step index count v_hex`, `O step index value_hex`,
//! `B tap step busy_cycles`, `D cycles class`, `X cycles` (timeout), `T total_cycles`.

use crate::codegen::{self, Design, EngineKind, Plan};
use crate::error::{Error, Result};
use crate::golden::{encode, IntSim, SampleTrace, TraceOptions};
use crate::ir::IntNetwork;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct CosimOptions {
    pub steps: u32,
    pub codegen: codegen::Options,
    /// Where Verilator builds are cached (one directory per content hash).
    pub cache_dir: PathBuf,
    /// Randomly hold out_ready low (exercises back-pressure; changes cycle counts).
    pub stall: bool,
}

/// Per engine: busy cycles and the lower bound, summed over samples and steps.
#[derive(Debug, Clone, Default)]
pub struct EngineCycles {
    pub module: String,
    pub busy: u64,
    pub lower_bound: u64,
    pub steps: u64,
}

#[derive(Debug, Clone, Default)]
pub struct CosimReport {
    pub samples: usize,
    pub steps: u32,
    /// Cycles from start to done, per sample.
    pub cycles: Vec<u64>,
    /// Per sample: LB_max = max over engines e of W_e, where W_e = max(sum over steps of
    /// (input events * passes), steps * fire words): the cycles engine e needs to read its weight
    /// words, or to fire every word once per step (one word per cycle each).
    pub lower_bounds: Vec<u64>,
    /// Per sample: LB_chain = max over e of (W_e plus the step-0 weight reads of every engine
    /// before e). Engine e sees no event before engine e-1 has accumulated all of its step-0
    /// inputs, so this also bounds the inference (a tighter bound than LB_max).
    pub chain_bounds: Vec<u64>,
    pub engines: Vec<EngineCycles>,
    /// The first divergence (sample, step, layer, neuron, expected, actual, membrane), if any.
    pub divergence: Option<String>,
    pub build_seconds: f64,
    pub build_cached: bool,
    pub sim_seconds: f64,
}

impl CosimReport {
    pub fn total_cycles(&self) -> u64 {
        self.cycles.iter().sum()
    }
    /// Mean cycles per finished sample (a sample that timed out has no count).
    pub fn cycles_per_sample(&self) -> u64 {
        self.total_cycles() / self.cycles.len().max(1) as u64
    }
    /// Measured cycles / LB_chain.
    pub fn ratio(&self) -> f64 {
        let lb: u64 = self.chain_bounds.iter().sum();
        self.total_cycles() as f64 / lb.max(1) as f64
    }
    /// Measured cycles / LB_max.
    pub fn ratio_max(&self) -> f64 {
        let lb: u64 = self.lower_bounds.iter().sum();
        self.total_cycles() as f64 / lb.max(1) as f64
    }
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let n = self.cycles.len().max(1) as f64;
        let lb: u64 = self.lower_bounds.iter().sum();
        let lbc: u64 = self.chain_bounds.iter().sum();
        let _ = writeln!(
            s,
            "samples {}, steps {}: {:.1} cycles per inference; lower bounds LB_chain {:.1} (ratio {:.3}), LB_max {:.1} (ratio {:.3})",
            self.samples,
            self.steps,
            self.total_cycles() as f64 / n,
            lbc as f64 / n,
            self.ratio(),
            lb as f64 / n,
            self.ratio_max()
        );
        for e in &self.engines {
            let st = e.steps.max(1) as f64;
            let _ = writeln!(
                s,
                "  {}: {:.1} busy cycles per step, lower bound {:.1} per step, ratio {:.3}",
                e.module,
                e.busy as f64 / st,
                e.lower_bound as f64 / st,
                e.busy as f64 / e.lower_bound.max(1) as f64
            );
        }
        let _ = writeln!(
            s,
            "  build {:.1} s{}, simulation {:.3} s: {:.1} inferences/s, {:.0} simulated cycles/s",
            self.build_seconds,
            if self.build_cached { " (cached)" } else { "" },
            self.sim_seconds,
            self.samples as f64 / self.sim_seconds.max(1e-9),
            self.total_cycles() as f64 / self.sim_seconds.max(1e-9)
        );
        s
    }
}

/// The default build cache: target/lifb-cosim (next to cargo's own build products).
pub fn default_cache_dir() -> PathBuf {
    std::env::var_os("LIFB_COSIM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target").join("lifb-cosim"))
}

/// Create the build cache (and any missing parent) private to the user (mode 0700), check that
/// nobody else can write it (see [`build`]) and return its canonical path.
pub fn prepare_cache_dir(dir: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))?;
    let canon = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    check_private(&canon, current_uid(&canon)?)?;
    Ok(canon)
}

/// The user id this process creates files as: the owner of a fresh probe directory in `dir`.
fn current_uid(dir: &Path) -> Result<u32> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let probe = dir.join(format!(
        ".uid-{}-{}",
        std::process::id(),
        RUN_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&probe)
        .map_err(|e| Error::io(&probe, e))?;
    let uid = std::fs::symlink_metadata(&probe).map(|m| m.uid());
    let _ = std::fs::remove_dir(&probe);
    uid.map_err(|e| Error::io(&probe, e))
}

/// Why a path cannot be trusted to hold executables: not owned by `uid`, a symbolic link, or
/// writable by the group or by others. None when it is private.
fn untrusted(path: &Path, uid: u32, want_dir: bool) -> std::io::Result<Option<String>> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path)?;
    let kind_ok = if want_dir { m.is_dir() } else { m.is_file() };
    Ok(if !kind_ok {
        Some(format!(
            "it is not a {}",
            if want_dir { "folder" } else { "regular file" }
        ))
    } else if m.uid() != uid {
        Some(format!(
            "it belongs to user id {}, not to you ({uid})",
            m.uid()
        ))
    } else if m.mode() & 0o022 != 0 {
        Some(format!(
            "others can write it (mode {:04o})",
            m.mode() & 0o7777
        ))
    } else {
        None
    })
}

/// The cache folder must be the user's own and writable by nobody else: the co-simulation runs
/// the executables it finds there.
fn check_private(dir: &Path, uid: u32) -> Result<()> {
    match untrusted(dir, uid, true).map_err(|e| Error::io(dir, e))? {
        None => Ok(()),
        Some(why) => Err(Error::bad_input(format!(
            "co-simulation cache {}: {why}; the co-simulation runs the simulators built there, so \
             it must be your own folder that nobody else can write. Use another --cache (or \
             LIFB_COSIM_CACHE), or make it private with chmod 700",
            dir.display()
        ))),
    }
}

/// The file written last into a finished build: it holds the full content hash.
const COMPLETE_MARKER: &str = "complete";

/// Whether the cache entry `dir` is a finished build of `key` that only this user can change:
/// Ok(None) when it may be run, Ok(Some(why)) when it must be rebuilt.
fn entry_problem(dir: &Path, exe: &Path, key: &str, uid: u32) -> Option<String> {
    let obj = dir.join("obj");
    for (p, want_dir) in [(dir, true), (obj.as_path(), true), (exe, false)] {
        match untrusted(p, uid, want_dir) {
            Ok(None) => {}
            Ok(Some(why)) => return Some(format!("{}: {why}", p.display())),
            Err(e) => return Some(format!("{}: {e}", p.display())),
        }
    }
    let marker = dir.join(COMPLETE_MARKER);
    match untrusted(&marker, uid, false) {
        Ok(None) => {}
        Ok(Some(why)) => return Some(format!("{}: {why}", marker.display())),
        Err(e) => return Some(format!("{}: {e}", marker.display())),
    }
    match crate::util::read_limited(&marker, 1024) {
        Ok(b) if b == key.as_bytes() => None,
        Ok(_) => Some(format!("{}: not this build's key", marker.display())),
        Err(e) => Some(e.to_string()),
    }
}

fn verilator_version() -> Result<String> {
    let out = Command::new("verilator")
        .arg("--version")
        .output()
        .map_err(|e| {
            Error::tool(format!(
                "cannot run verilator ({e}); install it (apt-get install verilator, or scripts/setup.sh)"
            ))
        })?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Run one build step (Verilator or make) in `cwd` with an argument list; no shell sees a path.
fn run_step(program: &str, args: &[&str], cwd: &Path) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::tool(format!(
                "cannot run {program} ({e}); install it (apt-get install verilator make g++, or scripts/setup.sh)"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::tool(format!(
            "{program} failed in {} ({}):\n{}{}",
            cwd.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

/// Build (or reuse) the Verilator simulator for a design; returns the executable.
///
/// No path of the user's reaches a shell: Verilator runs without `--build` inside the build
/// folder's `obj` directory with relative paths only (`-Mdir .`, `../src/...`), and the generated
/// makefile is run here with `make -f V<top>.mk` (GNU make and its recipes see only those relative
/// names; `CURDIR=.` lets the build run in a folder whose name has spaces, which Verilator's
/// makefile would otherwise refuse).
///
/// The cache runs what it finds, so it trusts only what this user alone can write: the cache
/// folder must be the user's and not writable by group or others (else exit 2), and an entry is
/// used only if its folders and executable are the user's, not group/world-writable, and its
/// `complete` marker (written last, before the entry is moved into place) holds the full key;
/// any other entry is rebuilt.
pub fn build(design: &Design, cache_dir: &Path) -> Result<(PathBuf, bool, f64)> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let uid = current_uid(cache_dir)?;
    check_private(cache_dir, uid)?;
    let harness = codegen::harness_cpp(&design.plan)?;
    let version = verilator_version()?;
    let mut parts: Vec<&[u8]> = vec![version.as_bytes(), harness.as_bytes()];
    for (n, b) in codegen::verilog_files(design) {
        parts.push(n.as_bytes());
        parts.push(b);
    }
    let key = crate::util::sha256_hex(&parts);
    let dir = cache_dir.join(&key[..24]);
    let top_exe = format!("V{}", codegen::TOP);
    let exe = dir.join("obj").join(&top_exe);
    match entry_problem(&dir, &exe, &key, uid) {
        None => return Ok((exe, true, 0.0)),
        Some(_) if std::fs::symlink_metadata(&dir).is_err() => {} // not built yet
        Some(_) => {
            // unfinished, stale or not trustworthy: rebuild it
            let removed = match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&dir),
                _ => std::fs::remove_file(&dir),
            };
            removed.map_err(|e| Error::io(&dir, e))?;
        }
    }
    let t0 = Instant::now();
    let tmp = cache_dir.join(format!(
        ".build-{}-{}-{}",
        &key[..12],
        std::process::id(),
        RUN_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let src = tmp.join("src");
    let obj = tmp.join("obj");
    for d in [&tmp, &src, &obj] {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(d)
            .map_err(|e| Error::io(d, e))?;
    }
    let result = (|| -> Result<()> {
        let mut names: Vec<String> = Vec::new();
        for (n, b) in codegen::verilog_files(design) {
            check_plain_name(n)?;
            let p = src.join(n);
            std::fs::write(&p, b).map_err(|e| Error::io(&p, e))?;
            names.push(format!("../src/{n}"));
        }
        let hp = src.join("harness.cpp");
        std::fs::write(&hp, &harness).map_err(|e| Error::io(&hp, e))?;
        names.push("../src/harness.cpp".into());
        let mut args: Vec<&str> = vec![
            "--cc",
            "--exe",
            "-Wno-fatal",
            "-Wno-lint",
            "--x-assign",
            "fast",
            "--x-initial",
            "fast",
            "--top-module",
            codegen::TOP,
            "-Mdir",
            ".",
            "-CFLAGS",
            "-O1",
        ];
        args.extend(names.iter().map(String::as_str));
        run_step("verilator", &args, &obj)?;
        // The property the build relies on: the makefiles name no path of the user's.
        let here = tmp.display().to_string();
        for mk in [format!("{top_exe}.mk"), format!("{top_exe}_classes.mk")] {
            let p = obj.join(&mk);
            let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
            if text.contains(&here) {
                return Err(Error::tool(format!(
                    "{}: Verilator wrote the build folder's absolute path into the makefile; refusing to run make on it",
                    p.display()
                )));
            }
        }
        let mk = format!("{top_exe}.mk");
        run_step(
            "make",
            &[
                "-f",
                &mk,
                "-j",
                "2",
                "CURDIR=.",
                "OPT_FAST=-O1",
                "OPT_SLOW=-O0",
                &top_exe,
            ],
            &obj,
        )?;
        let built = obj.join(&top_exe);
        std::fs::set_permissions(&built, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(&built, e))?;
        // Written last: the entry is complete.
        let marker = tmp.join(COMPLETE_MARKER);
        std::fs::write(&marker, key.as_bytes()).map_err(|e| Error::io(&marker, e))?;
        std::fs::set_permissions(&marker, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(&marker, e))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        // another process finished the same build first
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if let Some(why) = entry_problem(&dir, &exe, &key, uid) {
        return Err(Error::tool(format!(
            "the Verilator build in {} is not usable: {why}",
            dir.display()
        )));
    }
    Ok((exe, false, t0.elapsed().as_secs_f64()))
}

/// Generated file names are plain names (no folder, no option-like or shell-special characters).
fn check_plain_name(n: &str) -> Result<()> {
    let ok = !n.is_empty()
        && !n.starts_with(['-', '.'])
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::tool(format!(
            "generated file name '{n}' is not a plain file name (a bug: please report)"
        )))
    }
}

/// Encoded input beats for one sample: (index, value, eos).
fn input_beats(
    net: &IntNetwork,
    input: &[u32],
    sample: u64,
    steps: u32,
) -> Vec<(usize, u32, bool)> {
    let fx = net.fixed.as_ref().expect("integer network");
    let enc = net.input.encoding;
    let groups = if encode::is_constant(enc) { 1 } else { steps };
    let mut beats = Vec::new();
    let mut u = Vec::new();
    for t in 0..groups {
        encode::encode_int(enc, input, fx.input_max(), sample, t, &mut u);
        beats.extend(
            u.iter()
                .enumerate()
                .filter(|(_, &v)| v != 0)
                .map(|(i, &v)| (i, v, false)),
        );
        beats.push((0, 0, true));
    }
    beats
}

/// Worst-case cycles of one sample (every input active, every neuron firing), doubled: the
/// harness gives up after this many cycles, so a hung design is a failure, not a hang.
fn cycle_limit(p: &Plan, steps: u32) -> u64 {
    let mut c = 1000 + p.input_len as u64 * steps as u64;
    for e in &p.engines {
        c += steps as u64
            * (e.n_in as u64 * e.passes as u64 + e.words as u64 + (e.n * e.e) as u64 + 16);
    }
    4 * c
}

/// Co-simulate a network on inputs: generate, build (cached), run, compare.
pub fn cosim(net: &IntNetwork, inputs: &[Vec<u32>], opts: &CosimOptions) -> Result<CosimReport> {
    let hw_net = codegen::plan::apply_form(net, opts.codegen.form)?;
    let design = codegen::generate(net, &opts.codegen)?;
    cosim_design(&hw_net, &design, inputs, opts)
}

/// Co-simulate a given design (possibly modified, e.g. with a planted fault) against the golden
/// model of `net` (the network the design was generated from, in its form).
pub fn cosim_design(
    net: &IntNetwork,
    design: &Design,
    inputs: &[Vec<u32>],
    opts: &CosimOptions,
) -> Result<CosimReport> {
    if opts.steps == 0 || opts.steps > u16::MAX as u32 {
        return Err(Error::bad_input(format!(
            "--steps must be 1..=65535, got {}",
            opts.steps
        )));
    }
    let steps = opts.steps;
    let sim = IntSim::new(net)?;
    let topts = TraceOptions {
        counts: true,
        membranes: true,
    };
    let mut golden = Vec::with_capacity(inputs.len());
    for (s, x) in inputs.iter().enumerate() {
        golden.push(sim.run(x, s as u64, steps, topts)?);
    }
    let cache_dir = prepare_cache_dir(&opts.cache_dir)?;
    let (exe, cached, build_seconds) = build(design, &cache_dir)?;
    let plan = &design.plan;
    // A private run directory with the ROM files ($readmemh paths are relative to it).
    let run_dir = cache_dir.join(format!(
        ".run-{}-{}",
        std::process::id(),
        RUN_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&run_dir);
    for (n, b) in &design.files {
        if n.ends_with(".hex") {
            let p = run_dir.join(n);
            crate::util::write_atomic(&p, b)?;
        }
    }
    let mut text = format!(
        "{} {} {} {}\n",
        inputs.len(),
        steps,
        cycle_limit(plan, steps),
        opts.stall as u32
    );
    for (s, x) in inputs.iter().enumerate() {
        let beats = input_beats(net, x, s as u64, steps);
        let _ = writeln!(text, "{}", beats.len());
        for (i, v, e) in beats {
            let _ = writeln!(text, "{i} {v} {}", e as u32);
        }
    }
    let in_path = run_dir.join("inputs.txt");
    let out_path = run_dir.join("outputs.txt");
    crate::util::write_atomic(&in_path, text.as_bytes())?;
    let t0 = Instant::now();
    let out = Command::new(&exe)
        .arg("inputs.txt")
        .arg("outputs.txt")
        .current_dir(&run_dir)
        .output()
        .map_err(|e| Error::tool(format!("running {}: {e}", exe.display())))?;
    let sim_seconds = t0.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(Error::tool(format!(
            "the simulator failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let result = std::fs::read_to_string(&out_path).map_err(|e| Error::io(&out_path, e))?;
    let _ = std::fs::remove_dir_all(&run_dir);
    let mut report = compare(net, plan, &golden, inputs, &result, steps)?;
    report.build_seconds = build_seconds;
    report.build_cached = cached;
    report.sim_seconds = sim_seconds;
    Ok(report)
}

static RUN_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[derive(Default)]
struct HwSample {
    /// per tap: (step, index, count, v)
    events: Vec<Vec<(u32, usize, u32, u64)>>,
    busy: Vec<Vec<u64>>,
    outputs: Vec<(u32, usize, u64)>,
    done: Option<(u64, usize)>,
    timeout: Option<u64>,
}

fn parse(result: &str, taps: usize) -> Result<Vec<HwSample>> {
    let bad = |l: &str| Error::tool(format!("unexpected simulator output line '{l}'"));
    let mut samples: Vec<HwSample> = Vec::new();
    for line in result.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> Result<u64> {
            f.get(i)
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| bad(line))
        };
        let hex = |i: usize| -> Result<u64> {
            f.get(i)
                .and_then(|x| u64::from_str_radix(x, 16).ok())
                .ok_or_else(|| bad(line))
        };
        match f.first().copied() {
            Some("S") => samples.push(HwSample {
                events: vec![Vec::new(); taps],
                busy: vec![Vec::new(); taps],
                ..Default::default()
            }),
            Some("T") => {}
            Some(tag) => {
                let s = samples.last_mut().ok_or_else(|| bad(line))?;
                match tag {
                    "E" => {
                        let k = num(1)? as usize;
                        let ev = (num(2)? as u32, num(3)? as usize, num(4)? as u32, hex(5)?);
                        s.events.get_mut(k).ok_or_else(|| bad(line))?.push(ev);
                    }
                    "B" => {
                        let (k, t, b) = (num(1)? as usize, num(2)? as usize, num(3)?);
                        let v = s.busy.get_mut(k).ok_or_else(|| bad(line))?;
                        if v.len() <= t {
                            v.resize(t + 1, 0);
                        }
                        v[t] = b;
                    }
                    "O" => s.outputs.push((num(1)? as u32, num(2)? as usize, hex(3)?)),
                    "D" => s.done = Some((num(1)?, num(2)? as usize)),
                    "X" => s.timeout = Some(num(1)?),
                    _ => return Err(bad(line)),
                }
            }
            None => {}
        }
    }
    Ok(samples)
}

fn sign_extend(v: u64, bits: usize) -> i64 {
    if bits >= 64 {
        v as i64
    } else {
        let sh = 64 - bits;
        ((v << sh) as i64) >> sh
    }
}

fn compare(
    net: &IntNetwork,
    plan: &Plan,
    golden: &[SampleTrace],
    inputs: &[Vec<u32>],
    result: &str,
    steps: u32,
) -> Result<CosimReport> {
    let tapped: Vec<&codegen::EnginePlan> = plan
        .engines
        .iter()
        .filter(|e| e.neuron_layer.is_some())
        .collect();
    let hw = parse(result, tapped.len())?;
    let mut report = CosimReport {
        samples: inputs.len(),
        steps,
        engines: plan
            .engines
            .iter()
            .map(|e| EngineCycles {
                module: e.module.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let fx = net.fixed.as_ref().expect("integer");
    for (s, g) in golden.iter().enumerate() {
        let Some(h) = hw.get(s) else {
            report.divergence.get_or_insert_with(|| {
                format!("sample {s}: the simulator stopped before this sample (an earlier sample timed out)")
            });
            break;
        };
        // Lower bound: events into each engine times its passes, or the fire words of all steps.
        let mut lbs = Vec::with_capacity(plan.engines.len());
        let mut chain = 0u64; // sum of the step-0 work of the engines before this one
        let mut chain_lb = 0u64;
        for (ei, e) in plan.engines.iter().enumerate() {
            let mut lb = 0u64;
            let mut first = 0u64;
            for t in 0..steps as usize {
                let events = if ei == 0 {
                    if e.const_in && t > 0 {
                        0
                    } else {
                        let mut u = Vec::new();
                        encode::encode_int(
                            net.input.encoding,
                            &inputs[s],
                            fx.input_max(),
                            s as u64,
                            t as u32,
                            &mut u,
                        );
                        u.iter().filter(|&&v| v != 0).count() as u64
                    }
                } else {
                    g.layers[ei - 1].counts[t]
                        .iter()
                        .filter(|&&c| c != 0)
                        .count() as u64
                };
                lb += events * e.passes as u64;
                if t == 0 {
                    first = events * e.passes as u64;
                }
            }
            // the fire process reads each fire word once per step, one word per cycle
            lb = lb.max(steps as u64 * e.words as u64);
            chain_lb = chain_lb.max(chain + lb);
            chain += first;
            report.engines[ei].lower_bound += lb;
            report.engines[ei].steps += steps as u64;
            lbs.push(lb);
        }
        let mut tap = 0;
        for (ei, e) in plan.engines.iter().enumerate() {
            if e.neuron_layer.is_some() {
                report.engines[ei].busy += h.busy[tap].iter().take(steps as usize).sum::<u64>();
                tap += 1;
            }
        }
        report
            .lower_bounds
            .push(lbs.iter().copied().max().unwrap_or(0));
        report.chain_bounds.push(chain_lb);
        if let Some((c, _)) = h.done {
            report.cycles.push(c);
        }
        if report.divergence.is_none() {
            report.divergence = diverge(s, g, h, &tapped, plan, steps);
        }
    }
    Ok(report)
}

/// The first difference between golden and hardware for one sample.
fn diverge(
    s: usize,
    g: &SampleTrace,
    h: &HwSample,
    tapped: &[&codegen::EnginePlan],
    plan: &Plan,
    steps: u32,
) -> Option<String> {
    // hardware counts per tap, step, neuron
    let mut hc: Vec<Vec<Vec<u32>>> = Vec::new();
    let mut hv: Vec<Vec<Vec<Option<i64>>>> = Vec::new();
    for (k, e) in tapped.iter().enumerate() {
        let width = e.n * e.e;
        let mut c = vec![vec![0u32; width]; steps as usize];
        let mut v = vec![vec![None; width]; steps as usize];
        for &(t, i, cnt, vv) in &h.events[k] {
            let layer = e.neuron_layer.unwrap_or(0);
            if t >= steps || i >= width {
                return Some(format!(
                    "sample {s} step {t} layer {layer} ({}) neuron {i}: the hardware emitted a spike count {cnt} outside the {steps} steps x {width} neurons of the layer (step counter or index fault)",
                    g.layers[k].kind
                ));
            }
            c[t as usize][i] = cnt;
            v[t as usize][i] = Some(sign_extend(vv, e.vw));
        }
        hc.push(c);
        hv.push(v);
    }
    for t in 0..steps as usize {
        for (k, e) in tapped.iter().enumerate() {
            let gl = &g.layers[k];
            let layer = e.neuron_layer.unwrap_or(0);
            let group = e.e;
            if let Some(n) = (0..gl.counts[t].len()).find(|&n| gl.counts[t][n] != hc[k][t][n]) {
                let gm = gl
                    .membranes
                    .as_ref()
                    .map(|m| m[t][n / group])
                    .map(|v| format!(", expected membrane after the step {v}"))
                    .unwrap_or_default();
                let hm = hv[k][t][n]
                    .map(|v| format!(", hardware membrane {v}"))
                    .unwrap_or_else(|| ", hardware membrane not observed (no event)".into());
                return Some(format!(
                    "sample {s} step {t} layer {layer} ({}) neuron {n}: expected count {}, got {}{gm}{hm}",
                    gl.kind, gl.counts[t][n], hc[k][t][n]
                ));
            }
        }
    }
    if let Some(c) = h.timeout {
        return Some(format!(
            "sample {s}: the hardware did not finish within {c} cycles (all recorded spikes matched up to then)"
        ));
    }
    // Readout: recompute from the output stream (currents) and check the predicted class.
    let last = plan.engines.last().expect("engines");
    let Some((_, hw_class)) = h.done else {
        return Some(format!("sample {s}: the hardware never signalled done"));
    };
    if last.kind == EngineKind::Current {
        let mut r = vec![0f64; plan.classes];
        for &(t, i, v) in &h.outputs {
            if (t as usize) < steps as usize && i < r.len() {
                r[i] += sign_extend(v, last.ocw) as f64;
            }
        }
        if r != g.readout {
            return Some(format!(
                "sample {s}: readout currents differ: expected {:?}, got {:?}",
                g.readout, r
            ));
        }
    }
    if hw_class != g.predicted {
        return Some(format!(
            "sample {s}: predicted class {hw_class}, expected {} (readout {:?})",
            g.predicted, g.readout
        ));
    }
    None
}
