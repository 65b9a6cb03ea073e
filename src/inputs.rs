//! Input sets for `simulate`, `quantize --calibration` and `cosim --inputs`: a JSON file
//! `{"samples": [[x, ...], ...], "labels": [k, ...]}` with values in [0, 1] (docs/file-formats.md).
//! Integer models turn each value into round(x * input_max).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSet {
    pub samples: Vec<Vec<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<u32>>,
}

const MAX_BYTES: u64 = 1 << 30;

impl InputSet {
    /// Read and check an input set for a network with `input_len` inputs.
    pub fn read(path: &Path, input_len: usize) -> Result<Self> {
        let bytes = crate::util::read_limited(path, MAX_BYTES)?;
        Self::parse(&bytes, input_len, &path.display())
    }

    /// Parse and check an input set from its bytes, as [`InputSet::read`] does with a file.
    pub fn from_bytes(bytes: &[u8], input_len: usize) -> Result<Self> {
        if bytes.len() as u64 > MAX_BYTES {
            return Err(Error::bad_input(format!(
                "the input set is {} bytes, more than the {MAX_BYTES}-byte limit",
                bytes.len()
            )));
        }
        Self::parse(bytes, input_len, &"the input set")
    }

    /// `path` names the input set in messages.
    fn parse(bytes: &[u8], input_len: usize, path: &dyn std::fmt::Display) -> Result<Self> {
        let set: InputSet = serde_json::from_slice(bytes).map_err(|e| {
            Error::bad_input(format!(
                "{path}: not an input set ({e}); expected {{\"samples\": [[values in 0..1]], \"labels\": [..]}}"
            ))
            .with_source(e)
        })?;
        set.check(input_len).map_err(|e| e.context(path))?;
        Ok(set)
    }

    pub fn check(&self, input_len: usize) -> Result<()> {
        if self.samples.is_empty() {
            return Err(Error::bad_input("the input set has no samples"));
        }
        for (i, s) in self.samples.iter().enumerate() {
            if s.len() != input_len {
                return Err(Error::bad_input(format!(
                    "sample {i} has {} values, the model takes {input_len}",
                    s.len()
                )));
            }
            if let Some((j, v)) = s
                .iter()
                .enumerate()
                .find(|(_, v)| !(0.0..=1.0).contains(*v))
            {
                return Err(Error::bad_input(format!(
                    "sample {i} value {j} = {v} is outside [0, 1]"
                )));
            }
        }
        if let Some(l) = &self.labels {
            if l.len() != self.samples.len() {
                return Err(Error::bad_input(format!(
                    "{} labels for {} samples",
                    l.len(),
                    self.samples.len()
                )));
            }
        }
        Ok(())
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::tool(format!("input set: {e}")))?;
        crate::util::write_atomic(path, &bytes)
    }
}

/// Per-step input trains (docs/file-formats.md, "Input trains"): per sample, the integer values
/// the first layer receives at every step, T x N, given as one vector per step or as a list of
/// events. Read by simulate, cosim and flow; a network fed with them takes its input per step
/// (`Encoding::Steps`).
#[derive(Debug, Clone, PartialEq)]
pub struct InputTrains {
    /// Time steps T of every train.
    pub steps: u32,
    /// Inputs N per step.
    pub inputs: usize,
    /// Per sample: T x N counts, step-major (input i at step t is `[t * N + i]`).
    pub counts: Vec<Vec<u32>>,
    pub labels: Option<Vec<u32>>,
}

/// What an input file holds: values in [0, 1] (the same at every step, encoded by the model) or
/// per-step trains.
#[derive(Debug, Clone, PartialEq)]
pub enum InputFile {
    Values(InputSet),
    Trains(InputTrains),
}

/// What a train must fit: the model's inputs per step, the largest count its input width holds,
/// and the run's time steps (given on the command line, else the model's recorded ones).
#[derive(Debug, Clone, Copy)]
pub struct TrainRules {
    pub inputs: usize,
    /// Largest count: 2^input_bits - 1.
    pub max: u32,
    pub input_bits: u32,
    /// --steps, when given: a train's own T must equal it.
    pub steps_given: Option<u32>,
    /// The steps of a train file that does not say (event lists without "steps").
    pub steps_default: u32,
}

/// The file's JSON: one of `samples` (values) or `trains`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    #[serde(default)]
    samples: Option<Vec<Vec<f32>>>,
    #[serde(default)]
    trains: Option<Vec<TrainJson>>,
    #[serde(default)]
    steps: Option<i64>,
    #[serde(default)]
    labels: Option<Vec<u32>>,
}

