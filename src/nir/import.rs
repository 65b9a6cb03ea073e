//! NIR chain -> network IR. The rules (and what is exact) are in docs/import.md; in short:
//! a LIF node's forward-Euler update v += dt/tau (v_leak - v + r I) becomes H = lam V + X with
//! lam = 1 - dt/tau, the input gain dt r/tau and the leak term dt/tau v_leak folded into the
//! preceding synaptic layer; NIR's "fire on v > v_threshold" becomes "H >= the next f32 above
//! v_threshold" (exact for f32 membranes); the reset follows the preset.

use super::graph::{self, Link, Node};
use super::read::{NirFile, Tensor, Value};
use crate::error::{Error, Result};
use crate::format::AnyNetwork;
use crate::ir::{
    Conv2d, Dense, Encoding, FixedPoint, InputSpec, Layer, Leak, LifGroup, LifRecurrent, Lifb,
    Network, Pool, PoolKind, Reset, Shape,
};
use std::collections::BTreeMap;

/// Which exporter's conventions to read the file with (NIR stores no time step, and exporters
/// disagree on units and on the reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// snnTorch: dt = 1e-4 (hard-coded in its exporter), reset by subtraction applied one step
    /// late without decay (snnTorch's default), fire on v > threshold.
    Snntorch,
    /// Norse: tau in seconds, dt = 1e-3 (Norse's default), reset to v_reset, fire on v > threshold.
    Norse,
    /// The NIR definition, forward Euler with the given --dt; reset to v_reset (or, before NIR
    /// 1.0.6, subtract when v_reset is absent).
    Generic,
    /// Files written by `lifb-hdl export --nir` (detected from their metadata).
    LifbHdl,
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Snntorch => "snntorch",
            Preset::Norse => "norse",
            Preset::Generic => "generic",
            Preset::LifbHdl => "lifb-hdl",
        }
    }
}

/// How NIR's strict comparison (v > v_threshold) is mapped onto ours (H >= theta).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// theta = the smallest f32 above v_threshold: exact for f32 membranes.
    Exact,
    /// theta = v_threshold: fires one ulp early on exact ties (approximate, warned).
    AsGe,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// None: lifb-hdl files are detected; any other file needs a preset.
    pub preset: Option<Preset>,
    pub dt: Option<f64>,
    pub reset: Option<Reset>,
    pub compare: Compare,
    /// Promote every LIF layer to LIFB with (max_burst, spacing).
    pub promote: Option<(u32, f32)>,
    /// Accept a final LI node as the sum-of-currents readout (approximate).
    pub li_readout_sum: bool,
    pub name: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            preset: None,
            dt: None,
            reset: None,
            compare: Compare::Exact,
            promote: None,
            li_readout_sum: false,
            name: None,
        }
    }
}

/// The imported network and what the user must know about the mapping.
#[derive(Debug, Clone)]
pub struct Imported {
    pub network: AnyNetwork,
    /// Approximations, inferred conventions: each names the node.
    pub warnings: Vec<String>,
    /// The preset and dt actually used.
    pub preset: Preset,
    pub dt: f64,
}

/// The reset as the exporter meant it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResetRule {
    Zero,
    /// V = H - threshold in the same step.
    Subtract,
    /// snnTorch: the reset of step t-1 is subtracted at step t without decay.
    SubtractDelayed,
}

/// A layer under construction, in f64 so that folding rounds once.
#[derive(Debug, Clone)]
enum B {
    Dense {
        node: String,
        inf: usize,
        outf: usize,
        w: Vec<f64>,
        b: Option<Vec<f64>>,
    },
    Conv {
        node: String,
        ci: usize,
        co: usize,
        k: [usize; 2],
        s: [usize; 2],
        p: [usize; 2],
        w: Vec<f64>,
        b: Option<Vec<f64>>,
    },
    Pool(Pool),
    Flatten,
    Neuron(Neuron),
}

#[derive(Debug, Clone)]
struct Neuron {
    node: String,
    shape: Shape,
    lam: f64,
    /// Per neuron: NIR's v_threshold (fire on v > it).
    thr: Vec<f64>,
    reset: ResetRule,
    /// Per-unit reset amounts that differ from the threshold (lifb-hdl group metadata).
    rho: Option<Vec<f64>>,
    /// Recurrent weights: (group size, lateral[u][j] per unit u over its group, N x g).
    recurrent: Option<(usize, Vec<f64>)>,
    meta: serde_json::Value,
}

struct Ctx {
    preset: Preset,
    dt: f64,
    version: Option<String>,
    opts: ImportOptions,
    warnings: Vec<String>,
    inexact_fold: Vec<String>,
}

