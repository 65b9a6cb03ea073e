//! PyTorch state_dicts (safetensors) plus a small architecture file (JSON), for snnTorch and
//! BrainCog models. The importer builds the NIR graph the framework's own conventions describe
//! and imports it with the NIR importer, so that every neuron mapping rule exists once
//! (src/nir/import.rs). docs/import.md has the architecture format and the mapping tables.
//!
//! - snnTorch `Leaky`: mem_t = beta mem_{t-1} + I_t - reset_{t-1} threshold (subtract, the
//!   default) or mem zeroed before the decay (zero); spk = mem > threshold. Read with the
//!   snntorch preset (dt = 1e-4, tau = dt/(1-beta), r = tau/dt).
//! - BrainCog `LIFNode`: mem = mem + (x - mem)/tau; spike = mem > threshold; mem *= 1 - spike.
//!   That is NIR's forward-Euler LIF with dt = 1, r = 1, reset to 0: the generic preset, dt = 1.
//! - BrainCog `BurstLIFNode` is refused (see `burst_lif_refusal`).

use crate::error::{Error, Result};
use crate::format::AnyNetwork;
use crate::ir::FloatNetwork;
use crate::ir::Reset;
use crate::nir::read::{NirFile, Tensor, Tree, Value};
use crate::nir::{import, ImportOptions, Preset};
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

const MAX_WEIGHTS: u64 = 2 << 30;
const MAX_ARCH: u64 = 1 << 20;
const SNNTORCH_DT: f64 = 1e-4;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arch {
    /// "snntorch" or "braincog".
    pub convention: String,
    pub name: Option<String>,
    /// Input shape: [n] or [c, h, w].
    pub input: Vec<usize>,
    pub layers: Vec<LayerSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// linear | conv2d | flatten | sum_pool2d | avg_pool2d | leaky (snnTorch) | lif, burst_lif (BrainCog)
    #[serde(rename = "type")]
    pub kind: String,
    /// Module name in the state_dict ("fc1" for fc1.weight).
    pub name: Option<String>,
    pub stride: Option<usize>,
    pub padding: Option<usize>,
    pub kernel: Option<usize>,
    /// Overrides for neuron parameters not stored in the state_dict.
    pub beta: Option<f64>,
    pub threshold: Option<f64>,
    pub tau: Option<f64>,
    /// snnTorch reset_mechanism when the state_dict has no reset_mechanism_val: subtract | zero.
    pub reset: Option<String>,
}

pub struct StateDictImport {
    pub network: FloatNetwork,
    pub warnings: Vec<String>,
    pub summary: String,
}

pub fn import_state_dict(
    weights: &Path,
    arch: &Path,
    name: Option<&str>,
) -> Result<StateDictImport> {
    let a = crate::util::read_limited(arch, MAX_ARCH)?;
    let arch_v: Arch = serde_json::from_slice(&a)
        .map_err(|e| Error::bad_input(format!("{}: {e}", arch.display())))?;
    let w = crate::util::read_limited(weights, MAX_WEIGHTS)?;
    // Errors about the architecture name the architecture file; the rest name the weights file
    // (and the architecture it was read with).
    import_parts(&w, &arch_v, name).map_err(|e| match e.message.strip_prefix("architecture: ") {
        Some(rest) => Error {
            message: format!("{}: {rest}", arch.display()),
            ..e
        },
        None => e.context(format!(
            "{} (read with the architecture {})",
            weights.display(),
            arch.display()
        )),
    })
}

/// The refusal for BrainCog's BurstLIFNode, with the reason.
pub fn burst_lif_refusal(layer: &str) -> Error {
    Error::bad_input(format!(
        "layer '{layer}' (BrainCog BurstLIFNode) cannot be imported: its reset V = H*(1 - c) makes the membrane negative in proportion to H after a burst (c >= 2), which neither LIFB reset (subtract theta + (c-1)D, or zero) reproduces; its output 1.5*c for c >= 2 and strict comparison could be mapped, the reset cannot. Retrain with LIFNode or with lifb-hdl's LIFB neuron"
    ))
}

fn tensor_f64(st: &SafeTensors, key: &str) -> Result<Option<Tensor>> {
    let t = match st.tensor(key) {
        Ok(t) => t,
        Err(_) => return Ok(None),
    };
    let shape = t.shape().to_vec();
    let b = t.data();
    let data: Vec<f64> = match t.dtype() {
        Dtype::F32 => b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect(),
        Dtype::F64 => b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect(),
        Dtype::I64 => b.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")) as f64).collect(),
        Dtype::I32 => b.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect(),
        other => {
            return Err(Error::bad_input(format!(
                "tensor '{key}': dtype {other:?} is not supported (F32, F64, I32, I64); convert the state_dict with .float()"
            )))
        }
    };
    let n: usize = shape.iter().product();
    if n != data.len() {
        return Err(Error::bad_input(format!(
            "tensor '{key}': shape {shape:?} does not match its data"
        )));
    }
    Ok(Some(Tensor {
        shape,
        data,
        dtype: format!("{:?}", t.dtype()).to_lowercase(),
    }))
}

