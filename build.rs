//! Records the git commit the executable is built from (LIFB_HDL_GIT_COMMIT), for the
//! reproducibility block of reports. Outside a git checkout, or without git, nothing is recorded
//! and the build goes on.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let Some(commit) = git(&dir, &["rev-parse", "--verify", "HEAD"]) else {
        return;
    };
    if !commit.chars().all(|c| c.is_ascii_hexdigit()) {
        return;
    }
    println!("cargo:rustc-env=LIFB_HDL_GIT_COMMIT={commit}");
    // Build again when HEAD moves: the file HEAD (a checkout) and the branch it names (a commit).
    let mut watched = vec!["HEAD".to_string()];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(p) = git(&dir, &["rev-parse", "--git-path", &name]) {
            let p = dir.join(p);
            if p.is_file() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}