pub fn import(file: &NirFile, opts: &ImportOptions) -> Result<Imported> {
    let gmeta = own_meta(&file.node);
    let preset = match (opts.preset, gmeta.is_some()) {
        (Some(p), _) => p,
        (None, true) => Preset::LifbHdl,
        (None, false) => {
            return Err(Error::bad_input(
                "NIR stores no time step and exporters disagree on units and reset: choose --preset snntorch, norse or generic (generic also needs --dt)",
            ))
        }
    };
    if preset == Preset::LifbHdl && gmeta.is_none() {
        return Err(Error::bad_input(
            "--preset lifb-hdl: this file has no lifb-hdl metadata (it was not written by lifb-hdl export)",
        ));
    }
    let meta_dt = gmeta
        .as_ref()
        .and_then(|m| m.get("dt"))
        .and_then(|v| v.as_f64());
    let dt = match (opts.dt, preset) {
        (Some(d), _) => d,
        (None, Preset::Snntorch) => 1e-4,
        (None, Preset::Norse) => 1e-3,
        (None, Preset::LifbHdl) => meta_dt.unwrap_or(1e-4),
        (None, Preset::Generic) => {
            return Err(Error::bad_input(
                "--preset generic needs --dt (the time step in the units of the file's tau)",
            ))
        }
    };
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::bad_input(format!(
            "--dt must be a number > 0, got {dt}"
        )));
    }
    let mut cx = Ctx {
        preset,
        dt,
        version: file.version.clone(),
        opts: opts.clone(),
        warnings: Vec::new(),
        inexact_fold: Vec::new(),
    };
    if gmeta.is_some() && preset != Preset::LifbHdl {
        cx.warnings.push(format!(
            "this file was written by lifb-hdl export; --preset {} ignores its metadata (reset mode, exact leak), so the result may differ from the exported network",
            preset.name()
        ));
    }
    let chain = graph::chain(&file.node)?;
    let first = &chain.links[0].node;
    let input_shape = shape_of(&first.tree, "shape", &first.name)?;
    let mut cur = input_shape;
    let mut layers: Vec<B> = Vec::new();
    // A Scale on the signal entering the next synaptic layer (per element of `cur`).
    let mut pending_scale: Option<(String, Vec<f64>)> = None;
    let n = chain.links.len();
    for (i, link) in chain.links.iter().enumerate().skip(1) {
        let node = &link.node;
        let last = i == n - 1;
        if link.recurrent.is_some() && !matches!(node.kind.as_str(), "LIF" | "IF") {
            return Err(refuse(
                node,
                "recurrent weights are only supported on LIF and IF nodes",
            ));
        }
        match node.kind.as_str() {
            "Output" => {
                // NIR Outputs carry a shape; graphs built by the state_dict importer may not.
                let s = match node.tree.members.get("shape") {
                    Some(_) => shape_of(&node.tree, "shape", &node.name)?,
                    None => cur,
                };
                if s.len() != cur.len() {
                    return Err(Error::bad_input(format!(
                        "node '{}' (Output): shape {s} does not match the network's output {cur}",
                        node.name
                    )));
                }
                if !last {
                    return Err(refuse(node, "an Output node must end the chain"));
                }
            }
            "Input" => return Err(refuse(node, "a second Input node inside the chain")),
            "Affine" | "Linear" => {
                let (outf, inf, mut w) = matrix(node, "weight")?;
                if inf != cur.len() {
                    return Err(Error::bad_input(format!(
                        "node '{}' ({}): weight has {inf} inputs but receives {} values (shape {cur})",
                        node.name,
                        node.kind,
                        cur.len()
                    )));
                }
                let b = if node.kind == "Affine" {
                    let t = tensor(node, "bias")?;
                    Some(broadcast(node, "bias", t, outf, None)?)
                } else {
                    None
                };
                if let Some((sn, s)) = pending_scale.take() {
                    for o in 0..outf {
                        for j in 0..inf {
                            w[o * inf + j] *= s[j];
                        }
                    }
                    cx.note_fold(&sn, &w);
                }
                layers.push(B::Dense {
                    node: node.name.clone(),
                    inf,
                    outf,
                    w,
                    b,
                });
                cur = Shape::flat(outf);
            }
            "Conv2d" => {
                let (lay, out) = conv(node, cur, &mut pending_scale, &mut cx)?;
                layers.push(lay);
                cur = out;
            }
            "SumPool2d" | "AvgPool2d" => {
                let kernel = pair(node, "kernel_size", None)?;
                let stride = pair(node, "stride", Some(kernel))?;
                let pad = pair(node, "padding", Some([0, 0]))?;
                if pad != [0, 0] {
                    return Err(refuse(node, "padded pooling is not supported (padding must be 0)"));
                }
                let kind = if node.kind == "SumPool2d" {
                    PoolKind::Sum
                } else {
                    PoolKind::Avg
                };
                let p = Pool {
                    kind,
                    kernel,
                    stride,
                };
                let out = pool_out(cur, kernel, stride)
                    .ok_or_else(|| refuse(node, &format!("kernel {kernel:?} stride {stride:?} does not fit input {cur}")))?;
                if let Some((sn, s)) = pending_scale.take() {
                    let ch = per_channel(&s, cur).ok_or_else(|| {
                        Error::bad_input(format!(
                            "node '{sn}' (Scale): a scale before pooling must be the same within each channel"
                        ))
                    })?;
                    pending_scale = Some((sn, expand_channels(&ch, out)));
                }
                layers.push(B::Pool(p));
                cur = out;
            }
            "Flatten" => {
                flatten_check(node, cur, &mut cx)?;
                layers.push(B::Flatten);
                cur = Shape::flat(cur.len());
            }
            "Scale" => {
                let t = tensor(node, "scale")?;
                let s = broadcast(node, "scale", t, cur.len(), Some(cur))?;
                match layers.last_mut() {
                    // Scaling currents: fold into the rows of the synaptic layer.
                    Some(B::Dense { .. }) | Some(B::Conv { .. }) if pending_scale.is_none() => {
                        let l = layers.last_mut().expect("checked");
                        fold_rows(l, &s, None, node, &mut cx)?;
                    }
                    _ => {
                        // Scaling spikes or inputs: fold into the columns of the next layer.
                        let s = match pending_scale.take() {
                            Some((_, p)) => p.iter().zip(&s).map(|(a, b)| a * b).collect(),
                            None => s,
                        };
                        pending_scale = Some((node.name.clone(), s));
                    }
                }
            }
            "LIF" | "IF" => {
                let nr = neuron(link, cur, &mut layers, &mut cx)?;
                layers.push(B::Neuron(nr));
            }
            "I" | "Integrator" | "LI" => {
                if !next_is_output(&chain.links, i) {
                    return Err(refuse(
                        node,
                        "an integrator is supported only as the readout, directly before the Output node",
                    ));
                }
                readout(node, cur, &mut layers, &mut cx)?;
            }
            "CubaLIF" | "CubaLI" => {
                return Err(refuse(
                    node,
                    "current-based neurons have synaptic dynamics (tau_syn) that the LIFB model has no state for",
                ))
            }
            "Delay" => {
                return Err(refuse(
                    node,
                    "the IR has no delay line; layers chain with no delay within a step",
                ))
            }
            "Threshold" => {
                return Err(refuse(node, "a stateless threshold unit has no LIF equivalent here"))
            }
            "Conv1d" => return Err(refuse(node, "only 2-D convolutions are supported")),
            other => {
                return Err(refuse(
                    node,
                    &format!("node type '{other}' is not supported by this importer"),
                ))
            }
        }
    }
    if let Some((sn, _)) = pending_scale {
        return Err(Error::bad_input(format!(
            "node '{sn}' (Scale): a scale after the last synaptic layer cannot be represented"
        )));
    }
    let ends_synaptic = matches!(layers.last(), Some(B::Dense { .. } | B::Conv { .. }));
    let had_integrator = chain
        .links
        .iter()
        .any(|l| matches!(l.node.kind.as_str(), "I" | "Integrator" | "LI"));
    if ends_synaptic && !had_integrator && preset != Preset::LifbHdl {
        cx.warnings.push(
            "the graph ends with a synaptic node, not a neuron or integrator: the network is read out as the sum of its currents over steps".into(),
        );
    }
    if !cx.inexact_fold.is_empty() {
        let names = cx.inexact_fold.join(", ");
        cx.warnings.push(format!(
            "folding gains/scales into the weights rounded some f32 values (nodes: {names}): exact in real arithmetic, may differ from the exporter by one ulp"
        ));
    }
    let name = opts
        .name
        .clone()
        .or_else(|| {
            gmeta
                .as_ref()
                .and_then(|m| m.get("name"))
                .and_then(|v| v.as_str())
                .map(String::from)
        })
        .unwrap_or_else(|| "nir-import".into());
    let precision = gmeta
        .as_ref()
        .and_then(|m| m.get("precision"))
        .and_then(|v| v.as_str())
        .unwrap_or("float");
    let encoding = match gmeta.as_ref().and_then(|m| m.get("encoding")) {
        Some(e) => serde_json::from_value(e.clone())
            .map_err(|e| Error::bad_input(format!("lifb-hdl metadata: encoding: {e}")))?,
        None => Encoding::Direct,
    };
    let mut meta: BTreeMap<String, serde_json::Value> =
        match gmeta.as_ref().and_then(|m| m.get("meta")) {
            Some(m) => serde_json::from_value(m.clone())
                .map_err(|e| Error::bad_input(format!("lifb-hdl metadata: meta: {e}")))?,
            None => BTreeMap::new(),
        };
    if preset != Preset::LifbHdl {
        meta.insert(
            "import".into(),
            serde_json::json!({"from": "nir", "nir_version": file.version, "preset": preset.name(), "dt": dt}),
        );
    }
    let input = InputSpec {
        shape: input_shape,
        encoding,
    };
    let network = if precision == "integer" {
        let fixed: FixedPoint = gmeta
            .as_ref()
            .and_then(|m| m.get("fixed"))
            .map(|f| serde_json::from_value(f.clone()))
            .transpose()
            .map_err(|e| Error::bad_input(format!("lifb-hdl metadata: fixed: {e}")))?
            .ok_or_else(|| {
                Error::bad_input("lifb-hdl metadata: an integer network needs 'fixed'")
            })?;
        if opts.promote.is_some() {
            return Err(Error::bad_input(
                "--promote-lifb applies to float networks; this file holds an integer network (promote before quantizing)",
            ));
        }
        if fixed.leak_frac_bits > 16 {
            return Err(Error::bad_input(format!(
                "lifb-hdl metadata: leak_frac_bits {} is outside 0..=16",
                fixed.leak_frac_bits
            )));
        }
        let layers = layers
            .into_iter()
            .map(|l| finish_int(l, &fixed, &cx))
            .collect::<Result<Vec<_>>>()?;
        let net = Network {
            name,
            input,
            layers,
            fixed: Some(fixed),
            meta,
        };
        net.validate()?;
        AnyNetwork::Integer(net)
    } else {
        let layers = layers
            .into_iter()
            .map(|l| finish_float(l, &mut cx))
            .collect::<Result<Vec<_>>>()?;
        let net = Network {
            name,
            input,
            layers,
            fixed: None,
            meta,
        };
        net.validate()?;
        AnyNetwork::Float(net)
    };
    Ok(Imported {
        network,
        warnings: cx.warnings,
        preset,
        dt,
    })
}

