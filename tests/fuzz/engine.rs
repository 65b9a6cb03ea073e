//! The fuzzing engine: runs a target on mutated inputs in this process, and finds what the
//! loaders must never do.
//!
//! - Panics: every execution runs under `catch_unwind` with a silent panic hook; a panic is
//!   counted and its input saved. Panics that the library catches itself (the HDF5 decoder is
//!   wrapped) are counted separately as "contained".
//! - Hangs: a watchdog thread sees an execution that runs longer than the time limit, saves its
//!   input and ends the process (a stuck thread cannot be stopped).
//! - Memory: a counting global allocator (installed by the test binary) records the live bytes
//!   each execution adds, per thread; an execution above the cap is a finding, and one above the
//!   hard ceiling saves its input and ends the process before the machine runs out of memory.
//! - Feedback: an input whose error message (numbers masked) was never seen joins the corpus,
//!   so mutations reach past the first checks.
//!
//! Deterministic: execution i uses a generator seeded from (seed, target, i), so a campaign can
//! be resumed at any execution and a finding replays from its saved files alone. Long campaigns
//! run in child processes (the supervisor in [`campaign`]) so that a finding that ends the
//! process is recorded and the campaign goes on after it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub type Input = Vec<Vec<u8>>;

/// What one execution gave, apart from panics.
pub enum Outcome {
    Ok,
    Err(lifb_hdl::Error),
}

/// A fuzz target: how to build inputs and run them.
pub struct Target {
    pub name: &'static str,
    /// File names of the input's parts in a reproducer folder.
    pub parts: &'static [&'static str],
    pub seeds: Vec<Input>,
    /// Mutate `input` (a copy of a corpus entry); `donor` is another entry, for splicing.
    pub mutate: fn(&mut ChaCha8Rng, &mut Input, &Input),
    pub run: fn(&[Vec<u8>]) -> Outcome,
}

// ---------------------------------------------------------------- memory

/// Counts live bytes of the whole process (the HDF5 decoder may use a thread pool); the fuzz
/// tests take [`FUZZ_LOCK`] so that one campaign runs at a time.
pub struct CountingAlloc;

static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);
static CEILING: AtomicI64 = AtomicI64::new(i64::MAX);
static HARD_CAP: AtomicU64 = AtomicU64::new(3 << 30);
static CURRENT: Mutex<Option<Arc<Shared>>> = Mutex::new(None);
static IN_FUZZ: AtomicBool = AtomicBool::new(false);
static PANICS: AtomicU64 = AtomicU64::new(0);
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());
/// One campaign at a time (memory figures and the panic count are per process): every test of
/// the fuzz binary holds it from start to end.
static FUZZ_LOCK: Mutex<()> = Mutex::new(());

pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    FUZZ_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn grow(n: usize) {
    let v = LIVE.fetch_add(n as i64, Ordering::Relaxed) + n as i64;
    PEAK.fetch_max(v, Ordering::Relaxed);
    if v > CEILING.load(Ordering::Relaxed) {
        ceiling_exceeded(n);
    }
}

fn shrink(n: usize) {
    LIVE.fetch_sub(n as i64, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grow(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        grow(l.size());
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        shrink(l.size());
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            grow(new - l.size());
        } else {
            shrink(l.size() - new);
        }
        unsafe { System.realloc(p, l, new) }
    }
}

/// An execution is about to pass the hard ceiling: save it (with where it allocates) and end
/// the process.
fn ceiling_exceeded(n: usize) {
    CEILING.store(i64::MAX, Ordering::Relaxed);
    let trace = std::backtrace::Backtrace::force_capture();
    let shared = CURRENT.lock().ok().and_then(|c| c.clone());
    let note = format!(
        "an allocation of {n} bytes would take the execution above the hard ceiling of {} bytes",
        HARD_CAP.load(Ordering::Relaxed)
    );
    if let Some(s) = shared {
        let (exec, input) = s.current.lock().unwrap().clone();
        let dir = s.save("overcap-hard", exec, &input, &format!("{note}\n\n{trace}"));
        s.mark("overcap-hard", exec, &dir);
        eprintln!(
            "fuzz {}: execution {exec}: {note}; input saved in {}",
            s.target,
            dir.display()
        );
    } else {
        eprintln!("fuzz: {note}\n{trace}");
    }
    std::process::exit(86);
}

