//! Helpers shared by the integration tests: the binary under test, scratch directories that
//! clean up after themselves, fixtures, and one skip policy for missing external tools.
#![allow(dead_code)]

pub mod json_schema;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The lifb-hdl binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifb-hdl"))
}

pub fn fixture(parts: &[&str]) -> PathBuf {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for part in parts {
        p = p.join(part);
    }
    p
}

/// A fresh, empty directory for one test, under the target's temporary folder.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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

/// True when the EDA tools must be present (CI after scripts/setup-eda.sh): a missing tool fails the test.
pub fn eda_required() -> bool {
    std::env::var("LIFB_REQUIRE_EDA").is_ok_and(|v| v == "1")
}

/// Skip a test loudly, or fail it when LIFB_REQUIRE_EDA=1.
pub fn skip(test: &str, why: &str) {
    if eda_required() {
        panic!(
            "{test}: {why} (LIFB_REQUIRE_EDA=1, so this is a failure; run scripts/setup-eda.sh)"
        );
    }
    eprintln!("\n*** SKIPPED {test}: {why}. Run scripts/setup-eda.sh to install it (LIFB_REQUIRE_EDA=1 makes this a failure). ***\n");
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