impl Ctx {
    fn warn(&mut self, node: &Node, msg: &str) {
        self.warnings
            .push(format!("node '{}' ({}): {msg}", node.name, node.kind));
    }
    fn note_fold(&mut self, node: &str, w: &[f64]) {
        if w.iter().any(|&x| (x as f32) as f64 != x) && !self.inexact_fold.iter().any(|n| n == node)
        {
            self.inexact_fold.push(node.to_string());
        }
    }
}

/// The most neurons one imported layer may have (about 4 million): per-neuron parameters are
/// expanded to this many values, so the bound keeps an import's memory bounded.
pub const MAX_LAYER_NEURONS: usize = 1 << 22;

fn refuse(node: &Node, why: &str) -> Error {
    Error::bad_input(format!(
        "node '{}' ({}) cannot be imported: {why}",
        node.name, node.kind
    ))
}

fn next_is_output(links: &[Link], i: usize) -> bool {
    links.get(i + 1).is_some_and(|l| l.node.kind == "Output")
}

/// The lifb-hdl metadata of a node or graph (a JSON string in metadata/lifb_hdl).
fn own_meta(t: &super::read::Tree) -> Option<serde_json::Value> {
    match t.members.get("metadata") {
        Some(Value::Group(m)) => match m.members.get("lifb_hdl") {
            Some(Value::Strings { values, .. }) if values.len() == 1 => {
                serde_json::from_str(&values[0]).ok()
            }
            _ => None,
        },
        _ => None,
    }
}

fn tensor<'a>(node: &'a Node, name: &str) -> Result<&'a Tensor> {
    match node.tree.members.get(name) {
        Some(Value::Tensor(t)) => {
            if let Some(i) = t.data.iter().position(|x| !x.is_finite()) {
                return Err(Error::bad_input(format!(
                    "node '{}' ({}): {name}[{i}] is not finite",
                    node.name, node.kind
                )));
            }
            Ok(t)
        }
        Some(_) => Err(Error::bad_input(format!(
            "node '{}' ({}): '{name}' must be a numeric tensor",
            node.name, node.kind
        ))),
        None => Err(Error::bad_input(format!(
            "node '{}' ({}): missing parameter '{name}'",
            node.name, node.kind
        ))),
    }
}

fn opt_tensor<'a>(node: &'a Node, name: &str) -> Result<Option<&'a Tensor>> {
    if node.tree.members.contains_key(name) {
        tensor(node, name).map(Some)
    } else {
        Ok(None)
    }
}

/// A parameter as one value per neuron: 0-d or 1 value (per layer), C values (per channel) or
/// N values (per neuron) for a layer of shape `shape` (or `n` values when no shape is given).
fn broadcast(
    node: &Node,
    what: &str,
    t: &Tensor,
    n: usize,
    shape: Option<Shape>,
) -> Result<Vec<f64>> {
    let len = t.len();
    // Checked before any per-neuron vector is allocated: a small file can declare a huge shape.
    if n > MAX_LAYER_NEURONS {
        return Err(Error::bad_input(format!(
            "node '{}' ({}): {n} neurons in one layer is more than the {MAX_LAYER_NEURONS} this importer accepts; check the layer's shape (conv padding, input size)",
            node.name, node.kind
        )));
    }
    if len == n {
        return Ok(t.data.clone());
    }
    if len == 1 {
        return Ok(vec![t.data[0]; n]);
    }
    if let Some(s) = shape {
        if len == s.c && n == s.len() {
            return Ok(expand_channels(&t.data, s));
        }
    }
    Err(Error::bad_input(format!(
        "node '{}' ({}): '{what}' has {len} values (shape {:?}); expected 1 or {n}{}",
        node.name,
        node.kind,
        t.shape,
        shape
            .map(|s| format!(" or {} (per channel)", s.c))
            .unwrap_or_default()
    )))
}

fn expand_channels(ch: &[f64], s: Shape) -> Vec<f64> {
    let hw = s.h * s.w;
    (0..s.len()).map(|i| ch[i / hw]).collect()
}

/// The per-channel values of a per-element vector, if it is constant within each channel.
fn per_channel(v: &[f64], s: Shape) -> Option<Vec<f64>> {
    let hw = s.h * s.w;
    let ch: Vec<f64> = (0..s.c).map(|c| v[c * hw]).collect();
    v.iter()
        .enumerate()
        .all(|(i, &x)| x == ch[i / hw])
        .then_some(ch)
}

/// A 2-D weight (out, in).
fn matrix(node: &Node, name: &str) -> Result<(usize, usize, Vec<f64>)> {
    let t = tensor(node, name)?;
    if t.shape.len() != 2 || t.shape[0] == 0 || t.shape[1] == 0 {
        return Err(Error::bad_input(format!(
            "node '{}' ({}): '{name}' must be a non-empty 2-D matrix (out, in), got shape {:?}",
            node.name, node.kind, t.shape
        )));
    }
    Ok((t.shape[0], t.shape[1], t.data.clone()))
}