// ---------------------------------------------------------------- shared state

/// What the watchdog and the allocator need to save the current input.
pub struct Shared {
    target: &'static str,
    parts: &'static [&'static str],
    dir: PathBuf,
    current: Mutex<(u64, Input)>,
    /// Milliseconds since `epoch` at which the running execution started; 0 when idle.
    started: AtomicU64,
    /// The process's CPU time (ms) when the running execution started.
    started_cpu: AtomicU64,
    epoch: Instant,
    stop: AtomicBool,
}

impl Shared {
    /// Save an input as a reproducer folder: one file per part, the target and a note.
    fn save(&self, kind: &str, exec: u64, input: &Input, note: &str) -> PathBuf {
        let dir = self.dir.join(format!("{kind}-{exec:09}"));
        save_input(&dir, self.target, self.parts, input, note);
        dir
    }

    /// A finding that ends the process: tell the supervisor which execution and where.
    fn mark(&self, kind: &str, exec: u64, dir: &Path) {
        let _ = std::fs::write(
            self.dir.join("ABORTED"),
            format!("{kind} {exec} {}\n", dir.display()),
        );
    }
}

pub fn save_input(dir: &Path, target: &str, parts: &[&str], input: &Input, note: &str) {
    let _ = std::fs::create_dir_all(dir);
    for (name, bytes) in parts.iter().zip(input) {
        let _ = std::fs::write(dir.join(name), bytes);
    }
    let _ = std::fs::write(dir.join("target.txt"), format!("{target}\n"));
    let _ = std::fs::write(dir.join("note.txt"), format!("{note}\n"));
}

pub fn load_input(dir: &Path, parts: &[&str]) -> Input {
    parts
        .iter()
        .map(|p| std::fs::read(dir.join(p)).unwrap_or_default())
        .collect()
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_FUZZ.load(Ordering::Relaxed) {
                PANICS.fetch_add(1, Ordering::Relaxed);
                let msg = info.to_string();
                if let Ok(mut l) = LAST_PANIC.lock() {
                    *l = msg;
                }
            } else {
                default(info)
            }
        }));
    });
}

fn last_panic() -> String {
    LAST_PANIC.lock().map(|l| l.clone()).unwrap_or_default()
}

/// CPU time of this process (all threads, user + system) in milliseconds, from /proc/self/stat
/// (clock ticks of 1/100 s, the fixed USER_HZ of Linux's user interface); 0 where unreadable.
pub fn process_cpu_ms() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // the fields after the command name, which is in parentheses and may hold blanks
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) * 10
}

/// A hang is an execution that used more than `timeout` of CPU time, or that ran for ten times
/// `timeout` on the clock (blocked without computing). CPU time, not the clock, is the measure,
/// so that a loaded machine does not turn slow executions into findings.
fn watchdog(s: Arc<Shared>, timeout: Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let limit = timeout.as_millis() as u64;
        while !s.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            let t = s.started.load(Ordering::Relaxed);
            if t == 0 {
                continue;
            }
            let wall = (s.epoch.elapsed().as_millis() as u64).saturating_sub(t);
            let cpu = process_cpu_ms().saturating_sub(s.started_cpu.load(Ordering::Relaxed));
            if cpu > limit || wall > 10 * limit {
                let (exec, input) = s.current.lock().unwrap().clone();
                let note = format!(
                    "the execution used {cpu} ms of CPU time in {wall} ms (limits: {limit} ms of CPU, {} ms on the clock): a hang",
                    10 * limit
                );
                let dir = s.save("hang", exec, &input, &note);
                s.mark("hang", exec, &dir);
                eprintln!(
                    "fuzz {}: execution {exec}: {note}; input saved in {}",
                    s.target,
                    dir.display()
                );
                std::process::exit(86);
            }
        }
    })
}

// ---------------------------------------------------------------- configuration and figures

