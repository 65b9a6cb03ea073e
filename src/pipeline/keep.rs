//! The keep folder: every step's artifacts as files, so that a later run can start at a named
//! step (`--from`). Models are saved in the model format, the design as its RTL folder (read back
//! like `cosim --hdl`, hand edits included), the rest as JSON.
//!
//! | step       | files                                               |
//! |------------|-----------------------------------------------------|
//! | `quantize` | float.json (float models), integer.json, quantize.json |
//! | `decouple` | decoupled.json, decouple.json                       |
//! | `evaluate` | evaluation.json                                     |
//! | `generate` | rtl/                                                |
//! | `cosim`    | cosim.json                                          |
//! | `synth`    | synth.json                                          |

use super::{Artifacts, DecoupleCheck, Evaluation, FlowOptions, Step, SynthVerdict};
use crate::codegen;
use crate::error::{Error, Result};
use crate::format;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// quantize.json: what the integer model file does not hold.
#[derive(Serialize, Deserialize)]
struct QuantizeInfo {
    time_steps: u32,
}

/// decouple.json
#[derive(Serialize, Deserialize)]
struct DecoupleInfo {
    check: Option<DecoupleCheck>,
}

/// synth.json: the verdict, or that synthesis was skipped.
#[derive(Serialize, Deserialize)]
struct SynthInfo {
    verdict: Option<SynthVerdict>,
}

const MAX_JSON: u64 = 256 << 20;

fn write_json<T: Serialize>(dir: &Path, name: &str, v: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(v)
        .map_err(|e| Error::tool(format!("cannot serialize {name}: {e}")))?;
    bytes.push(b'\n');
    crate::util::write_atomic(&dir.join(name), &bytes)
}

fn read_json<T: DeserializeOwned>(dir: &Path, name: &str, step: Step) -> Result<T> {
    let path = dir.join(name);
    if !path.is_file() {
        return Err(missing(dir, name, step));
    }
    let bytes = crate::util::read_limited(&path, MAX_JSON)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::bad_input(format!(
            "{}: not the {name} that step {step} keeps: {e}",
            path.display()
        ))
    })
}

fn missing(dir: &Path, name: &str, step: Step) -> Error {
    Error::bad_input(format!(
        "{}: no {name}; keep the artifacts of step {step} there first (run the flow with --keep {} --to {step})",
        dir.display(),
        dir.display()
    ))
}

/// Write the artifacts step `s` made into `dir`.
pub(super) fn save(s: Step, a: &Artifacts, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    match s {
        Step::Quantize => {
            if let Some(f) = &a.float {
                format::save(f, &dir.join("float.json"))?;
            }
            if let Some(i) = &a.integer {
                format::save(i, &dir.join("integer.json"))?;
            }
            if let Some(t) = a.time_steps {
                write_json(dir, "quantize.json", &QuantizeInfo { time_steps: t })?;
            }
        }
        Step::Decouple => {
            if let Some(d) = &a.decoupled {
                format::save(d, &dir.join("decoupled.json"))?;
            }
            let info = DecoupleInfo {
                check: a.decouple_check.clone(),
            };
            write_json(dir, "decouple.json", &info)?;
        }
        Step::Evaluate => {
            if let Some(e) = &a.evaluation {
                write_json(dir, "evaluation.json", e)?;
            }
        }
        Step::Generate => {
            if let Some(d) = &a.design {
                codegen::write(d, &dir.join("rtl"))?;
            }
        }
        Step::Cosim => {
            if let Some(c) = &a.cosim {
                write_json(dir, "cosim.json", c)?;
            }
        }
        Step::Synth => {
            let info = SynthInfo {
                verdict: a.synth.clone(),
            };
            write_json(dir, "synth.json", &info)?;
        }
        Step::Report => {}
    }
    Ok(())
}

/// Read back the artifacts step `s` kept in `dir`.
pub(super) fn load(s: Step, a: &mut Artifacts, dir: &Path, o: &FlowOptions) -> Result<()> {
    match s {
        Step::Quantize => {
            let ipath = dir.join("integer.json");
            if !ipath.is_file() {
                return Err(missing(dir, "integer.json", s));
            }
            a.integer = Some(format::load_integer(&ipath)?);
            let fpath = dir.join("float.json");
            a.float = match fpath.is_file() {
                true => Some(format::load_float(&fpath)?),
                false => None,
            };
            let q: QuantizeInfo = read_json(dir, "quantize.json", s)?;
            a.time_steps = Some(q.time_steps);
        }
        Step::Decouple => {
            let path = dir.join("decoupled.json");
            if !path.is_file() {
                return Err(missing(dir, "decoupled.json", s));
            }
            a.decoupled = Some(format::load_integer(&path)?);
            let d: DecoupleInfo = read_json(dir, "decouple.json", s)?;
            a.decouple_check = d.check;
        }
        Step::Evaluate => {
            a.evaluation = Some(read_json::<Evaluation>(dir, "evaluation.json", s)?);
        }
        Step::Generate => {
            let rtl = dir.join("rtl");
            if !rtl.join("manifest.json").is_file() {
                return Err(missing(dir, "rtl/manifest.json", s));
            }
            let int = a
                .integer
                .as_ref()
                .ok_or_else(|| missing(dir, "integer.json", Step::Quantize))?;
            let h = crate::cosim::hdl::read(&rtl, int)?;
            if h.options.form != o.codegen.form {
                return Err(Error::bad_input(format!(
                    "{}: holds the {} form, the run asks for --form {}",
                    rtl.display(),
                    h.options.form.name(),
                    o.codegen.form.name()
                )));
            }
            // Later steps read the RTL from the output folder (synthesis reads files on disk).
            let out_rtl = o.out.join("rtl");
            if std::fs::canonicalize(&out_rtl).ok() != std::fs::canonicalize(&rtl).ok() {
                codegen::write(&h.design, &out_rtl)?;
            }
            a.design = Some(h.design);
        }
        Step::Cosim => {
            a.cosim = Some(read_json(dir, "cosim.json", s)?);
        }
        Step::Synth => {
            // Optional: a run with synthesis skipped kept no verdict.
            if dir.join("synth.json").is_file() {
                let info: SynthInfo = read_json(dir, "synth.json", s)?;
                a.synth = info.verdict;
            }
        }
        Step::Report => {}
    }
    Ok(())
}
