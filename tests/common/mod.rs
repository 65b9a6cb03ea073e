//! Helpers shared by the integration tests: the binary under test, scratch directories that
//! clean up after themselves, fixtures, and one skip policy for missing external tools.
#![allow(dead_code)]

pub mod conv;
pub mod json_schema;
pub mod networks;
pub mod nir_reference;

#[allow(unused_imports)] // each test binary uses a part
pub use networks::*;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The crate root (the folder of Cargo.toml).
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The lifb-hdl binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifb-hdl"))
}

/// Run the binary from the crate root (so that relative example paths resolve and the
/// Verilator build cache target/lifb-cosim is shared between runs).
pub fn lifb(args: &[&str]) -> Output {
    bin().current_dir(ROOT).args(args).output().unwrap()
}

/// A generated design's file, to plant a fault in (the file must exist).
pub fn design_file_mut<'a>(d: &'a mut lifb_hdl::codegen::Design, name: &str) -> &'a mut Vec<u8> {
    &mut d
        .files
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("the design has no file {name}"))
        .1
}

/// The standard output of a run that must have succeeded; a failure shows both streams.
pub fn ok(o: &Output) -> String {
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A run's report.json, checked against the published schema (docs/report.schema.json).
pub fn checked_report(out: &Path) -> serde_json::Value {
    let report = read_json(&out.join("report.json"));
    let schema = read_json(&Path::new(ROOT).join("docs/report.schema.json"));
    let errors = json_schema::validate(&schema, &schema, &report, "report");
    assert!(errors.is_empty(), "{errors:#?}");
    report
}

/// The Verilator build cache of the library-level co-simulation tests (relative to the crate
/// root, which is the current folder of a test).
pub fn cosim_cache() -> PathBuf {
    PathBuf::from("target").join("lifb-cosim-test")
}

/// A shipped example (examples/NAME).
pub fn example(name: &str) -> PathBuf {
    Path::new(ROOT).join("examples").join(name)
}

pub fn fixture(parts: &[&str]) -> PathBuf {
    let mut p = Path::new(ROOT).join("tests/fixtures");
    for part in parts {
        p = p.join(part);
    }
    p
}

/// A fresh, empty directory in the system's temporary folder (`lifb-NAME-PID-N`), removed with
/// everything in it when dropped, also when the test fails. It reads as a path: to the
/// directory ([`Scratch::new`]) or to a file name inside it ([`Scratch::file`]).
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
    target: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lifb-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch {
            target: dir.clone(),
            dir,
        }
    }

    /// A scratch directory that reads as the path of `file` inside it (not created).
    pub fn file(name: &str, file: &str) -> Scratch {
        let s = Scratch::new(name);
        Scratch {
            target: s.dir.join(file),
            dir: s.dir.clone(),
        }
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.target
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.target
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.target.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// True when the EDA tools must be present (CI after scripts/setup.sh): a missing tool fails the test.
pub fn eda_required() -> bool {
    std::env::var("LIFB_REQUIRE_EDA").is_ok_and(|v| v == "1")
}

/// The one skip policy for a missing external tool (simulators, synthesis tools, Chromium, the
/// Python nir package): the test says so loudly on stderr and passes, or fails when
/// LIFB_REQUIRE_EDA=1 (CI, after scripts/setup.sh installed everything).
pub fn skip(test: &str, why: &str) {
    skip_unless_required("LIFB_REQUIRE_EDA", test, why, "scripts/setup.sh");
}

/// [`skip`] for a dependency with its own requirement variable (`var`=1 makes a skip a failure)
/// and its own setup command.
pub fn skip_unless_required(var: &str, test: &str, why: &str, setup: &str) {
    if std::env::var(var).is_ok_and(|v| v == "1") {
        panic!("{test}: {why} ({var}=1, so this is a failure; run {setup})");
    }
    eprintln!("\n*** SKIPPED {test}: {why}. Run {setup} to install it ({var}=1 makes this a failure). ***\n");
}

/// Whether an external tool runs (`TOOL --version`, `-V` for iverilog); if not, the test is
/// skipped by [`skip`]'s policy (a failure under LIFB_REQUIRE_EDA=1).
pub fn have_tool(tool: &str) -> bool {
    let flag = if tool == "iverilog" {
        "-V"
    } else {
        "--version"
    };
    let ok = Command::new(tool)
        .arg(flag)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(tool, &format!("{tool} is not installed"));
    }
    ok
}

/// Whether all of these tools run; each missing one is reported by [`have_tool`].
pub fn have_tools(tools: &[&str]) -> bool {
    let mut all = true;
    for t in tools {
        all &= have_tool(t);
    }
    all
}

/// sweep.json with each variant's RTL folder made relative to its sweep's output folder (so that
/// sweeps into different folders compare equal).
pub fn sweep_rows(out: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    let prefix = format!("{}/", out.display());
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let hdl = r["hdl"].as_str().unwrap().to_string();
            assert!(hdl.starts_with(&prefix), "{hdl} not in {prefix}");
            r["hdl"] = serde_json::Value::String(hdl[prefix.len()..].to_string());
            r
        })
        .collect()
}

/// The campaign totals that `verify merge` prints, without the lines that name the shards and
/// their time.
pub fn campaign_totals(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("shard time") && !l.starts_with("campaign of"))
        .collect::<Vec<_>>()
        .join("\n")
}