#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub start: u64,
    pub end: u64,
    pub out: PathBuf,
    pub timeout: Duration,
    /// Live bytes one execution may add; above is a finding.
    pub soft_cap: u64,
    /// Above this the process saves the input and ends (protects the machine).
    pub hard_cap: u64,
    /// Keep the corpus additions on disk (so that a resumed worker has the same corpus).
    pub persist: bool,
    /// Write every input to `current/` before running it (to find an execution that crashed the
    /// process without a word).
    pub save_each: bool,
    pub progress_every: u64,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl Config {
    /// From LIFB_FUZZ_* variables; `slice` execs when LIFB_FUZZ_EXECS is not set.
    pub fn from_env(slice: u64) -> Config {
        let out = std::env::var_os("LIFB_FUZZ_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                // The short slice of the test suite keeps out of a long campaign's folder.
                let long = std::env::var_os("LIFB_FUZZ_EXECS").is_some();
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("target")
                    .join(if long { "fuzz-out" } else { "fuzz-slice" })
            });
        Config {
            seed: env_u64("LIFB_FUZZ_SEED").unwrap_or(1),
            start: env_u64("LIFB_FUZZ_START").unwrap_or(0),
            end: env_u64("LIFB_FUZZ_EXECS").unwrap_or(slice),
            out,
            timeout: Duration::from_millis(env_u64("LIFB_FUZZ_TIMEOUT_MS").unwrap_or(2000)),
            soft_cap: env_u64("LIFB_FUZZ_MEM_CAP").unwrap_or(1 << 30),
            hard_cap: env_u64("LIFB_FUZZ_MEM_HARD").unwrap_or(3 << 30),
            persist: std::env::var_os("LIFB_FUZZ_WORKER").is_some(),
            save_each: std::env::var_os("LIFB_FUZZ_SAVE_EACH").is_some(),
            progress_every: 1024,
        }
    }
}

/// The figures of a campaign (or of part of one).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub execs: u64,
    pub ok: u64,
    /// Errors of kind bad input (exit 2): the expected refusal.
    pub refused: u64,
    /// Errors of another kind (exit 1) on bad bytes: the wrong exit code for a corrupt file.
    pub other_errors: u64,
    pub panics: u64,
    pub contained_panics: u64,
    pub hangs: u64,
    pub over_cap: u64,
    /// Crashes of the process without a word (found by replaying with save_each).
    pub crashes: u64,
    pub peak_bytes: u64,
    pub slowest_us: u64,
    pub wall_ms: u64,
    /// Peak resident set size of the process, kB (max over workers).
    pub max_rss_kb: u64,
    pub corpus_added: u64,
}

const FIELDS: [&str; 15] = [
    "execs",
    "ok",
    "refused",
    "other_errors",
    "panics",
    "contained_panics",
    "hangs",
    "over_cap",
    "crashes",
    "peak_bytes",
    "slowest_us",
    "wall_ms",
    "max_rss_kb",
    "corpus_added",
    "",
];

impl Stats {
    fn get(&mut self, k: &str) -> Option<&mut u64> {
        Some(match k {
            "execs" => &mut self.execs,
            "ok" => &mut self.ok,
            "refused" => &mut self.refused,
            "other_errors" => &mut self.other_errors,
            "panics" => &mut self.panics,
            "contained_panics" => &mut self.contained_panics,
            "hangs" => &mut self.hangs,
            "over_cap" => &mut self.over_cap,
            "crashes" => &mut self.crashes,
            "peak_bytes" => &mut self.peak_bytes,
            "slowest_us" => &mut self.slowest_us,
            "wall_ms" => &mut self.wall_ms,
            "max_rss_kb" => &mut self.max_rss_kb,
            "corpus_added" => &mut self.corpus_added,
            _ => return None,
        })
    }