/// A shape dataset ([n], [c, h, w], or with a leading batch dimension of 1).
fn shape_of(t: &super::read::Tree, name: &str, node: &str) -> Result<Shape> {
    let v = match t.members.get(name) {
        Some(Value::Tensor(v)) => v,
        _ => {
            return Err(Error::bad_input(format!(
                "node '{node}': missing or non-numeric '{name}' (the tensor shape)"
            )))
        }
    };
    let mut dims: Vec<usize> = Vec::new();
    for &d in &v.data {
        if d < 1.0 || d.fract() != 0.0 || d > crate::ir::MAX_ELEMENTS as f64 {
            // Name a few values only: a crafted file can declare millions.
            let shown: Vec<f64> = v.data.iter().take(8).copied().collect();
            return Err(Error::bad_input(format!(
                "node '{node}': '{name}' = {shown:?}{} is not a list of positive dimensions",
                if v.data.len() > 8 { " ..." } else { "" }
            )));
        }
        dims.push(d as usize);
    }
    while dims.len() > 3 && dims[0] == 1 {
        dims.remove(0);
    }
    let s = match dims.as_slice() {
        [n] => Shape::flat(*n),
        [h, w] => Shape::chw(1, *h, *w),
        [c, h, w] => Shape::chw(*c, *h, *w),
        _ => {
            return Err(Error::bad_input(format!(
                "node '{node}': shape {dims:?} is not 1-D or (C, H, W)"
            )))
        }
    };
    s.validate()
        .map_err(|e| e.context(format!("node '{node}'")))?;
    Ok(s)
}

/// A pair of sizes from a 0-d, 1- or 2-element dataset (or a default when absent).
fn pair(node: &Node, name: &str, default: Option<[usize; 2]>) -> Result<[usize; 2]> {
    let t = match node.tree.members.get(name) {
        None => {
            return default.ok_or_else(|| {
                Error::bad_input(format!(
                    "node '{}' ({}): missing parameter '{name}'",
                    node.name, node.kind
                ))
            })
        }
        Some(Value::Strings { values, .. })
            if values.len() == 1 && values[0] == "valid" && name == "padding" =>
        {
            return Ok([0, 0])
        }
        Some(_) => tensor(node, name)?,
    };
    let ok = |x: f64| x >= 0.0 && x.fract() == 0.0 && x < 65536.0;
    match t.data.as_slice() {
        [a] if ok(*a) => Ok([*a as usize; 2]),
        [a, b] if ok(*a) && ok(*b) => Ok([*a as usize, *b as usize]),
        _ => Err(Error::bad_input(format!(
            "node '{}' ({}): '{name}' = {:?} must be one or two non-negative integers",
            node.name, node.kind, t.data
        ))),
    }
}

fn pool_out(s: Shape, k: [usize; 2], st: [usize; 2]) -> Option<Shape> {
    if k[0] == 0 || k[1] == 0 || st[0] == 0 || st[1] == 0 || s.h < k[0] || s.w < k[1] {
        return None;
    }
    Some(Shape::chw(
        s.c,
        (s.h - k[0]) / st[0] + 1,
        (s.w - k[1]) / st[1] + 1,
    ))
}

fn conv(
    node: &Node,
    cur: Shape,
    pending: &mut Option<(String, Vec<f64>)>,
    cx: &mut Ctx,
) -> Result<(B, Shape)> {
    let wt = tensor(node, "weight")?;
    if wt.shape.len() != 4 || wt.shape.contains(&0) {
        return Err(Error::bad_input(format!(
            "node '{}' (Conv2d): weight must be 4-D (out, in, kh, kw), got shape {:?}",
            node.name, wt.shape
        )));
    }
    let (co, ci, kh, kw) = (wt.shape[0], wt.shape[1], wt.shape[2], wt.shape[3]);
    let groups = match opt_tensor(node, "groups")? {
        Some(t) => t.data.first().copied().unwrap_or(1.0),
        None => 1.0,
    };
    if groups != 1.0 {
        return Err(refuse(
            node,
            &format!("groups = {groups}; only groups = 1 is supported"),
        ));
    }
    let dil = pair(node, "dilation", Some([1, 1]))?;
    if dil != [1, 1] {
        return Err(refuse(
            node,
            &format!("dilation {dil:?}; only dilation 1 is supported"),
        ));
    }
    let stride = pair(node, "stride", Some([1, 1]))?;
    let padding = match node.tree.members.get("padding") {
        Some(Value::Strings { values, .. }) if values.len() == 1 && values[0] == "same" => {
            if stride != [1, 1] || kh % 2 == 0 || kw % 2 == 0 {
                return Err(refuse(
                    node,
                    "padding 'same' is supported only for odd kernels with stride 1",
                ));
            }
            [kh / 2, kw / 2]
        }
        _ => pair(node, "padding", Some([0, 0]))?,
    };
    if ci != cur.c {
        return Err(Error::bad_input(format!(
            "node '{}' (Conv2d): weight expects {ci} input channels but receives shape {cur}",
            node.name
        )));
    }
    if let Some(t) = opt_tensor(node, "input_shape")? {
        let hw: Vec<f64> = t.data.iter().rev().take(2).rev().copied().collect();
        if hw.len() == 2 && (hw[0] != cur.h as f64 || hw[1] != cur.w as f64) {
            return Err(Error::bad_input(format!(
                "node '{}' (Conv2d): input_shape {:?} does not match the incoming shape {cur}",
                node.name, t.data
            )));
        }
    }
    let mut w = wt.data.clone();
    let b = match opt_tensor(node, "bias")? {
        Some(t) => Some(broadcast(node, "bias", t, co, None)?),
        None => None,
    };
    let b = match (b, own_meta(&node.tree)) {
        (Some(b), Some(m))
            if m.get("bias") == Some(&serde_json::Value::Bool(false))
                && b.iter().all(|&x| x == 0.0) =>
        {
            None
        }
        (b, _) => b,
    };
    if let Some((sn, s)) = pending.take() {
        let ch = per_channel(&s, cur).ok_or_else(|| {
            Error::bad_input(format!(
                "node '{sn}' (Scale): a scale before a convolution must be the same within each channel"
            ))
        })?;
        for o in 0..co {
            for c in 0..ci {
                for k in 0..kh * kw {
                    w[(o * ci + c) * kh * kw + k] *= ch[c];
                }
            }
        }
        cx.note_fold(&sn, &w);
    }
    let oh = (cur.h + 2 * padding[0])
        .checked_sub(kh)
        .map(|x| x / stride[0].max(1) + 1);
    let ow = (cur.w + 2 * padding[1])
        .checked_sub(kw)
        .map(|x| x / stride[1].max(1) + 1);
    let (oh, ow) = match (oh, ow, stride[0] > 0 && stride[1] > 0) {
        (Some(a), Some(b), true) => (a, b),
        _ => {
            return Err(refuse(
                node,
                &format!("kernel ({kh}, {kw}) stride {stride:?} padding {padding:?} does not fit input {cur}"),
            ))
        }
    };
    Ok((
        B::Conv {
            node: node.name.clone(),
            ci,
            co,
            k: [kh, kw],
            s: stride,
            p: padding,
            w,
            b,
        },
        Shape::chw(co, oh, ow),
    ))
}