fn scalar(shape: Vec<usize>, v: Vec<f64>) -> Value {
    Value::Tensor(Tensor {
        shape,
        data: v,
        dtype: "f64".into(),
    })
}

fn text(s: &str) -> Value {
    Value::Strings {
        shape: vec![],
        values: vec![s.to_string()],
    }
}

pub fn import_parts(weights: &[u8], arch: &Arch, name: Option<&str>) -> Result<StateDictImport> {
    let st = SafeTensors::deserialize(weights)
        .map_err(|e| Error::bad_input(format!("not a valid safetensors file: {e}")))?;
    let snn = match arch.convention.as_str() {
        "snntorch" => true,
        "braincog" => false,
        other => {
            return Err(Error::bad_input(format!(
                "architecture: convention '{other}' is not supported (snntorch or braincog)"
            )))
        }
    };
    let req = |key: &str| -> Result<Tensor> {
        tensor_f64(&st, key)?
            .ok_or_else(|| Error::bad_input(format!("the state_dict has no tensor '{key}'")))
    };
    let mut nodes = BTreeMap::new();
    let mut order = vec!["input".to_string()];
    let mut node = |name: &str, members: Vec<(&str, Value)>| {
        let path = format!("/node/nodes/{name}");
        let t = Tree {
            path,
            members: members
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        };
        nodes.insert(name.to_string(), Value::Group(t));
    };
    node(
        "input",
        vec![
            ("type", text("Input")),
            (
                "shape",
                scalar(
                    vec![arch.input.len()],
                    arch.input.iter().map(|&d| d as f64).collect(),
                ),
            ),
        ],
    );
    let mut reset: Option<Reset> = None;
    let mut warnings = Vec::new();
    for (i, l) in arch.layers.iter().enumerate() {
        let lname = l.name.clone().unwrap_or_else(|| format!("layer{i}"));
        if order.contains(&lname) || lname == "output" {
            return Err(Error::bad_input(format!(
                "architecture: layer name '{lname}' is used twice"
            )));
        }
        let key = |f: &str| format!("{lname}.{f}");
        match l.kind.as_str() {
            "linear" => {
                let w = req(&key("weight"))?;
                let mut m = vec![("weight", Value::Tensor(w))];
                let kind = match tensor_f64(&st, &key("bias"))? {
                    Some(b) => {
                        m.push(("bias", Value::Tensor(b)));
                        "Affine"
                    }
                    None => "Linear",
                };
                m.push(("type", text(kind)));
                node(&lname, m);
            }
            "conv2d" => {
                let w = req(&key("weight"))?;
                let co = w.shape.first().copied().unwrap_or(0);
                let b = tensor_f64(&st, &key("bias"))?.unwrap_or(Tensor { shape: vec![co], data: vec![0.0; co], dtype: "f64".into() });
                let s = l.stride.unwrap_or(1) as f64;
                let p = l.padding.unwrap_or(0) as f64;
                node(&lname, vec![
                    ("type", text("Conv2d")),
                    ("weight", Value::Tensor(w)),
                    ("bias", Value::Tensor(b)),
                    ("stride", scalar(vec![2], vec![s, s])),
                    ("padding", scalar(vec![2], vec![p, p])),
                ]);
            }
            "flatten" => node(&lname, vec![("type", text("Flatten"))]),
            "sum_pool2d" | "avg_pool2d" => {
                let k = l.kernel.ok_or_else(|| Error::bad_input(format!("architecture: layer '{lname}' needs a kernel")))? as f64;
                let s = l.stride.map_or(k, |s| s as f64);
                let kind = if l.kind == "sum_pool2d" { "SumPool2d" } else { "AvgPool2d" };
                node(&lname, vec![("type", text(kind)), ("kernel_size", scalar(vec![2], vec![k, k])), ("stride", scalar(vec![2], vec![s, s]))]);
            }
            "leaky" if snn => {
                let beta = match l.beta {
                    Some(b) => Tensor { shape: vec![], data: vec![b], dtype: "f64".into() },
                    None => req(&key("beta"))?,
                };
                let thr = match l.threshold {
                    Some(t) => Tensor { shape: vec![], data: vec![t], dtype: "f64".into() },
                    None => tensor_f64(&st, &key("threshold"))?.unwrap_or(Tensor { shape: vec![], data: vec![1.0], dtype: "f64".into() }),
                };
                if let Some(g) = tensor_f64(&st, &key("graded_spikes_factor"))? {
                    if g.data.iter().any(|&x| x != 1.0) {
                        return Err(Error::bad_input(format!("layer '{lname}' (snnTorch Leaky): graded_spikes_factor != 1 is not supported")));
                    }
                }
                let r = match tensor_f64(&st, &key("reset_mechanism_val"))?.and_then(|t| t.data.first().copied()) {
                    Some(0.0) => Reset::Subtract,
                    Some(1.0) => Reset::Zero,
                    Some(_) => return Err(Error::bad_input(format!("layer '{lname}' (snnTorch Leaky): reset_mechanism 'none' has no LIFB equivalent"))),
                    None => match l.reset.as_deref() {
                        None | Some("subtract") => Reset::Subtract,
                        Some("zero") => Reset::Zero,
                        Some(o) => return Err(Error::bad_input(format!("architecture: layer '{lname}': reset '{o}' (subtract or zero)"))),
                    },
                };
                if reset.is_some_and(|x| x != r) {
                    return Err(Error::bad_input(format!("layer '{lname}': mixing subtract and zero resets across layers is not supported by this importer")));
                }
                reset = Some(r);
                if beta.data.iter().any(|&b| !(0.0..=1.0).contains(&b)) {
                    return Err(Error::bad_input(format!("layer '{lname}' (snnTorch Leaky): beta must be in [0, 1] (snnTorch clamps it)")));
                }
                // What snnTorch's NIR exporter writes: tau = dt/(1-beta), r = tau/dt.
                if beta.data.iter().all(|&b| b == 1.0) {
                    let n = beta.data.len();
                    node(&lname, vec![
                        ("type", text("IF")),
                        ("r", scalar(beta.shape.clone(), vec![1.0 / SNNTORCH_DT; n])),
                        ("v_threshold", Value::Tensor(thr)),
                    ]);
                } else {
                    let tau: Vec<f64> = beta.data.iter().map(|&b| SNNTORCH_DT / (1.0 - b)).collect();
                    let rr: Vec<f64> = tau.iter().map(|&t| t / SNNTORCH_DT).collect();
                    let n = tau.len();
                    node(&lname, vec![
                        ("type", text("LIF")),
                        ("tau", scalar(beta.shape.clone(), tau)),
                        ("r", scalar(beta.shape.clone(), rr)),
                        ("v_leak", scalar(beta.shape.clone(), vec![0.0; n])),
                        ("v_threshold", Value::Tensor(thr)),
                    ]);
                }
            }
            "lif" if !snn => {
                let tau = l.tau.unwrap_or(2.0);
                let thr = match l.threshold {
                    Some(t) => Tensor { shape: vec![], data: vec![t], dtype: "f64".into() },
                    None => tensor_f64(&st, &key("threshold"))?.unwrap_or(Tensor { shape: vec![], data: vec![0.5], dtype: "f64".into() }),
                };
                node(&lname, vec![
                    ("type", text("LIF")),
                    ("tau", scalar(vec![], vec![tau])),
                    ("r", scalar(vec![], vec![1.0])),
                    ("v_leak", scalar(vec![], vec![0.0])),
                    ("v_reset", scalar(vec![], vec![0.0])),
                    ("v_threshold", Value::Tensor(thr)),
                ]);
            }
            "burst_lif" if !snn => return Err(burst_lif_refusal(&lname)),
            other => {
                return Err(Error::bad_input(format!(
                    "architecture: layer '{lname}': type '{other}' is not supported for convention '{}' (linear, conv2d, flatten, sum_pool2d, avg_pool2d, {})",
                    arch.convention,
                    if snn { "leaky" } else { "lif, burst_lif (refused)" }
                )))
            }
        }
        order.push(lname);
    }
    // An Output without a shape: the NIR importer then takes the network's own output.
    node("output", vec![("type", text("Output"))]);
    order.push("output".into());
    let edges: Vec<String> = order
        .windows(2)
        .flat_map(|w| [w[0].clone(), w[1].clone()])
        .collect();
    let ne = order.len() - 1;
    let root_members = BTreeMap::from([
        ("type".to_string(), text("NIRGraph")),
        (
            "edges".to_string(),
            Value::Strings {
                shape: vec![ne, 2],
                values: edges,
            },
        ),
        (
            "nodes".to_string(),
            Value::Group(Tree {
                path: "/node/nodes".into(),
                members: nodes,
            }),
        ),
    ]);
    let file = NirFile {
        version: Some("1.0.8".into()),
        node: Tree {
            path: "/node".into(),
            members: root_members,
        },
    };
    let opts = ImportOptions {
        preset: Some(if snn {
            Preset::Snntorch
        } else {
            Preset::Generic
        }),
        dt: Some(if snn { SNNTORCH_DT } else { 1.0 }),
        reset,
        name: name.map(String::from).or_else(|| arch.name.clone()),
        ..ImportOptions::default()
    };
    let imp = import(&file, &opts)?;
    warnings.extend(imp.warnings);
    let mut network = match imp.network {
        AnyNetwork::Float(n) => n,
        AnyNetwork::Integer(_) => unreachable!("state_dicts import as float"),
    };
    network.meta.insert(
        "import".into(),
        serde_json::json!({"from": "safetensors", "convention": arch.convention}),
    );
    Ok(StateDictImport {
        network,
        warnings,
        summary: format!("convention {}", arch.convention),
    })
}