    pub fn to_kv(&self) -> String {
        let mut c = self.clone();
        FIELDS
            .iter()
            .filter(|f| !f.is_empty())
            .map(|f| format!("{f}={}", c.get(f).unwrap()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn from_kv(s: &str) -> Stats {
        let mut st = Stats::default();
        for kv in s.split_whitespace() {
            if let Some((k, v)) = kv.split_once('=') {
                if let (Some(f), Ok(v)) = (st.get(k), v.parse()) {
                    *f = v;
                }
            }
        }
        st
    }

    fn merge(&mut self, o: &Stats) {
        for f in FIELDS.iter().filter(|f| !f.is_empty()) {
            let v = *o.clone().get(f).unwrap();
            let mine = self.get(f).unwrap();
            if matches!(*f, "peak_bytes" | "slowest_us" | "max_rss_kb") {
                *mine = (*mine).max(v);
            } else {
                *mine += v;
            }
        }
    }

    pub fn findings(&self) -> u64 {
        self.panics + self.hangs + self.over_cap + self.crashes
    }

    pub fn execs_per_s(&self) -> f64 {
        self.execs as f64 / (self.wall_ms.max(1) as f64 / 1000.0)
    }
}

fn max_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// An error message with its numbers and quoted names masked: what kind of refusal it is.
fn error_class(msg: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut last_hash = false;
    for ch in msg.chars().take(400) {
        if quote == Some(ch) {
            quote = None;
            out.push(ch);
            continue;
        }
        if quote.is_some() {
            continue;
        }
        if ch == '"' || ch == '`' {
            quote = Some(ch);
            out.push(ch);
            continue;
        }
        if ch.is_ascii_digit() {
            if !last_hash {
                out.push('#');
            }
            last_hash = true;
        } else {
            out.push(ch);
            last_hash = false;
        }
    }
    out.chars().take(160).collect()
}

fn exec_rng(seed: u64, target: &str, exec: u64) -> ChaCha8Rng {
    // FNV-1a of the target name, so that targets explore differently under one seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in target.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&h.to_le_bytes());
    s[16..24].copy_from_slice(&exec.to_le_bytes());
    ChaCha8Rng::from_seed(s)
}

/// Run one input through a target, outside any campaign (for replays): the result (or the
/// panic message) and the live bytes the execution added at its peak.
pub fn run_once(t: &Target, input: &Input) -> (Result<Outcome, String>, u64) {
    install_panic_hook();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let hard = Config::from_env(0).hard_cap;
    HARD_CAP.store(hard, Ordering::Relaxed);
    CEILING.store(base.saturating_add(hard as i64), Ordering::Relaxed);
    IN_FUZZ.store(true, Ordering::Relaxed);
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| (t.run)(input)));
    IN_FUZZ.store(false, Ordering::Relaxed);
    CEILING.store(i64::MAX, Ordering::Relaxed);
    let peak = (PEAK.load(Ordering::Relaxed) - base).max(0) as u64;
    (r.map_err(|_| last_panic()), peak)
}

/// At most `n` characters of a message, and its length if longer.
pub fn clip(msg: &str, n: usize) -> String {
    if msg.chars().count() <= n {
        msg.to_string()
    } else {
        let head: String = msg.chars().take(n).collect();
        format!("{head}... ({} bytes in all)", msg.len())
    }
}

/// Executions `cfg.start..cfg.end` in this process.
pub fn run_worker(t: &Target, cfg: &Config, report_progress: bool) -> Stats {
    install_panic_hook();
    let dir = cfg.out.join(t.name);
    let _ = std::fs::create_dir_all(&dir);
    let shared = Arc::new(Shared {
        target: t.name,
        parts: t.parts,
        dir: dir.clone(),
        current: Mutex::new((0, Vec::new())),
        started: AtomicU64::new(0),
        started_cpu: AtomicU64::new(0),
        epoch: Instant::now(),
        stop: AtomicBool::new(false),
    });
    let dog = watchdog(shared.clone(), cfg.timeout);
    HARD_CAP.store(cfg.hard_cap, Ordering::Relaxed);
    *CURRENT.lock().unwrap() = Some(shared.clone());

    // The corpus: the seeds, then what earlier executions added (from disk when resuming).
    let corpus_dir = dir.join("corpus");
    let mut extra: Vec<Input> = Vec::new();
    let mut classes: BTreeSet<String> = BTreeSet::new();
    if cfg.persist && cfg.start > 0 {
        let mut entries: Vec<(u64, PathBuf)> = std::fs::read_dir(&corpus_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let n: u64 = e.file_name().to_str()?.parse().ok()?;
                (n < cfg.start).then(|| (n, e.path()))
            })
            .collect();
        entries.sort();
        for (_, p) in entries {
            extra.push(load_input(&p, t.parts));
            if let Ok(c) = std::fs::read_to_string(p.join("class.txt")) {
                classes.insert(c.trim_end_matches('\n').to_string());
            }
        }
    }

