//! Spreading long runs over many machines (docs/scale-out.md): work is a deterministic list of
//! items (design points of a sweep, random networks of a verification campaign) split into
//! shards ([`Shard`]); each shard runs on its own, anywhere, and writes its results next to the
//! others on shared storage; a merge gathers them. The schedulers are the user's own (Slurm job
//! arrays, Kubernetes Indexed Jobs: [`emit`] writes their job files); shared storage is the only
//! coupling between shards, and [`cache`] keeps finished results so no item is done twice.

pub mod cache;
pub mod emit;

use crate::error::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where the shards of a sharded run put their results, inside the run's output folder.
pub const SHARD_DIR: &str = "shards";

/// Shard `index` of `count` (0-based): it takes the items `i` with `i % count == index`, so every
/// shard gets a similar mix of the list (a sweep lists its heavy points together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// The most shards a run may be split into (a larger count is surely a typo).
pub const MAX_SHARDS: usize = 100_000;

impl Shard {
    /// The whole list as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parse `I/N` (0 <= I < N).
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = |why: &str| {
            Error::bad_input(format!(
                "--shard '{text}': {why}; give it as I/N with 0 <= I < N (shard 0/4 is the first of four)"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(|| bad("there is no '/'"))?;
        let index: usize = i.trim().parse().map_err(|_| bad("I is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        Shard::new(index, count).map_err(|e| bad(&e.message))
    }

    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || count > MAX_SHARDS {
            return Err(Error::bad_input(format!(
                "the shard count must be 1..={MAX_SHARDS}, got {count}"
            )));
        }
        if index >= count {
            return Err(Error::bad_input(format!(
                "shard index {index} is not below the shard count {count}"
            )));
        }
        Ok(Shard { index, count })
    }

    /// The shard a scheduler gave this process, from its environment:
    /// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` (less `SLURM_ARRAY_TASK_MIN`, so `--array=1-4`
    ///   works too) of `SLURM_ARRAY_TASK_COUNT`;
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` of `LIFB_SHARDS` (a Job does not tell
    ///   its pods the completion count; the emitted manifest sets it).
    ///
    /// None when neither is set.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Shard>> {
        let num = |name: &str| -> Result<Option<usize>> {
            match get(name) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| {
                    Error::bad_input(format!(
                        "the environment variable {name}='{v}' is not a whole number"
                    ))
                }),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                Error::bad_input(
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; submit with sbatch --array=0-(N-1), or give --shard I/N",
                )
            })?;
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let index = id.checked_sub(min).ok_or_else(|| {
                Error::bad_input(format!(
                    "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                ))
            })?;
            return Shard::new(index, count)
                .map(Some)
                .map_err(|e| e.context("the shard from Slurm's array variables"));
        }
        if let Some(index) = num("JOB_COMPLETION_INDEX")? {
            let count = num("LIFB_SHARDS")?.ok_or_else(|| {
                Error::bad_input(
                    "JOB_COMPLETION_INDEX is set but LIFB_SHARDS (the Job's completions) is not; set it in the Job's environment, or give --shard I/N",
                )
            })?;
            return Shard::new(index, count)
                .map(Some)
                .map_err(|e| e.context("the shard from JOB_COMPLETION_INDEX and LIFB_SHARDS"));
        }
        Ok(None)
    }

    /// `--shard` if given, else the scheduler's environment, else the whole list.
    pub fn resolve(given: Option<&str>) -> Result<Shard> {
        match given {
            Some(t) => Shard::parse(t),
            None => Ok(Shard::from_env(&|k| std::env::var(k).ok())?.unwrap_or(Shard::ALL)),
        }
    }

    /// Whether item `i` of the list belongs to this shard.
    pub fn owns(self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// The file in which the shard of a sharded run with output folder `out` leaves its results:
    /// `OUT/shards/shard-0003-of-0010.json`.
    pub fn result_file(self, out: &Path) -> PathBuf {
        out.join(SHARD_DIR)
            .join(format!("{}.json", self.file_stem()))
    }

    /// The shard's file name stem: `shard-0003-of-0010` (sorts in order).
    pub fn file_stem(self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_ownership() {
        let s = Shard::parse("2/4").unwrap();
        assert_eq!(s, Shard { index: 2, count: 4 });
        assert_eq!(s.to_string(), "2/4");
        let owned: Vec<usize> = (0..10).filter(|&i| s.owns(i)).collect();
        assert_eq!(owned, [2, 6]);
        // every item belongs to exactly one shard
        for i in 0..50 {
            assert_eq!(
                (0..4)
                    .filter(|&k| Shard::new(k, 4).unwrap().owns(i))
                    .count(),
                1
            );
        }
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3", "1/x"] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(e.message.contains("I/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn environment_of_slurm_and_kubernetes() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::from_env(&slurm).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        let from_one = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]);
        assert_eq!(
            Shard::from_env(&from_one).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0"), ("LIFB_SHARDS", "8")]);
        assert_eq!(
            Shard::from_env(&k8s).unwrap(),
            Some(Shard { index: 0, count: 8 })
        );
        assert_eq!(Shard::from_env(&env(&[])).unwrap(), None);
        let no_count = env(&[("JOB_COMPLETION_INDEX", "1")]);
        assert!(Shard::from_env(&no_count)
            .unwrap_err()
            .message
            .contains("LIFB_SHARDS"));
        let past = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(Shard::from_env(&past).is_err());
    }
}
