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
