//! Spike-exact co-simulation: the generated RTL in Verilator (or in Icarus Verilog, `icarus.rs`,
//! driven alike by the testbench sim/tb_lifb.v) against the golden simulator; `mutate.rs` plants
//! single faults and checks that this co-simulation catches them.
//! The C++ harness (templates/harness.cpp) streams each sample's encoded input events (in a
//! seeded random order within each step, with seeded gaps in `in_valid`), holds `out_ready` low
//! in seeded random bursts, records every neuron layer's output events (count and membrane) at
//! every step through the trace taps, the host output stream, the end of each sample and
//! coverage counters, and prints them as text lines; this module builds it (cached by content
//! hash), runs it and compares everything (`check.rs`), and holds the cycle count to a budget
//! (`cycles.rs`). `hdl.rs` reads an RTL folder written by `generate` (`cosim --hdl`).
//!
//! Harness output lines: `S sample`, `E tap step index count v_hex`, `O step index value_hex`,
//! `B tap step busy_cycles`, `Q tap eos_beats`, `C stall blocked gap in_wait full_0 .. full_k`,
//! `D cycles class out_eos_beats pending_at_done done_again beat_after_done beats_taken`,
//! `X cycles` (timeout), `T total_cycles`.

mod check;
pub mod cycles;
pub mod hdl;
pub mod icarus;
pub mod mutate;
pub mod sim_folder;

pub use check::Coverage;

use crate::codegen::{self, Design};
use crate::error::{Error, Result};
use crate::golden::{encode, IntSim, TraceOptions};
use crate::ir::IntNetwork;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// How the harness drives the design's handshakes (all seeded: a run is reproducible from
/// `seed`). Probabilities are per cycle; a burst lasts 1..=max cycles, uniformly.
#[derive(Debug, Clone, PartialEq)]
pub struct Stimulus {
    pub seed: u64,
    /// Probability that a burst of `out_ready = 0` starts in a cycle.
    pub stall_prob: f64,
    pub stall_burst: u32,
    /// Probability that a gap (`in_valid = 0` although beats remain) starts in a cycle.
    pub gap_prob: f64,
    pub gap_burst: u32,
    /// Send each step's input beats in a random order (the semantics make order irrelevant).
    pub shuffle: bool,
    /// Pulse `rst` before a sample with probability 1/2 (else the next `start` follows `done`
    /// directly); the first sample always follows a reset.
    pub reset_between: bool,
    /// Random initial values of every register and memory (`+verilator+rand+reset+2`, seeded);
    /// otherwise zeros.
    pub random_init: bool,
}

impl Stimulus {
    /// Always ready, no gaps, inputs in index order, one reset, zero initial values: the
    /// setting whose cycle counts the cycle model predicts.
    pub fn quiet() -> Self {
        Stimulus {
            seed: 1,
            stall_prob: 0.0,
            stall_burst: 1,
            gap_prob: 0.0,
            gap_burst: 1,
            shuffle: false,
            reset_between: false,
            random_init: false,
        }
    }

    /// The verification setting the tests use: heavy bursty output stalls, input gaps, shuffled
    /// beats, resets between samples and random initial values.
    pub fn verify(seed: u64) -> Self {
        Stimulus {
            seed,
            stall_prob: 0.25,
            stall_burst: 8,
            gap_prob: 0.15,
            gap_burst: 4,
            shuffle: true,
            reset_between: true,
            random_init: true,
        }
    }

    /// Whether the harness ever holds a handshake (cycle counts then include waiting).
    pub fn stalls(&self) -> bool {
        self.stall_prob > 0.0 || self.gap_prob > 0.0
    }

    pub fn describe(&self) -> String {
        format!(
            "seed {}, out_ready stalls {:.0} % per cycle (bursts 1..={}), in_valid gaps {:.0} % (bursts 1..={}), {} order, {}, {} initial values",
            self.seed,
            self.stall_prob * 100.0,
            self.stall_burst,
            self.gap_prob * 100.0,
            self.gap_burst,
            if self.shuffle { "random beat" } else { "index" },
            if self.reset_between { "random resets between samples" } else { "one reset" },
            if self.random_init { "random" } else { "zero" }
        )
    }