/// One sample's train as written: T arrays of N counts, or `{"events": [[step, index, count]]}`.
/// Numbers are read signed so that a negative one is reported as such, with where it is.
enum TrainJson {
    Counts(Vec<Vec<i32>>),
    Events(Vec<(i64, i64, i64)>),
}

impl<'de> Deserialize<'de> for TrainJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{Error as _, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TrainJson;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a train: T arrays of N counts, or {\"events\": [[step, index, count], ...]}",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<TrainJson, A::Error> {
                let mut rows = Vec::new();
                while let Some(r) = seq.next_element::<Vec<i32>>()? {
                    rows.push(r);
                }
                Ok(TrainJson::Counts(rows))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<TrainJson, A::Error> {
                let mut events = None;
                while let Some(k) = map.next_key::<String>()? {
                    if k != "events" {
                        return Err(A::Error::unknown_field(&k, &["events"]));
                    }
                    if events.is_some() {
                        return Err(A::Error::duplicate_field("events"));
                    }
                    events = Some(map.next_value::<Vec<(i64, i64, i64)>>()?);
                }
                events
                    .map(TrainJson::Events)
                    .ok_or_else(|| A::Error::missing_field("events"))
            }
        }
        d.deserialize_any(V)
    }
}

/// The most time steps a train may have: the hardware counts steps in 16 bits.
pub const MAX_TRAIN_STEPS: u32 = u16::MAX as u32;

/// Bytes the dense trains of a file may take in memory: a few bytes of events can stand for
/// a large T x N, so the dense size is checked before it is allocated.
pub const MAX_TRAIN_BYTES: u128 = 512 << 20;

impl InputFile {
    /// Read an input file: values (checked as [`InputSet::read`] does) or trains (checked
    /// against `rules`).
    pub fn read(path: &Path, rules: &TrainRules) -> Result<Self> {
        let bytes = crate::util::read_limited(path, MAX_BYTES)?;
        Self::parse(&bytes, rules, &path.display())
    }

    /// `path` names the file in messages.
    pub fn parse(bytes: &[u8], rules: &TrainRules, path: &dyn std::fmt::Display) -> Result<Self> {
        let f: FileJson = serde_json::from_slice(bytes).map_err(|e| {
            Error::bad_input(format!(
                "{path}: not an input set ({e}); expected {{\"samples\": [[values in 0..1]], \"labels\": [..]}} \
                 or per-step trains {{\"trains\": [[[counts of step 0], [counts of step 1], ..]], \"labels\": [..]}} \
                 (docs/file-formats.md)"
            ))
            .with_source(e)
        })?;
        match (f.samples, f.trains) {
            (Some(samples), None) => {
                if f.steps.is_some() {
                    return Err(Error::bad_input(format!(
                        "{path}: \"steps\" belongs to per-step \"trains\"; values in \"samples\" are the same at every step"
                    )));
                }
                let set = InputSet {
                    samples,
                    labels: f.labels,
                };
                set.check(rules.inputs).map_err(|e| e.context(path))?;
                Ok(InputFile::Values(set))
            }
            (None, Some(trains)) => Ok(InputFile::Trains(
                InputTrains::build(trains, f.steps, f.labels, rules).map_err(|e| e.context(path))?,
            )),
            (Some(_), Some(_)) => Err(Error::bad_input(format!(
                "{path}: holds both \"samples\" and \"trains\"; give one of them"
            ))),
            (None, None) => Err(Error::bad_input(format!(
                "{path}: holds neither \"samples\" (values in 0..1) nor \"trains\" (per-step counts)"
            ))),
        }
    }
}