    let mut st = Stats::default();
    let mut saved_contained = 0;
    let mut panic_kinds: std::collections::BTreeMap<String, u32> = Default::default();
    let mut saved_other = 0;
    let t0 = Instant::now();
    for exec in cfg.start..cfg.end {
        let mut rng = exec_rng(cfg.seed, t.name, exec);
        let pool = t.seeds.len() + extra.len();
        let base = if !extra.is_empty() && rng.random_bool(0.5) {
            &extra[rng.random_range(0..extra.len())]
        } else {
            &t.seeds[rng.random_range(0..t.seeds.len())]
        };
        let d = rng.random_range(0..pool);
        let donor = if d < t.seeds.len() {
            &t.seeds[d]
        } else {
            &extra[d - t.seeds.len()]
        };
        let mut input = base.clone();
        (t.mutate)(&mut rng, &mut input, donor);
        {
            let mut cur = shared.current.lock().unwrap();
            cur.0 = exec;
            cur.1.clone_from(&input);
        }
        if cfg.save_each {
            save_input(
                &dir.join("current"),
                t.name,
                t.parts,
                &input,
                &format!("execution {exec}"),
            );
        }

        let base_live = LIVE.load(Ordering::Relaxed);
        PEAK.store(base_live, Ordering::Relaxed);
        let panics_before = PANICS.load(Ordering::Relaxed);
        IN_FUZZ.store(true, Ordering::Relaxed);
        CEILING.store(
            base_live.saturating_add(cfg.hard_cap as i64),
            Ordering::Relaxed,
        );
        shared
            .started_cpu
            .store(process_cpu_ms(), Ordering::Relaxed);
        shared.started.store(
            shared.epoch.elapsed().as_millis() as u64 + 1,
            Ordering::Relaxed,
        );
        let started = Instant::now();
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| (t.run)(&input)));
        let took = started.elapsed();
        shared.started.store(0, Ordering::Relaxed);
        CEILING.store(i64::MAX, Ordering::Relaxed);
        IN_FUZZ.store(false, Ordering::Relaxed);
        let peak = (PEAK.load(Ordering::Relaxed) - base_live).max(0) as u64;
        let hook_panics = PANICS.load(Ordering::Relaxed) - panics_before;

        st.execs += 1;
        st.peak_bytes = st.peak_bytes.max(peak);
        st.slowest_us = st.slowest_us.max(took.as_micros() as u64);
        match r {
            Err(_) => {
                st.panics += 1;
                st.contained_panics += hook_panics.saturating_sub(1);
                let msg = last_panic();
                // A few reproducers per kind of panic (its location and message, numbers
                // masked), all of them counted.
                let seen = panic_kinds.entry(error_class(&msg)).or_insert(0u32);
                *seen += 1;
                if *seen <= 3 && panic_kinds.len() <= 100 {
                    let dir = shared.save("panic", exec, &input, &msg);
                    println!(
                        "FUZZ-FINDING {} panic exec={exec} {}: {}",
                        t.name,
                        dir.display(),
                        clip(&msg.replace('\n', " "), 300)
                    );
                }
            }
            Ok(outcome) => {
                if hook_panics > 0 {
                    st.contained_panics += hook_panics;
                    if saved_contained < 20 {
                        saved_contained += 1;
                        let msg = last_panic();
                        shared.save("contained", exec, &input, &msg);
                    }
                }
                match outcome {
                    Outcome::Ok => st.ok += 1,
                    Outcome::Err(e) => {
                        if e.kind == lifb_hdl::error::ErrorKind::BadInput {
                            st.refused += 1;
                        } else {
                            st.other_errors += 1;
                            if saved_other < 20 {
                                saved_other += 1;
                                shared.save(
                                    "other-error",
                                    exec,
                                    &input,
                                    &format!("{:?}: {}", e.kind, e.message),
                                );
                            }
                        }
                        let class = error_class(&e.message);
                        if !classes.contains(&class) && extra.len() < 1024 {
                            classes.insert(class.clone());
                            if cfg.persist {
                                let p = corpus_dir.join(format!("{exec:09}"));
                                save_input(&p, t.name, t.parts, &input, "corpus");
                                let _ = std::fs::write(p.join("class.txt"), &class);
                            }
                            extra.push(input.clone());
                            st.corpus_added += 1;
                        }
                    }
                }
            }
        }
        if peak > cfg.soft_cap {
            st.over_cap += 1;
            if st.over_cap <= 20 {
                let dir = shared.save(
                    "overcap",
                    exec,
                    &input,
                    &format!("the execution's live memory peaked at {peak} bytes"),
                );
                println!(
                    "FUZZ-FINDING {} over-cap exec={exec} {}: {peak} bytes",
                    t.name,
                    dir.display()
                );
            }
        }
        if report_progress && (exec + 1) % cfg.progress_every == 0 {
            st.wall_ms = t0.elapsed().as_millis() as u64;
            st.max_rss_kb = max_rss_kb();
            println!("FUZZ-PROGRESS {} next={} {}", t.name, exec + 1, st.to_kv());
        }
    }
    st.wall_ms = t0.elapsed().as_millis() as u64;
    st.max_rss_kb = max_rss_kb();
    shared.stop.store(true, Ordering::Relaxed);
    *CURRENT.lock().unwrap() = None;
    let _ = dog.join();
    st
}