    fn validate(&self) -> Result<()> {
        for (name, p) in [("stall", self.stall_prob), ("gap", self.gap_prob)] {
            if !(0.0..=0.95).contains(&p) {
                return Err(Error::bad_input(format!(
                    "the {name} probability must be in 0..=0.95, got {p}"
                )));
            }
        }
        for (name, b) in [("stall", self.stall_burst), ("gap", self.gap_burst)] {
            if !(1..=1000).contains(&b) {
                return Err(Error::bad_input(format!(
                    "the {name} burst length must be 1..=1000 cycles, got {b}"
                )));
            }
        }
        Ok(())
    }
}

/// The default cycle-budget margin (docs/hardware.md, "Cycle budget"): measured cycles may exceed
/// the cycle model's prediction by at most this share.
pub const DEFAULT_CYCLE_MARGIN: f64 = 0.10;

#[derive(Debug, Clone)]
pub struct CosimOptions {
    pub steps: u32,
    pub codegen: codegen::Options,
    /// Where Verilator builds are cached (one directory per content hash).
    pub cache_dir: PathBuf,
    /// Handshake stimulus (stalls, gaps, order, resets, initial values).
    pub stimulus: Stimulus,
    /// Cap every FIFO at this many words (a power of two, 2..=1024) so that FIFOs fill; `cosim`
    /// only (`cosim_design` runs the design it is given).
    pub fifo_depth: Option<usize>,
    /// Fail (report.budget_violation) when a sample takes more than (1 + margin) x the cycle
    /// model's prediction. Checked only without stalls and gaps; None: not checked.
    pub cycle_margin: Option<f64>,
}

impl Default for CosimOptions {
    fn default() -> Self {
        CosimOptions {
            steps: 4,
            codegen: codegen::Options::default(),
            cache_dir: default_cache_dir(),
            stimulus: Stimulus::quiet(),
            fifo_depth: None,
            cycle_margin: Some(DEFAULT_CYCLE_MARGIN),
        }
    }
}

/// Per engine: busy cycles and the lower bound, summed over samples and steps.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct EngineCycles {
    pub module: String,
    pub busy: u64,
    pub lower_bound: u64,
    pub steps: u64,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
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
    /// Per sample: the synaptic operations of the design's engines (`cycles::synaptic_ops`:
    /// input events x fan-out; an event of any count is one accumulation per synapse).
    #[serde(default)]
    pub synaptic_ops: Vec<u64>,
    pub engines: Vec<EngineCycles>,
    /// The first divergence (sample, step, layer, neuron, expected, actual, membrane), if any.
    pub divergence: Option<String>,
    /// Per finished sample: the cycle model's prediction (`cycles::predict`).
    pub predicted: Vec<u64>,
    /// The first sample over the cycle budget, if the budget was checked.
    pub budget_violation: Option<String>,
    /// What the budget check did ("within ..." or why it was not checked).
    pub budget_note: String,
    /// What was compared and which corners were reached.
    pub coverage: Coverage,
    /// The stimulus, in words (with its seed, to reproduce the run).
    pub stimulus: String,
    pub build_seconds: f64,
    pub build_cached: bool,
    pub sim_seconds: f64,
}