impl InputTrains {
    fn build(
        trains: Vec<TrainJson>,
        steps: Option<i64>,
        labels: Option<Vec<u32>>,
        rules: &TrainRules,
    ) -> Result<Self> {
        let n = rules.inputs;
        if trains.is_empty() {
            return Err(Error::bad_input("\"trains\" is empty: no samples"));
        }
        // T: the file's "steps", else the length of its first dense train, else the run's.
        let (file_t, from) = match steps {
            Some(s) if !(1..=MAX_TRAIN_STEPS as i64).contains(&s) => {
                return Err(Error::bad_input(format!(
                    "\"steps\": {s} is not a number of time steps 1..={MAX_TRAIN_STEPS}"
                )))
            }
            Some(s) => (Some(s as u32), "its \"steps\""),
            None => match trains.iter().find_map(|t| match t {
                TrainJson::Counts(rows) => Some(rows.len()),
                TrainJson::Events(_) => None,
            }) {
                Some(0) => {
                    return Err(Error::bad_input(
                        "a train has no steps: give one array of counts per time step",
                    ))
                }
                Some(t) if t > MAX_TRAIN_STEPS as usize => {
                    return Err(Error::bad_input(format!(
                        "a train has {t} steps, more than the {MAX_TRAIN_STEPS} the hardware counts"
                    )))
                }
                Some(t) => (Some(t as u32), "its first train of counts"),
                None => (None, ""),
            },
        };
        let t = match (file_t, rules.steps_given) {
            (Some(f), Some(g)) if f != g => {
                return Err(Error::bad_input(format!(
                    "the trains have {f} time steps ({from}), --steps asks for {g}; leave out --steps (the trains set the steps) or give trains of {g} steps"
                )))
            }
            (Some(f), _) => f,
            (None, Some(g)) => g,
            (None, None) => rules.steps_default,
        };
        let bytes = trains.len() as u128 * t as u128 * n as u128 * 4;
        if bytes > MAX_TRAIN_BYTES {
            return Err(Error::bad_input(format!(
                "{} trains of {t} steps x {n} inputs would take {} MiB in memory, above the {} MiB limit; give fewer samples or steps",
                trains.len(),
                bytes >> 20,
                MAX_TRAIN_BYTES >> 20
            )));
        }
        let max = rules.max;
        let count = |k: usize, at: &dyn Fn() -> String, v: i64| -> Result<u32> {
            if v < 0 {
                return Err(Error::bad_input(format!(
                    "train {k}, {}: count {v} is negative; counts are 0..={max}",
                    at()
                )));
            }
            if v > max as i64 {
                return Err(Error::bad_input(format!(
                    "train {k}, {}: count {v} is above {max}, the largest value of the model's {}-bit inputs",
                    at(),
                    rules.input_bits
                )));
            }
            Ok(v as u32)
        };
        let mut counts = Vec::with_capacity(trains.len());
        for (k, train) in trains.into_iter().enumerate() {
            let mut dense = vec![0u32; t as usize * n];
            match train {
                TrainJson::Counts(rows) => {
                    if rows.len() != t as usize {
                        return Err(Error::bad_input(format!(
                            "train {k} has {} steps, the run has {t}{}; every train needs one array of counts per step",
                            rows.len(),
                            if from.is_empty() { String::new() } else { format!(" (from {from})") }
                        )));
                    }
                    for (s, row) in rows.iter().enumerate() {
                        if row.len() != n {
                            return Err(Error::bad_input(format!(
                                "train {k}, step {s}: {} counts, the model takes {n} inputs per step",
                                row.len()
                            )));
                        }
                        for (i, &v) in row.iter().enumerate() {
                            dense[s * n + i] =
                                count(k, &|| format!("step {s}, input {i}"), v as i64)?;
                        }
                    }
                }
                TrainJson::Events(events) => {
                    let mut seen = vec![false; t as usize * n];
                    for (j, &(s, i, c)) in events.iter().enumerate() {
                        if !(0..t as i64).contains(&s) {
                            return Err(Error::bad_input(format!(
                                "train {k}, event {j}: step {s} is outside 0..{t} (the run has {t} steps)"
                            )));
                        }
                        if !(0..n as i64).contains(&i) {
                            return Err(Error::bad_input(format!(
                                "train {k}, event {j}: input {i} is outside 0..{n} (the model takes {n} inputs)"
                            )));
                        }
                        let at = s as usize * n + i as usize;
                        if std::mem::replace(&mut seen[at], true) {
                            return Err(Error::bad_input(format!(
                                "train {k}, event {j}: a second event for step {s}, input {i}; give one event with the whole count"
                            )));
                        }
                        dense[at] = count(k, &|| format!("event {j}"), c)?;
                    }
                }
            }
            counts.push(dense);
        }
        if let Some(l) = &labels {
            if l.len() != counts.len() {
                return Err(Error::bad_input(format!(
                    "{} labels for {} trains",
                    l.len(),
                    counts.len()
                )));
            }
        }
        Ok(InputTrains {
            steps: t,
            inputs: n,
            counts,
            labels,
        })
    }
}
