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
        "fast".into(),
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