/// Run a campaign: the short slice in this process, or (LIFB_FUZZ_EXECS set) the long one in
/// worker processes that the supervisor restarts after a finding that ended one.
/// `test_name` is this campaign's test function (the worker runs it alone).
pub fn campaign(t: &Target, test_name: &str, slice: u64) -> Stats {
    let cfg = Config::from_env(slice);
    if std::env::var_os("LIFB_FUZZ_WORKER").is_some() {
        let st = run_worker(t, &cfg, true);
        println!("FUZZ-RESULT {} {}", t.name, st.to_kv());
        return st;
    }
    if std::env::var_os("LIFB_FUZZ_EXECS").is_none() {
        let _ = std::fs::remove_dir_all(cfg.out.join(t.name));
        return run_worker(t, &cfg, false);
    }
    supervise(t, test_name, &cfg)
}

fn spawn_worker(test_name: &str, cfg: &Config, start: u64, save_each: bool) -> std::process::Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut c = std::process::Command::new(exe);
    c.args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env("LIFB_FUZZ_WORKER", "1")
        .env("LIFB_FUZZ_START", start.to_string())
        .env("LIFB_FUZZ_EXECS", cfg.end.to_string())
        .env("LIFB_FUZZ_SEED", cfg.seed.to_string())
        .env("LIFB_FUZZ_OUT", &cfg.out)
        .env("LIFB_FUZZ_TIMEOUT_MS", cfg.timeout.as_millis().to_string())
        .env("LIFB_FUZZ_MEM_CAP", cfg.soft_cap.to_string())
        .env("LIFB_FUZZ_MEM_HARD", cfg.hard_cap.to_string())
        .stdout(std::process::Stdio::piped());
    if save_each {
        c.env("LIFB_FUZZ_SAVE_EACH", "1");
    } else {
        c.env_remove("LIFB_FUZZ_SAVE_EACH");
    }
    c.spawn().expect("starting a fuzz worker")
}

/// Read a worker's output: the last progress (next execution, figures) and the result.
fn follow(child: &mut std::process::Child, name: &str) -> (Option<(u64, Stats)>, Option<Stats>) {
    let out = child.stdout.take().expect("piped stdout");
    let mut progress = None;
    let mut result = None;
    for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
        // The test harness prints "test <name> ... " without a line end: look inside lines.
        let at = |m: &str| line.find(m).map(|i| &line[i + m.len()..]);
        if let Some(rest) = at("FUZZ-PROGRESS ") {
            let mut it = rest.splitn(3, ' ');
            let (_, next, kv) = (it.next(), it.next(), it.next().unwrap_or(""));
            if let Some(n) = next.and_then(|n| n.strip_prefix("next=")?.parse().ok()) {
                let st = Stats::from_kv(kv);
                if n % (1 << 17) == 0 {
                    println!(
                        "fuzz {name}: {n} executions, {:.0}/s in this worker, {} findings",
                        st.execs_per_s(),
                        st.findings()
                    );
                }
                progress = Some((n, st));
            }
        } else if let Some(rest) = at("FUZZ-RESULT ") {
            result = Some(Stats::from_kv(rest.split_once(' ').map_or("", |x| x.1)));
        } else if let Some(rest) = at("FUZZ-FINDING ") {
            println!("FUZZ-FINDING {rest}");
        }
    }
    (progress, result)
}

