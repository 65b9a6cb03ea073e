//! Where a run's input samples come from: a built-in data set, an input file (values, or per-step
//! trains), or seeded random samples. Flow and sweep take one [`InputSource`];
//! [`InputSource::load`] turns it into [`Inputs`]: the integer inputs the golden models and the
//! RTL see, and the labels when the source has them (a file may have none, random samples never
//! do). Per-step trains make the network take its input per step ([`per_step_network`]).

use crate::data::{self, eval, DataSetKind, Split};
use crate::error::{Error, Result};
use crate::inputs::{InputFile, TrainRules};
use crate::ir::{Encoding, IntNetwork, Network};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// The samples of a run (a sweep plan records it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputSource {
    /// The test split of a data set: `kind` (None: the model's own, from its meta "dataset", else
    /// by its input size), fetched sets under `dir`.
    Dataset {
        kind: Option<DataSetKind>,
        dir: PathBuf,
    },
    /// An input file (docs/file-formats.md, "Input set" and "Input trains"); labels optional.
    File(PathBuf),
    /// `n` seeded random samples: each input 0 with probability 1/2, else uniform in 0..=max.
    /// No labels.
    Random { n: usize, seed: u64 },
}

impl Default for InputSource {
    /// The model's own data set (its shipped sample), as `lifb-hdl flow` uses with no option.
    fn default() -> Self {
        InputSource::Dataset {
            kind: None,
            dir: PathBuf::from("data"),
        }
    }
}

/// A run's samples, as the integer models and the RTL take them.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// What they are, for summaries and the report: "mnist-sample images", "samples of
    /// inputs.json", "random samples (seed 1)".
    pub what: String,
    /// One integer input vector per sample (values 0..=the model's input maximum); for per-step
    /// trains T x N values, step-major.
    pub int: Vec<Vec<u32>>,
    /// The class of every sample, when the source has labels.
    pub labels: Option<Vec<u32>>,
    /// Some(T) for per-step trains: the run has their T steps and the network takes its input
    /// per step ([`per_step_network`]).
    pub train_steps: Option<u32>,
}

impl Inputs {
    pub fn len(&self) -> usize {
        self.int.len()
    }

    pub fn is_empty(&self) -> bool {
        self.int.is_empty()
    }

    /// "500 mnist-sample images", "20 random samples (seed 1)".
    pub fn describe(&self) -> String {
        format!("{} {}", self.len(), self.what)
    }

    /// The samples as the float model sees them: each integer input back in [0, 1] (v / max),
    /// so the float model is evaluated on the inputs its integer model gets.
    pub fn float(&self, input_max: u32) -> Vec<Vec<f32>> {
        let m = input_max.max(1) as f32;
        self.int
            .iter()
            .map(|x| x.iter().map(|&v| v as f32 / m).collect())
            .collect()
    }

    /// Keep only the first `n` samples.
    pub fn truncate(&mut self, n: usize) {
        self.int.truncate(n);
        if let Some(l) = &mut self.labels {
            l.truncate(n);
        }
    }
}

impl InputSource {
    /// One line for progress output: "the mnist-sample test images", "inputs.json", ...
    pub fn describe(&self) -> String {
        match self {
            InputSource::Dataset { kind: Some(k), .. } => format!("the {} test images", k.name()),
            InputSource::Dataset { kind: None, .. } => "the model's data set".into(),
            InputSource::File(p) => p.display().to_string(),
            InputSource::Random { n, seed } => format!("{n} random samples (seed {seed})"),
        }
    }

