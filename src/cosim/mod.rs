//! Spike-exact co-simulation: the generated RTL in Verilator against the golden simulator.
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

pub use check::Coverage;

use crate::codegen::{self, Design, Plan};
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

/// Build (or reuse) the Verilator simulator for a design; returns the executable.
pub fn build(design: &Design, cache_dir: &Path) -> Result<(PathBuf, bool, f64)> {
    let harness = codegen::harness_cpp(&design.plan)?;
    let version = verilator_version()?;
    let mut parts: Vec<&[u8]> = vec![version.as_bytes(), harness.as_bytes()];
    for (n, b) in codegen::verilog_files(design) {
        parts.push(n.as_bytes());
        parts.push(b);
    }
    let key = crate::util::sha256_hex(&parts);
    let dir = cache_dir.join(&key[..24]);
    let exe = dir.join("obj").join(format!("V{}", codegen::TOP));
    if exe.is_file() {
        return Ok((exe, true, 0.0));
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
    std::fs::create_dir_all(&src).map_err(|e| Error::io(&src, e))?;
    let mut args: Vec<String> = vec![
        "--cc".into(),
        "--exe".into(),
        "--build".into(),
        "-j".into(),
        "2".into(),
        "-Wno-fatal".into(),
        "-Wno-lint".into(),
        "--x-assign".into(),
        "fast".into(),
        "--x-initial".into(),
        "unique".into(),
        "--top-module".into(),
        codegen::TOP.into(),
        "-Mdir".into(),
        tmp.join("obj").display().to_string(),
        "-CFLAGS".into(),
        "-O1".into(),
        "-MAKEFLAGS".into(),
        "OPT_FAST=-O1 OPT_SLOW=-O0".into(),
    ];
    for (n, b) in codegen::verilog_files(design) {
        let p = src.join(n);
        std::fs::write(&p, b).map_err(|e| Error::io(&p, e))?;
        args.push(p.display().to_string());
    }
    let hp = src.join("harness.cpp");
    std::fs::write(&hp, harness).map_err(|e| Error::io(&hp, e))?;
    args.push(hp.display().to_string());
    let out = Command::new("verilator")
        .args(&args)
        .output()
        .map_err(|e| Error::tool(format!("running verilator: {e}")))?;
    if !out.status.success() {
        return Err(Error::tool(format!(
            "verilator build failed in {}:\n{}{}",
            tmp.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        // another process finished the same build first
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if !exe.is_file() {
        return Err(Error::tool(format!(
            "verilator produced no executable at {}",
            exe.display()
        )));
    }
    Ok((exe, false, t0.elapsed().as_secs_f64()))
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
        encode::encode_int(enc, input, fx.input_max(), sample, t, &mut u);
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

/// Worst-case cycles of one sample (every input active, every neuron firing), doubled: the
/// harness gives up after this many cycles, so a hung design is a failure, not a hang. With
/// stalls, divided by the share of cycles the harness does not hold a handshake.
fn cycle_limit(p: &Plan, steps: u32, stim: &Stimulus) -> u64 {
    let mut c = 1000 + p.input_len as u64 * steps as u64;
    for e in &p.engines {
        c += steps as u64
            * (e.n_in as u64 * e.passes as u64 + e.words as u64 + (e.n * e.e) as u64 + 16);
    }
    // a hold of mean length (b + 1) / 2 starts in a free cycle with probability p: one free
    // cycle in 1 + p (b + 1) / 2 on average; twice that for safety, plus the held last beat
    let slow = |p: f64, b: u32| 2.0 * (1.0 + p * (b as f64 + 1.0) / 2.0);
    let factor = if stim.stalls() {
        slow(stim.stall_prob, stim.stall_burst) * slow(stim.gap_prob, stim.gap_burst)
    } else {
        1.0
    };
    (4.0 * c as f64 * factor) as u64 + 4 * stim.stall_burst as u64
}

/// Co-simulate a network on inputs: generate, build (cached), run, compare.
pub fn cosim(net: &IntNetwork, inputs: &[Vec<u32>], opts: &CosimOptions) -> Result<CosimReport> {
    let hw_net = codegen::plan::apply_form(net, opts.codegen.form)?;
    let design = codegen::generate_with_fifo_depth(net, &opts.codegen, opts.fifo_depth)?;
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
    let sim = IntSim::new(net)?;
    let topts = TraceOptions {
        counts: true,
        membranes: true,
    };
    let mut golden = Vec::with_capacity(inputs.len());
    for (s, x) in inputs.iter().enumerate() {
        golden.push(sim.run(x, s as u64, steps, topts)?);
    }
    std::fs::create_dir_all(&opts.cache_dir).map_err(|e| Error::io(&opts.cache_dir, e))?;
    let cache_dir = opts
        .cache_dir
        .canonicalize()
        .map_err(|e| Error::io(&opts.cache_dir, e))?;
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
    let ppm = |p: f64| (p * 1e6).round() as u32;
    let mut text = format!(
        "{} {} {} {} {} {} {} {}\n",
        inputs.len(),
        steps,
        cycle_limit(plan, steps, stim),
        stim.seed,
        ppm(stim.stall_prob),
        stim.stall_burst,
        ppm(stim.gap_prob),
        stim.gap_burst
    );
    let mut reset_rng = rand_chacha::ChaCha8Rng::seed_from_u64(stim.seed ^ 0x05EE_D0F2_E5E7);
    let mut resets = 0u64;
    for (s, x) in inputs.iter().enumerate() {
        let beats = input_beats(net, x, s as u64, steps, stim);
        let reset = s > 0 && stim.reset_between && rand::Rng::random_bool(&mut reset_rng, 0.5);
        resets += reset as u64;
        let _ = writeln!(text, "{} {}", beats.len(), reset as u32);
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
    let result = std::fs::read_to_string(&out_path).map_err(|e| Error::io(&out_path, e))?;
    let _ = std::fs::remove_dir_all(&run_dir);
    let mut report = check::compare(net, plan, &golden, inputs, &result, steps)?;
    report.coverage.resets = resets;
    report.stimulus = stim.describe();
    cycles::apply_budget(&mut report, net, plan, &golden, inputs, opts);
    report.build_seconds = build_seconds;
    report.build_cached = cached;
    report.sim_seconds = sim_seconds;
    Ok(report)
}

static RUN_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