fn flatten_check(node: &Node, cur: Shape, cx: &mut Ctx) -> Result<()> {
    let get = |n: &str, d: f64| -> Result<f64> {
        Ok(opt_tensor(node, n)?
            .and_then(|t| t.data.first().copied())
            .unwrap_or(d))
    };
    let start = get("start_dim", 0.0)?;
    let end = get("end_dim", -1.0)?;
    let full_end = end == -1.0 || end == 2.0 || (cur.is_flat() && end == 0.0);
    if start == 0.0 && full_end {
        return Ok(());
    }
    if start == 1.0 && (end == -1.0 || end == 3.0) {
        // torch.nn.Flatten's default start_dim=1 counts the batch dimension.
        cx.warn(node, "start_dim = 1 taken as counting the batch dimension (torch convention): flattening everything");
        return Ok(());
    }
    Err(refuse(
        node,
        &format!("start_dim {start} end_dim {end}: only a full flatten of (C, H, W) is supported"),
    ))
}

/// Multiply the rows (outputs) of a synaptic layer by `gain` and add `add` to its bias.
fn fold_rows(
    l: &mut B,
    gain: &[f64],
    add: Option<&[f64]>,
    node: &Node,
    cx: &mut Ctx,
) -> Result<()> {
    let nonzero_add = add.is_some_and(|a| a.iter().any(|&x| x != 0.0));
    match l {
        B::Dense {
            outf,
            inf,
            w,
            b,
            node: ln,
        } => {
            let (outf, inf) = (*outf, *inf);
            for o in 0..outf {
                for j in 0..inf {
                    w[o * inf + j] *= gain[o];
                }
            }
            if b.is_none() && nonzero_add {
                *b = Some(vec![0.0; outf]);
            }
            if let Some(b) = b {
                for o in 0..outf {
                    b[o] = b[o] * gain[o] + add.map_or(0.0, |a| a[o]);
                }
            }
            let ln = ln.clone();
            cx.note_fold(&ln, w);
            if let Some(b) = b {
                let b = b.clone();
                cx.note_fold(&ln, &b);
            }
        }
        B::Conv {
            co, w, b, node: ln, ..
        } => {
            let co = *co;
            let hw = gain.len() / co;
            let s = Shape::chw(co, hw, 1);
            let g = per_channel(gain, s).ok_or_else(|| {
                refuse(
                    node,
                    "its gain (dt*r/tau or scale) differs within a channel after a convolution",
                )
            })?;
            let a = match add {
                Some(a) => Some(per_channel(a, s).ok_or_else(|| {
                    refuse(
                        node,
                        "its leak term dt/tau*v_leak differs within a channel after a convolution",
                    )
                })?),
                None => None,
            };
            let per = w.len() / co;
            for o in 0..co {
                for x in &mut w[o * per..(o + 1) * per] {
                    *x *= g[o];
                }
            }
            if b.is_none() && nonzero_add {
                *b = Some(vec![0.0; co]);
            }
            if let Some(b) = b {
                for o in 0..co {
                    b[o] = b[o] * g[o] + a.as_ref().map_or(0.0, |a| a[o]);
                }
            }
            let ln = ln.clone();
            cx.note_fold(&ln, w);
            if let Some(b) = b {
                let b = b.clone();
                cx.note_fold(&ln, &b);
            }
        }
        _ => unreachable!("fold_rows on a synaptic layer"),
    }
    Ok(())
}

fn last_synaptic<'a>(layers: &'a mut [B], node: &Node) -> Result<&'a mut B> {
    match layers.last_mut() {
        Some(l @ (B::Dense { .. } | B::Conv { .. })) => Ok(l),
        _ => Err(refuse(
            node,
            "a neuron or integrator node must directly follow an Affine, Linear or Conv2d node (it takes currents)",
        )),
    }
}

fn resolve_reset(node: &Node, cx: &mut Ctx) -> Result<ResetRule> {
    let own = own_meta(&node.tree);
    if cx.preset == Preset::LifbHdl {
        return match own
            .as_ref()
            .and_then(|m| m.get("reset"))
            .and_then(|v| v.as_str())
        {
            Some("subtract") => Ok(ResetRule::Subtract),
            Some("zero") => Ok(ResetRule::Zero),
            _ => Err(Error::bad_input(format!(
                "node '{}' ({}): lifb-hdl metadata names no reset",
                node.name, node.kind
            ))),
        };
    }
    let v_reset = opt_tensor(node, "v_reset")?;
    if let Some(r) = cx.opts.reset {
        if v_reset.is_some_and(|t| t.data.iter().any(|&x| x != 0.0)) {
            cx.warn(node, "non-zero v_reset ignored because --reset was given");
        }
        return Ok(match (r, cx.preset) {
            (Reset::Zero, _) => ResetRule::Zero,
            (Reset::Subtract, Preset::Snntorch) => ResetRule::SubtractDelayed,
            (Reset::Subtract, _) => ResetRule::Subtract,
        });
    }
    if cx.preset == Preset::Snntorch {
        return Ok(ResetRule::SubtractDelayed);
    }
    match v_reset {
        Some(t) if t.data.iter().all(|&x| x == 0.0) => Ok(ResetRule::Zero),
        Some(_) => Err(refuse(
            node,
            "reset to a non-zero v_reset is not supported (only reset to 0 or by subtraction; --reset subtract overrides)",
        )),
        None => {
            let legacy = cx.version.as_deref().map(version_before_1_0_6).unwrap_or(true);
            if legacy {
                cx.warn(
                    node,
                    &format!(
                        "no v_reset in a NIR {} file: reset by subtraction, as NIR meant before 1.0.6 (--reset overrides)",
                        cx.version.as_deref().unwrap_or("(unversioned)")
                    ),
                );
                Ok(ResetRule::Subtract)
            } else {
                cx.warn(node, "no v_reset: reset to zero, as NIR means since 1.0.6 (--reset overrides)");
                Ok(ResetRule::Zero)
            }
        }
    }
}