/// Run executions `cfg.start..cfg.end` in worker processes (the test `test_name` of this binary,
/// which must call [`campaign`] with the same target), restarting after each finding that ends
/// one.
pub fn supervise(t: &Target, test_name: &str, cfg: &Config) -> Stats {
    let dir = cfg.out.join(t.name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the fuzz output folder");
    let mut total = Stats::default();
    let mut start = cfg.start;
    let wall = Instant::now();
    while start < cfg.end {
        let mut child = spawn_worker(test_name, cfg, start, false);
        let (progress, result) = follow(&mut child, t.name);
        let status = child.wait().expect("waiting for a fuzz worker");
        if let (true, Some(r)) = (status.success(), &result) {
            total.merge(r);
            break;
        }
        assert!(
            !status.success(),
            "the fuzz worker for {test_name} ended without figures (is the test name right?)"
        );
        // The worker ended early. Its figures up to the last progress line count; the
        // executions after it are counted by number.
        let (from, part) = progress.unwrap_or((start, Stats::default()));
        total.merge(&part);
        let marker = dir.join("ABORTED");
        let (kind, exec, path) = match std::fs::read_to_string(&marker) {
            Ok(m) => {
                let _ = std::fs::remove_file(&marker);
                let mut it = m.trim().splitn(3, ' ');
                let kind = it.next().unwrap_or("?").to_string();
                let exec: u64 = it.next().and_then(|e| e.parse().ok()).unwrap_or(from);
                (kind, exec, it.next().unwrap_or("").to_string())
            }
            Err(_) => {
                // No word from the worker (a signal, a stack overflow): replay from the last
                // progress with every input written first, to find the execution.
                let mut c = spawn_worker(test_name, cfg, from, true);
                let _ = follow(&mut c, t.name);
                let _ = c.wait();
                let cur = dir.join("current");
                let note = std::fs::read_to_string(cur.join("note.txt")).unwrap_or_default();
                let exec: u64 = note
                    .trim()
                    .strip_prefix("execution ")
                    .and_then(|e| e.parse().ok())
                    .expect("the replay with every input saved did not crash again");
                let to = dir.join(format!("crash-{exec:09}"));
                let _ = std::fs::rename(&cur, &to);
                let _ = std::fs::remove_file(&marker);
                ("crash".to_string(), exec, to.display().to_string())
            }
        };
        println!(
            "FUZZ-FINDING {} {kind} exec={exec} {path}: {status}",
            t.name
        );
        total.execs += exec + 1 - from;
        match kind.as_str() {
            "hang" => total.hangs += 1,
            "overcap-hard" => total.over_cap += 1,
            _ => total.crashes += 1,
        }
        start = exec + 1;
    }
    let corpus = std::fs::read_dir(dir.join("corpus"))
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    total.corpus_added = corpus;
    let line = format!(
        "{}: {} executions in {:.1} s ({:.0}/s), {} accepted, {} refused (exit 2), {} other errors, {} panics, {} contained panics, {} hangs, {} over the memory cap, {} crashes; peak live memory of one execution {} bytes, peak RSS {} kB, slowest execution {} us, {} corpus additions; seed {}",
        t.name,
        total.execs,
        total.wall_ms as f64 / 1000.0,
        total.execs_per_s(),
        total.ok,
        total.refused,
        total.other_errors,
        total.panics,
        total.contained_panics,
        total.hangs,
        total.over_cap,
        total.crashes,
        total.peak_bytes,
        total.max_rss_kb,
        total.slowest_us,
        total.corpus_added,
        cfg.seed,
    );
    println!(
        "FUZZ-SUMMARY {line} (supervised wall time {:.1} s)",
        wall.elapsed().as_secs_f64()
    );
    let _ = std::fs::write(dir.join("summary.txt"), format!("{line}\n"));
    total
}
