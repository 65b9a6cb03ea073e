//! What it takes to repeat a run: the command line, the lifb-hdl version and git commit, and
//! the versions of the tools the run used.

use serde::{Deserialize, Serialize};

/// The reproducibility block of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reproducibility {
    /// The run's command line, quoted for a POSIX shell.
    pub command: String,
    /// lifb-hdl's version (Cargo.toml).
    pub version: String,
    /// The git commit the executable was built from; None when it was not built in a git
    /// checkout. Uncommitted changes in that checkout are not recorded.
    pub git_commit: Option<String>,
    /// Each external tool, as its own version output states it.
    pub tools: Vec<ToolVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolVersion {
    pub tool: String,
    pub version: String,
}

/// lifb-hdl's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit this executable was built from (build.rs), if it was built in a checkout.
pub const GIT_COMMIT: Option<&str> = option_env!("LIFB_HDL_GIT_COMMIT");

impl Reproducibility {
    /// This process's command line, version and commit, with the given tool versions.
    pub fn of_this_process(tools: Vec<ToolVersion>) -> Reproducibility {
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        Reproducibility {
            command: shell_words(&args),
            version: VERSION.to_string(),
            git_commit: GIT_COMMIT.map(str::to_string),
            tools,
        }
    }
}

/// The arguments as one line a POSIX shell splits back into the same arguments: a word of
/// safe characters stays as it is, any other is single-quoted.
pub fn shell_words(args: &[String]) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    args.iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(safe) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips_through_a_shell_split() {
        let args: Vec<String> = ["lifb-hdl", "flow", "--out", "my run", "it's", "", "a=b,c"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            shell_words(&args),
            "lifb-hdl flow --out 'my run' 'it'\\''s' '' a=b,c"
        );
        let r = Reproducibility::of_this_process(vec![]);
        assert_eq!(r.version, env!("CARGO_PKG_VERSION"));
        assert!(!r.command.is_empty());
        if let Some(c) = &r.git_commit {
            assert!(
                c.len() >= 40 && c.chars().all(|c| c.is_ascii_hexdigit()),
                "{c}"
            );
        }
    }
}