impl CosimReport {
    /// The verdict: the divergence, else the cycle-budget violation, else None (pass).
    pub fn failure(&self) -> Option<String> {
        self.divergence
            .clone()
            .or_else(|| self.budget_violation.clone())
    }
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
        let _ = writeln!(s, "  stimulus: {}", self.stimulus);
        let _ = writeln!(s, "  cycle budget: {}", self.budget_note);
        s.push_str(&self.coverage.summary());
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

/// What `verilator --version` prints (the report names it; the build cache and the result cache
/// key on it).
pub fn verilator_version() -> Result<String> {
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
            "unique",
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
pub(crate) fn check_plain_name(n: &str) -> Result<()> {
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

/// Encoded input beats for one sample: (index, value, eos). With `shuffle`, each step's beats
/// come in a random order (seeded by the stimulus seed and the sample number).
fn input_beats(
    net: &IntNetwork,
    input: &[u32],
    sample: u64,
    steps: u32,
    stim: &Stimulus,
) -> Vec<(usize, u32, bool)> {
    let fx = net.fixed.as_ref().expect("integer network");
    let enc = net.input.encoding;
    let groups = if encode::is_constant(enc) { 1 } else { steps };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
        stim.seed ^ sample.wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let mut beats = Vec::new();
    let mut u = Vec::new();
    for t in 0..groups {
        let x = encode::at_step(enc, input, net.input.shape.len(), t);
        encode::encode_int(enc, x, fx.input_max(), sample, t, &mut u);
        let mut group: Vec<(usize, u32, bool)> = u
            .iter()
            .enumerate()
            .filter(|(_, &v)| v != 0)
            .map(|(i, &v)| (i, v, false))
            .collect();
        if stim.shuffle {
            group.shuffle(&mut rng);
        }
        beats.extend(group);
        beats.push((0, 0, true));
    }
    beats
}

/// Which simulator runs the RTL. Both are driven by the same seeded stimulus and feed the same
/// comparison (`check.rs`); only how the design is built and stepped differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Simulator {
    /// Verilator with the C++ harness (templates/harness.cpp); random initial values possible.
    #[default]
    Verilator,
    /// Icarus Verilog with the plain Verilog testbench (sim/tb_lifb.v); registers start at X.
    Icarus,
}

impl Simulator {
    pub fn name(self) -> &'static str {
        match self {
            Simulator::Verilator => "verilator",
            Simulator::Icarus => "icarus",
        }
    }
}

/// Co-simulate a network on inputs: generate, build (cached), run, compare (Verilator).
pub fn cosim(net: &IntNetwork, inputs: &[Vec<u32>], opts: &CosimOptions) -> Result<CosimReport> {
    cosim_with(Simulator::Verilator, net, inputs, opts)
}

/// [`cosim`] on the given simulator.
pub fn cosim_with(
    sim: Simulator,
    net: &IntNetwork,
    inputs: &[Vec<u32>],
    opts: &CosimOptions,
) -> Result<CosimReport> {
    let design = codegen::generate_with_fifo_depth(net, &opts.codegen, opts.fifo_depth)?;
    cosim_design_with(sim, &design, inputs, opts)
}

/// Co-simulate a given design (possibly modified, e.g. with a planted fault) against the golden
/// model of the network it carries (the network it was generated from, in its form), in
/// Verilator.
pub fn cosim_design(
    design: &Design,
    inputs: &[Vec<u32>],
    opts: &CosimOptions,
) -> Result<CosimReport> {
    cosim_design_with(Simulator::Verilator, design, inputs, opts)
}

/// One input beat: (index, value, end of step).
pub(crate) type Beat = (usize, u32, bool);

/// What a simulator is asked to run: the handshake settings and, per sample, its input beats
/// and whether a reset comes before it.
pub(crate) struct Drive {
    pub samples: usize,
    pub steps: u32,
    pub max_cycles: u64,
    pub seed: u64,
    pub stall_ppm: u32,
    pub stall_burst: u32,
    pub gap_ppm: u32,
    pub gap_burst: u32,
    /// per sample: (reset before it, beats (index, value, eos))
    pub beats: Vec<(bool, Vec<Beat>)>,
}

/// A simulator's raw result: its output lines, build and run times.
pub(crate) struct RawRun {
    pub text: String,
    pub build_seconds: f64,
    pub build_cached: bool,
    pub sim_seconds: f64,
}

/// [`cosim_design`] on the given simulator.
pub fn cosim_design_with(
    simulator: Simulator,
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
    if inputs.is_empty() {
        return Err(Error::bad_input(
            "no input samples to co-simulate (a check that compares nothing is not a pass)",
        ));
    }
    let stim = &opts.stimulus;
    stim.validate()?;
    if let Some(m) = opts.cycle_margin {
        if !(0.0..=10.0).contains(&m) {
            return Err(Error::bad_input(format!(
                "the cycle-budget margin must be in 0..=10 (a share: 0.10 = 10 %), got {m}"
            )));
        }
    }
    let steps = opts.steps;
    let net = &design.network;
    let golden = golden_traces(net, inputs, steps)?;
    let cache_dir = prepare_cache_dir(&opts.cache_dir)?;
    let plan = &design.plan;
    let (drive, resets) = make_drive(design, inputs, steps, stim);
    let run = match simulator {
        Simulator::Verilator => run_verilator(design, &cache_dir, &drive, stim)?,
        Simulator::Icarus => icarus::run(design, &cache_dir, &drive)?,
    };
    let mut report = check::compare(net, plan, &golden, inputs, &run.text, steps)?;
    report.coverage.resets = resets;
    report.stimulus = stim.describe();
    if simulator == Simulator::Icarus && stim.random_init {
        report.stimulus.push_str(
            " (Icarus: every register starts at X instead, and an X reaching a recorded signal fails)",
        );
    }
    cycles::apply_budget(&mut report, net, plan, &golden, inputs, opts);
    report.build_seconds = run.build_seconds;
    report.build_cached = run.build_cached;
    report.sim_seconds = run.sim_seconds;
    Ok(report)
}

/// The golden traces (counts and membranes) of every sample.
pub(crate) fn golden_traces(
    net: &IntNetwork,
    inputs: &[Vec<u32>],
    steps: u32,
) -> Result<Vec<crate::golden::SampleTrace>> {
    let sim = IntSim::new(net)?;
    let topts = TraceOptions {
        counts: true,
        membranes: true,
    };
    inputs
        .iter()
        .enumerate()
        .map(|(s, x)| sim.run(x, s as u64, steps, topts))
        .collect()
}

/// How the simulators drive the design for these samples (and how many resets come between
/// samples).
pub(crate) fn make_drive(
    design: &Design,
    inputs: &[Vec<u32>],
    steps: u32,
    stim: &Stimulus,
) -> (Drive, u64) {
    let net = &design.network;
    let plan = &design.plan;
    let ppm = |p: f64| (p * 1e6).round() as u32;
    let mut reset_rng = rand_chacha::ChaCha8Rng::seed_from_u64(stim.seed ^ 0x05EE_D0F2_E5E7);
    let mut resets = 0u64;
    let mut beats = Vec::with_capacity(inputs.len());
    for (s, x) in inputs.iter().enumerate() {
        let b = input_beats(net, x, s as u64, steps, stim);
        let reset = s > 0 && stim.reset_between && rand::Rng::random_bool(&mut reset_rng, 0.5);
        resets += reset as u64;
        beats.push((reset, b));
    }
    let drive = Drive {
        samples: inputs.len(),
        steps,
        max_cycles: cycles::cycle_limit(plan, steps, stim),
        seed: stim.seed,
        stall_ppm: ppm(stim.stall_prob),
        stall_burst: stim.stall_burst,
        gap_ppm: ppm(stim.gap_prob),
        gap_burst: stim.gap_burst,
        beats,
    };
    (drive, resets)
}

/// The Verilator harness's input file (header, then per sample its beats).
pub(crate) fn harness_input(drive: &Drive) -> String {
    let mut text = format!(
        "{} {} {} {} {} {} {} {}\n",
        drive.samples,
        drive.steps,
        drive.max_cycles,
        drive.seed,
        drive.stall_ppm,
        drive.stall_burst,
        drive.gap_ppm,
        drive.gap_burst
    );
    for (reset, beats) in &drive.beats {
        let _ = writeln!(text, "{} {}", beats.len(), *reset as u32);
        for (i, v, e) in beats {
            let _ = writeln!(text, "{i} {v} {}", *e as u32);
        }
    }
    text
}

/// A private run folder in the cache holding the design's ROM files ($readmemh paths are
/// relative to it).
pub(crate) fn run_dir(cache_dir: &Path, design: &Design) -> Result<PathBuf> {
    let run_dir = cache_dir.join(format!(
        ".run-{}-{}",
        std::process::id(),
        RUN_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&run_dir);
    for (n, b) in &design.files {
        if n.ends_with(".hex") {
            check_plain_name(n)?;
            let p = run_dir.join(n);
            crate::util::write_atomic(&p, b)?;
        }
    }
    Ok(run_dir)
}

fn run_verilator(
    design: &Design,
    cache_dir: &Path,
    drive: &Drive,
    stim: &Stimulus,
) -> Result<RawRun> {
    let (exe, cached, build_seconds) = build(design, cache_dir)?;
    let run_dir = run_dir(cache_dir, design)?;
    let text = harness_input(drive);
    let in_path = run_dir.join("inputs.txt");
    let out_path = run_dir.join("outputs.txt");
    crate::util::write_atomic(&in_path, text.as_bytes())?;
    let t0 = Instant::now();
    let out = Command::new(&exe)
        .arg("inputs.txt")
        .arg("outputs.txt")
        .arg(format!(
            "+verilator+rand+reset+{}",
            if stim.random_init { 2 } else { 0 }
        ))
        .arg(format!("+verilator+seed+{}", 1 + stim.seed % 0x7fff_fffe))
        .current_dir(&run_dir)
        .output()
        .map_err(|e| Error::tool(format!("running {}: {e}", exe.display())))?;
    let sim_seconds = t0.elapsed().as_secs_f64();
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&run_dir);
        return Err(Error::tool(format!(
            "the simulator failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let result = std::fs::read_to_string(&out_path).map_err(|e| Error::io(&out_path, e));
    let _ = std::fs::remove_dir_all(&run_dir);
    Ok(RawRun {
        text: result?,
        build_seconds,
        build_cached: cached,
        sim_seconds,
    })
}

static RUN_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