fn version_before_1_0_6(v: &str) -> bool {
    let nums: Vec<u64> = v
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| {
            p.chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect();
    let key = (
        nums.first().copied().unwrap_or(0),
        nums.get(1).copied().unwrap_or(0),
        nums.get(2).copied().unwrap_or(0),
    );
    key < (1, 0, 6)
}

fn neuron(link: &Link, cur: Shape, layers: &mut [B], cx: &mut Ctx) -> Result<Neuron> {
    let node = &link.node;
    let n = cur.len();
    let dt = cx.dt;
    let thr = broadcast(
        node,
        "v_threshold",
        tensor(node, "v_threshold")?,
        n,
        Some(cur),
    )?;
    let r = broadcast(node, "r", tensor(node, "r")?, n, Some(cur))?;
    if let Some(i) = thr.iter().position(|&x| x <= 0.0) {
        return Err(refuse(
            node,
            &format!("v_threshold[{i}] = {} must be > 0", thr[i]),
        ));
    }
    let (lam, gain, leak_add) = if node.kind == "LIF" {
        let tau = broadcast(node, "tau", tensor(node, "tau")?, n, Some(cur))?;
        let v_leak = broadcast(node, "v_leak", tensor(node, "v_leak")?, n, Some(cur))?;
        if tau.iter().any(|&t| t != tau[0]) {
            return Err(refuse(
                node,
                "tau differs between neurons; the IR has one leak factor per layer",
            ));
        }
        let alpha = dt / tau[0];
        if !(alpha > 0.0 && alpha <= 1.0 + 1e-12) {
            return Err(refuse(
                node,
                &format!("tau = {} with dt = {dt} gives dt/tau = {alpha}, outside (0, 1]; check --dt and the preset's units", tau[0]),
            ));
        }
        let alpha = alpha.min(1.0);
        let gain: Vec<f64> = r.iter().map(|&ri| snap_one(dt * ri / tau[0])).collect();
        let add: Vec<f64> = v_leak.iter().map(|&v| alpha * v).collect();
        (1.0 - alpha, gain, add)
    } else {
        if cx.preset == Preset::Snntorch {
            cx.warn(
                node,
                "IF under the snntorch preset: input gain taken as dt*r (the NIR definition)",
            );
        }
        let gain: Vec<f64> = r.iter().map(|&ri| snap_one(dt * ri)).collect();
        (1.0, gain, vec![0.0; n])
    };
    if let Some(i) = gain.iter().position(|&g| g <= 0.0) {
        return Err(refuse(
            node,
            &format!(
                "input gain dt*r/tau at neuron {i} is {} (must be > 0)",
                gain[i]
            ),
        ));
    }
    let own = own_meta(&node.tree).unwrap_or(serde_json::Value::Null);
    // lifb-hdl files carry the exact f32 leak factor; check it agrees with tau.
    let lam = match own.get("lam").and_then(|v| v.as_f64()) {
        Some(l) if cx.preset == Preset::LifbHdl && (l - lam).abs() < 1e-6 => l,
        Some(l) if cx.preset == Preset::LifbHdl => {
            return Err(Error::bad_input(format!(
                "node '{}': metadata lam {l} disagrees with tau (gives {lam})",
                node.name
            )))
        }
        _ => lam,
    };
    let all_one = gain.iter().all(|&g| g == 1.0);
    let no_leak = leak_add.iter().all(|&x| x == 0.0);
    if !(all_one && no_leak) {
        let l = last_synaptic(layers, node)?;
        fold_rows(l, &gain, Some(&leak_add), node, cx)?;
    } else {
        last_synaptic(layers, node)?;
    }
    let reset = resolve_reset(node, cx)?;
    let rho = match own.get("rho") {
        Some(v) if cx.preset == Preset::LifbHdl => {
            Some(serde_json::from_value::<Vec<f64>>(v.clone()).map_err(|e| {
                Error::bad_input(format!("node '{}': metadata rho: {e}", node.name))
            })?)
        }
        _ => None,
    };
    let recurrent = match &link.recurrent {
        None => None,
        Some(rn) => {
            if reset != ResetRule::Subtract {
                return Err(refuse(
                    node,
                    "recurrent weights are supported only with reset by subtraction in the same step (the pure-LIF form); snnTorch's delayed reset and reset to zero are not",
                ));
            }
            Some(recurrent_weights(rn, cur, &gain, &own, cx)?)
        }
    };
    if reset == ResetRule::SubtractDelayed && lam == 0.0 {
        return Err(refuse(node, "beta = 0 with snnTorch's delayed subtract reset cannot be mapped (the reset would need to be undone by the leak)"));
    }
    if reset == ResetRule::SubtractDelayed {
        let l32 = lam as f32;
        if l32.to_bits() & 0x007f_ffff != 0 {
            cx.warn(
                node,
                "snnTorch's delayed reset maps to subtracting threshold/beta before the decay: exact in real arithmetic, f32 rounding may differ from snnTorch by one ulp (beta is not a power of two)",
            );
        }
    }
    if cx.opts.compare == Compare::AsGe && cx.preset != Preset::LifbHdl {
        cx.warn(node, "--compare as-ge: fires on v >= v_threshold where the exporter fires on v > v_threshold (differs on exact ties)");
    }
    Ok(Neuron {
        node: node.name.clone(),
        shape: cur,
        lam,
        thr,
        reset,
        rho,
        recurrent,
        meta: own,
    })
}

/// Float gains that are 1 up to the exporter's own rounding (snnTorch writes r = tau/dt and
/// tau = dt/(1-beta), often in f32, so dt*r/tau is 1 within a few f32 ulps) are taken as exactly 1.
fn snap_one(g: f64) -> f64 {
    if (g - 1.0).abs() < 1e-6 {
        1.0
    } else {
        g
    }
}

/// The recurrent weights of a neuron node as lateral weights within groups of g units.
fn recurrent_weights(
    rn: &Node,
    cur: Shape,
    gain: &[f64],
    own: &serde_json::Value,
    cx: &mut Ctx,
) -> Result<(usize, Vec<f64>)> {
    let n = cur.len();
    let hw = cur.h * cur.w;
    // Channel-to-channel weight matrix (C x C), the same at every position.
    let (rows, mat): (usize, Vec<f64>) = match rn.kind.as_str() {
        "Linear" | "Affine" => {
            if !cur.is_flat() {
                return Err(refuse(rn, "a dense recurrent weight on a (C, H, W) layer is not supported; use a 1x1 Conv2d"));
            }
            let (o, i, w) = matrix(rn, "weight")?;
            if o != n || i != n {
                return Err(refuse(
                    rn,
                    &format!("recurrent weight is {o} x {i}, the neuron layer has {n} neurons"),
                ));
            }
            if rn.kind == "Affine" && tensor(rn, "bias")?.data.iter().any(|&b| b != 0.0) {
                return Err(refuse(
                    rn,
                    "a recurrent weight with a non-zero bias is not supported",
                ));
            }
            (n, w)
        }
        "Conv2d" => {
            let t = tensor(rn, "weight")?;
            let c = cur.c;
            if t.shape != [c, c, 1, 1] {
                return Err(refuse(
                    rn,
                    &format!(
                        "a recurrent Conv2d must be 1x1 with {c} -> {c} channels, got weight {:?}",
                        t.shape
                    ),
                ));
            }
            if let Some(b) = opt_tensor(rn, "bias")? {
                if b.data.iter().any(|&x| x != 0.0) {
                    return Err(refuse(
                        rn,
                        "a recurrent weight with a non-zero bias is not supported",
                    ));
                }
            }
            (c, t.data.clone())
        }
        _ => {
            return Err(refuse(
                rn,
                "recurrent weights must be Linear, Affine or a 1x1 Conv2d",
            ))
        }
    };
    let block_ok =
        |g: usize| (0..rows).all(|u| (0..rows).all(|j| u / g == j / g || mat[u * rows + j] == 0.0));
    let g = match own.get("group").and_then(|v| v.as_u64()) {
        Some(g) if cx.preset == Preset::LifbHdl => g as usize,
        _ => (1..=rows.min(64))
            .filter(|g| rows % g == 0)
            .find(|&g| block_ok(g))
            .ok_or_else(|| {
                refuse(
                    rn,
                    "the recurrent weights do not split into independent groups of at most 64 units (the pure-LIF form's lateral groups)",
                )
            })?,
    };
    if g == 0 || rows % g != 0 || !block_ok(g) {
        return Err(refuse(
            rn,
            &format!("recurrent weights are not block-diagonal in groups of {g}"),
        ));
    }
    // lateral[u][k] for every unit u (per neuron), scaled by the unit's input gain.
    let mut lateral = Vec::with_capacity(n * g);
    for (u, &gu) in gain.iter().enumerate().take(n) {
        let ch = if cur.is_flat() { u } else { u / hw };
        let base = ch - ch % g;
        for k in 0..g {
            lateral.push(gu * mat[ch * rows + base + k]);
        }
    }
    cx.note_fold(&rn.name, &lateral);
    Ok((g, lateral))
}

/// A final I/Integrator (or LI, when allowed) becomes the sum-of-currents readout.
fn readout(node: &Node, cur: Shape, layers: &mut [B], cx: &mut Ctx) -> Result<()> {
    let n = cur.len();
    let r = broadcast(node, "r", tensor(node, "r")?, n, Some(cur))?;
    let dt = cx.dt;
    if node.kind == "LI" {
        if !cx.opts.li_readout_sum {
            return Err(refuse(
                node,
                "a leaky integrator readout ranks classes by its leaky final membrane, not by the sum of currents over steps that the IR reads out; pass --li-readout sum to accept the sum (approximate)",
            ));
        }
        cx.warn(node, "LI readout replaced by the sum of currents over steps (approximate: the leak is dropped)");
        let tau = broadcast(node, "tau", tensor(node, "tau")?, n, Some(cur))?;
        let gain: Vec<f64> = r
            .iter()
            .zip(&tau)
            .map(|(&ri, &t)| snap_one(dt * ri / t))
            .collect();
        let l = last_synaptic(layers, node)?;
        return fold_rows(l, &gain, None, node, cx);
    }
    // v_T = sum_t dt*r*X_t exactly: fold dt*r into the last synaptic layer.
    let gain: Vec<f64> = r.iter().map(|&ri| snap_one(dt * ri)).collect();
    if let Some(i) = gain.iter().position(|&g| g <= 0.0) {
        return Err(refuse(
            node,
            &format!("gain dt*r at output {i} is {} (must be > 0)", gain[i]),
        ));
    }
    let l = last_synaptic(layers, node)?;
    if gain.iter().any(|&g| g != 1.0) {
        fold_rows(l, &gain, None, node, cx)?;
    }
    Ok(())
}

/// The smallest f32 strictly greater than x: v > x  <=>  v >= above(x) for every f32 v.
pub fn f32_above(x: f64) -> f32 {
    let t = x as f32;
    if (t as f64) > x {
        t
    } else {
        t.next_up()
    }
}

/// Per-neuron values stored as 1 (all equal), C (per channel) or N values, or as the length the
/// lifb-hdl metadata asks for.
fn compress<T: Copy + PartialEq>(v: &[T], per: usize, shape: Shape, want: Option<usize>) -> Vec<T> {
    let rows = v.len() / per;
    let hw = rows / shape.c.max(1);
    let row = |i: usize| &v[i * per..(i + 1) * per];
    let take = |r: usize| -> Vec<T> {
        if r == rows {
            v.to_vec()
        } else if r == 1 {
            row(0).to_vec()
        } else {
            (0..r).flat_map(|c| row(c * hw).to_vec()).collect()
        }
    };
    if let Some(w) = want {
        let r = w / per;
        if r == 1 || r == rows || r == shape.c {
            return take(r);
        }
    }
    if (0..rows).all(|i| row(i) == row(0)) {
        take(1)
    } else if shape.c > 1 && hw > 1 && (0..rows).all(|i| row(i) == row((i / hw) * hw)) {
        take(shape.c)
    } else {
        v.to_vec()
    }
}

fn meta_len(m: &serde_json::Value, key: &str) -> Option<usize> {
    m.get(key).and_then(|v| v.as_u64()).map(|v| v as usize)
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

fn finish_float(l: B, cx: &mut Ctx) -> Result<Layer<f32>> {
    Ok(match l {
        B::Dense {
            inf, outf, w, b, ..
        } => Layer::Dense(Dense {
            in_features: inf,
            out_features: outf,
            weight: to_f32(&w),
            bias: b.as_deref().map(to_f32),
        }),
        B::Conv {
            ci,
            co,
            k,
            s,
            p,
            w,
            b,
            ..
        } => Layer::Conv2d(Conv2d {
            in_channels: ci,
            out_channels: co,
            kernel: k,
            stride: s,
            padding: p,
            weight: to_f32(&w),
            bias: b.as_deref().map(to_f32),
        }),
        B::Pool(p) => Layer::Pool(p),
        B::Flatten => Layer::Flatten,
        B::Neuron(nr) => float_neuron(nr, cx)?,
    })
}

fn float_neuron(nr: Neuron, cx: &mut Ctx) -> Result<Layer<f32>> {
    let leak = Leak::Lambda { lam: nr.lam as f32 };
    let exact = cx.opts.compare == Compare::Exact || cx.preset == Preset::LifbHdl;
    let ge: Vec<f32> = nr
        .thr
        .iter()
        .map(|&t| if exact { f32_above(t) } else { t as f32 })
        .collect();
    let plain: Vec<f32> = to_f32(&nr.thr);
    let shape = nr.shape;
    let m = &nr.meta;
    if let Some((g, lateral)) = nr.recurrent {
        // Pure-LIF units: fire on H >= theta and subtract theta. Exact when theta equals the
        // exporter's reset amount (lifb-hdl files, --compare as-ge).
        if cx.preset != Preset::LifbHdl && exact {
            cx.warnings.push(format!(
                "node '{}' (LIF, recurrent): the pure-LIF form subtracts its own threshold; with the strict comparison mapped to the next f32 the reset is one ulp larger than v_threshold (approximate)",
                nr.node
            ));
        }
        let orig = Shape {
            c: shape.c / g,
            ..shape
        };
        let hw = shape.h * shape.w;
        // Rows per original neuron (c_orig, p): thresholds [g], lateral [g][g].
        let mut th_rows = Vec::with_capacity(shape.len());
        let mut lat_rows = Vec::with_capacity(shape.len() * g);
        for co in 0..orig.c {
            for p in 0..hw {
                for k in 0..g {
                    let u = (co * g + k) * hw + p;
                    th_rows.push(ge[u]);
                    lat_rows.extend(lateral[u * g..(u + 1) * g].iter().map(|&x| x as f32));
                }
            }
        }
        return Ok(Layer::LifRecurrent(LifRecurrent {
            leak,
            group: g as u32,
            thresholds: compress(&th_rows, g, orig, meta_len(m, "thresholds_len")),
            lateral: compress(&lat_rows, g * g, orig, meta_len(m, "lateral_len")),
        }));
    }
    if let Some((b, spacing)) = cx.opts.promote {
        let reset = if nr.reset == ResetRule::Zero {
            Reset::Zero
        } else {
            Reset::Subtract
        };
        cx.warnings.push(format!(
            "node '{}': promoted to LIFB (B = {b}, spacing {spacing}, fire on H >= v_threshold): a deliberate change of the neuron, no longer the exported network",
            nr.node
        ));
        return Ok(Layer::Lifb(Lifb {
            leak,
            threshold: compress(&plain, 1, shape, None),
            spacing: vec![spacing],
            max_burst: b,
            reset,
        }));
    }
    let spacing = match m.get("spacing") {
        Some(v) if cx.preset == Preset::LifbHdl => serde_json::from_value::<Vec<f32>>(v.clone())
            .map_err(|e| Error::bad_input(format!("node '{}': metadata spacing: {e}", nr.node)))?,
        _ => vec![1.0],
    };
    let want = meta_len(m, "threshold_len");
    match nr.reset {
        ResetRule::Zero => Ok(Layer::Lifb(Lifb {
            leak,
            threshold: compress(&ge, 1, shape, want),
            spacing,
            max_burst: 1,
            reset: Reset::Zero,
        })),
        ResetRule::Subtract | ResetRule::SubtractDelayed => {
            let rho: Vec<f32> = match (&nr.rho, nr.reset) {
                (Some(r), _) => to_f32(r),
                (None, ResetRule::SubtractDelayed) => {
                    nr.thr.iter().map(|&t| (t / nr.lam) as f32).collect()
                }
                (None, _) => plain.clone(),
            };
            let rho_full: Vec<f32> = if rho.len() == ge.len() {
                rho
            } else if rho.len() == 1 {
                vec![rho[0]; ge.len()]
            } else {
                expand_channels(&rho.iter().map(|&x| x as f64).collect::<Vec<_>>(), shape)
                    .iter()
                    .map(|&x| x as f32)
                    .collect()
            };
            if rho_full == ge || cx.preset == Preset::LifbHdl && nr.rho.is_none() {
                Ok(Layer::Lifb(Lifb {
                    leak,
                    threshold: compress(&ge, 1, shape, want),
                    spacing,
                    max_burst: 1,
                    reset: Reset::Subtract,
                }))
            } else {
                // Fire on the next f32 above v_threshold, subtract the exporter's amount: the
                // group form with one sub-unit keeps both.
                Ok(Layer::LifGroup(LifGroup {
                    leak,
                    group: 1,
                    thresholds: compress(&ge, 1, shape, want),
                    rho: compress(&rho_full, 1, shape, meta_len(m, "rho_len")),
                    reset: Reset::Subtract,
                }))
            }
        }
    }
}

fn int_vec(v: &[f64], what: &str, node: &str) -> Result<Vec<i32>> {
    v.iter()
        .enumerate()
        .map(|(i, &x)| {
            if x.fract() != 0.0 || x < i32::MIN as f64 || x > i32::MAX as f64 {
                Err(Error::bad_input(format!(
                    "node '{node}': {what}[{i}] = {x} is not a 32-bit integer (integer network)"
                )))
            } else {
                Ok(x as i32)
            }
        })
        .collect()
}

/// lifb-hdl integer files: weights are integers; v_threshold = theta - 1/2, so theta = floor+1.
fn finish_int(l: B, fixed: &FixedPoint, cx: &Ctx) -> Result<Layer<i32>> {
    Ok(match l {
        B::Dense {
            inf,
            outf,
            w,
            b,
            node,
        } => Layer::Dense(Dense {
            in_features: inf,
            out_features: outf,
            weight: int_vec(&w, "weight", &node)?,
            bias: b.map(|b| int_vec(&b, "bias", &node)).transpose()?,
        }),
        B::Conv {
            ci,
            co,
            k,
            s,
            p,
            w,
            b,
            node,
        } => Layer::Conv2d(Conv2d {
            in_channels: ci,
            out_channels: co,
            kernel: k,
            stride: s,
            padding: p,
            weight: int_vec(&w, "weight", &node)?,
            bias: b.map(|b| int_vec(&b, "bias", &node)).transpose()?,
        }),
        B::Pool(p) => Layer::Pool(p),
        B::Flatten => Layer::Flatten,
        B::Neuron(nr) => {
            let m = &nr.meta;
            let d = m.get("leak_d").and_then(|v| v.as_u64()).ok_or_else(|| {
                Error::bad_input(format!(
                    "node '{}': integer network without metadata leak_d",
                    nr.node
                ))
            })? as u32;
            let lam_fixed = 1.0 - d as f64 / (1u64 << fixed.leak_frac_bits) as f64;
            if (lam_fixed - nr.lam).abs() > 1e-6 {
                return Err(Error::bad_input(format!(
                    "node '{}': leak_d {d} disagrees with tau (lam {})",
                    nr.node, nr.lam
                )));
            }
            let leak = Leak::Fixed { d };
            let th: Vec<f64> = nr.thr.iter().map(|t| t.floor() + 1.0).collect();
            let th = int_vec(&th, "threshold", &nr.node)?;
            let shape = nr.shape;
            if let Some((g, lateral)) = nr.recurrent {
                let orig = Shape {
                    c: shape.c / g,
                    ..shape
                };
                let hw = shape.h * shape.w;
                let lat = int_vec(&lateral, "lateral", &nr.node)?;
                let mut th_rows = Vec::new();
                let mut lat_rows = Vec::new();
                for co in 0..orig.c {
                    for p in 0..hw {
                        for k in 0..g {
                            let u = (co * g + k) * hw + p;
                            th_rows.push(th[u]);
                            lat_rows.extend_from_slice(&lat[u * g..(u + 1) * g]);
                        }
                    }
                }
                return Ok(Layer::LifRecurrent(LifRecurrent {
                    leak,
                    group: g as u32,
                    thresholds: compress(&th_rows, g, orig, meta_len(m, "thresholds_len")),
                    lateral: compress(&lat_rows, g * g, orig, meta_len(m, "lateral_len")),
                }));
            }
            let spacing: Vec<i32> = match m.get("spacing") {
                Some(v) => {
                    let f: Vec<f64> = serde_json::from_value(v.clone()).map_err(|e| {
                        Error::bad_input(format!("node '{}': metadata spacing: {e}", nr.node))
                    })?;
                    int_vec(&f, "spacing", &nr.node)?
                }
                None => vec![1],
            };
            let want = meta_len(m, "threshold_len");
            let reset = if nr.reset == ResetRule::Zero {
                Reset::Zero
            } else {
                Reset::Subtract
            };
            match &nr.rho {
                Some(rho) if reset == Reset::Subtract => Layer::LifGroup(LifGroup {
                    leak,
                    group: 1,
                    thresholds: compress(&th, 1, shape, want),
                    rho: int_vec(rho, "rho", &nr.node)?,
                    reset,
                }),
                _ => {
                    let _ = cx;
                    Layer::Lifb(Lifb {
                        leak,
                        threshold: compress(&th, 1, shape, want),
                        spacing,
                        max_burst: 1,
                        reset,
                    })
                }
            }
        }
    })
}