    /// The samples for `int` (at most `limit`), checked against its input size and range.
    /// `steps` are the run's time steps (given on the command line, else the model's): trains
    /// without their own T take them, trains with a T must agree with the given ones.
    pub fn load(&self, int: &IntNetwork, limit: Option<usize>, steps: RunSteps) -> Result<Inputs> {
        let fx = int
            .fixed
            .as_ref()
            .ok_or_else(|| Error::bad_input(format!("{}: not an integer network", int.name)))?;
        let n_in = int.input.shape.len();
        let mut inputs = match self {
            InputSource::Dataset { kind, dir } => {
                let kind = kind.unwrap_or_else(|| default_data(int));
                let ds = data::load(kind, Split::Test, dir)?;
                if ds.shape.len() != n_in {
                    return Err(Error::bad_input(format!(
                        "data set {} has {} values per image, the model takes {n_in}; choose \
                         --data, or give the samples with --inputs FILE or --random N",
                        ds.name,
                        ds.shape.len(),
                    )));
                }
                Inputs {
                    what: format!("{} images", ds.name),
                    int: eval::int_inputs(&ds, fx.input_bits),
                    labels: Some(ds.labels.iter().map(|&l| l as u32).collect()),
                    train_steps: None,
                }
            }
            InputSource::File(p) => {
                let max = fx.input_max();
                let rules = TrainRules {
                    inputs: n_in,
                    max,
                    input_bits: fx.input_bits,
                    steps_given: steps.given,
                    steps_default: steps.default,
                };
                match InputFile::read(p, &rules)? {
                    InputFile::Values(set) => Inputs {
                        what: format!("samples of {}", file_name(p)),
                        int: set
                            .samples
                            .iter()
                            .map(|s| crate::golden::encode::int_inputs(s, max))
                            .collect(),
                        labels: set.labels,
                        train_steps: None,
                    },
                    InputFile::Trains(t) => {
                        per_step_network(int)?;
                        Inputs {
                            what: format!("per-step trains of {}", file_name(p)),
                            int: t.counts,
                            labels: t.labels,
                            train_steps: Some(t.steps),
                        }
                    }
                }
            }
            InputSource::Random { n, seed } => Inputs {
                what: format!("random samples (seed {seed})"),
                int: random_inputs(int, *n, *seed)?,
                labels: None,
                train_steps: None,
            },
        };
        if let Some(n) = limit {
            inputs.truncate(n);
        }
        if inputs.is_empty() {
            return Err(Error::bad_input(format!(
                "{} gives no samples to evaluate (--limit 0 or --random 0?)",
                self.describe()
            )));
        }
        Ok(inputs)
    }
}

/// The time steps of a run before its inputs are read: given on the command line, and the
/// default (the model's recorded steps, else 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSteps {
    pub given: Option<u32>,
    pub default: u32,
}

impl RunSteps {
    /// The steps of a run with these inputs: the trains' T, else the given or default steps.
    pub fn of(self, inputs: &Inputs) -> u32 {
        inputs.train_steps.or(self.given).unwrap_or(self.default)
    }
}

/// The network that takes per-step trains: `net` with its input given per step
/// ([`Encoding::Steps`]). Only a direct-coded network (or one that already takes trains) can:
/// a train replaces the values a direct encoding would repeat at every step; rate and burst
/// coding make their own per-step values from a sample.
pub fn per_step_network<T: Clone>(net: &Network<T>) -> Result<Network<T>> {
    match net.input.encoding {
        Encoding::Direct | Encoding::Steps => {
            let mut n = net.clone();
            n.input.encoding = Encoding::Steps;
            Ok(n)
        }
        other => Err(Error::bad_input(format!(
            "{}: the model codes its inputs as {other}; per-step input trains replace a direct \
             encoding only. Give it values in [0, 1] ({{\"samples\": ...}}) instead",
            net.name
        ))),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
}

/// `n` seeded random integer samples for `net`: each input 0 with probability 1/2, else uniform
/// in 0..=the input maximum (sparse, like images and spike inputs). The memory they take is
/// checked first.
pub fn random_inputs(net: &IntNetwork, n: usize, seed: u64) -> Result<Vec<Vec<u32>>> {
    use crate::cli::limits;
    limits::count("--random", n, limits::MAX_SAMPLES)?;
    limits::buffer(
        "--random samples",
        limits::input_bytes(net, n),
        "lower --random",
    )?;
    let max = net.fixed.as_ref().map_or(1, |f| f.input_max());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Ok((0..n)
        .map(|_| {
            (0..net.input.shape.len())
                .map(|_| {
                    if rng.random_bool(0.5) {
                        0
                    } else {
                        rng.random_range(0..=max)
                    }
                })
                .collect()
        })
        .collect())
}

/// The model's own data set: its meta "dataset", else the digits for 64 inputs, else MNIST.
fn default_data(net: &IntNetwork) -> DataSetKind {
    match net.meta.get("dataset").and_then(|v| v.as_str()) {
        Some("digits") => DataSetKind::Digits,
        _ if net.input.shape.len() == 64 => DataSetKind::Digits,
        _ => DataSetKind::MnistSample,
    }
}
