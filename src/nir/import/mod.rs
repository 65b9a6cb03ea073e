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

mod finish;
mod neuron;
mod synapse;
mod tensors;

pub use finish::f32_above;
use finish::*;
use neuron::*;
use synapse::*;
use tensors::*;

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
    let mut cx = context(file, opts, gmeta.as_ref())?;
    let chain = graph::chain(&file.node)?;
    let (input_shape, layers) = walk(&chain.links, &mut cx)?;
    closing_warnings(&chain.links, &layers, &mut cx);
    let network = assemble(file, gmeta.as_ref(), input_shape, layers, &mut cx)?;
    Ok(Imported {
        network,
        warnings: cx.warnings,
        preset: cx.preset,
        dt: cx.dt,
    })
}

/// The preset and time step the file is read with (options, else the lifb-hdl metadata).
fn context(file: &NirFile, opts: &ImportOptions, gmeta: Option<&serde_json::Value>) -> Result<Ctx> {
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
    let meta_dt = gmeta.and_then(|m| m.get("dt")).and_then(|v| v.as_f64());
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
    Ok(cx)
}

/// A Scale waiting to be folded into the columns of the next synaptic layer: (node name, one
/// factor per element of the signal).
type PendingScale = Option<(String, Vec<f64>)>;

/// Walk the chain from its Input node: the input shape and the importer's layers.
fn walk(links: &[Link], cx: &mut Ctx) -> Result<(Shape, Vec<B>)> {
    let first = &links[0].node;
    let input_shape = shape_of(&first.tree, "shape", &first.name)?;
    let mut cur = input_shape;
    let mut layers: Vec<B> = Vec::new();
    let mut pending_scale: PendingScale = None;
    let n = links.len();
    for (i, link) in links.iter().enumerate().skip(1) {
        let node = &link.node;
        if link.recurrent.is_some() && !matches!(node.kind.as_str(), "LIF" | "IF") {
            return Err(refuse(
                node,
                "recurrent weights are only supported on LIF and IF nodes",
            ));
        }
        match node.kind.as_str() {
            "Output" => output_node(node, cur, i == n - 1)?,
            "Affine" | "Linear" => {
                let (lay, out) = affine(node, cur, &mut pending_scale, cx)?;
                layers.push(lay);
                cur = out;
            }
            "Conv2d" => {
                let (lay, out) = conv(node, cur, &mut pending_scale, cx)?;
                layers.push(lay);
                cur = out;
            }
            "SumPool2d" | "AvgPool2d" => {
                let (lay, out) = pool(node, cur, &mut pending_scale)?;
                layers.push(lay);
                cur = out;
            }
            "Flatten" => {
                flatten_check(node, cur, cx)?;
                layers.push(B::Flatten);
                cur = Shape::flat(cur.len());
            }
            "Scale" => scale(node, cur, &mut layers, &mut pending_scale, cx)?,
            "LIF" | "IF" => {
                let nr = neuron(link, cur, &mut layers, cx)?;
                layers.push(B::Neuron(nr));
            }
            "I" | "Integrator" | "LI" => {
                if !next_is_output(links, i) {
                    return Err(refuse(
                        node,
                        "an integrator is supported only as the readout, directly before the Output node",
                    ));
                }
                readout(node, cur, &mut layers, cx)?;
            }
            _ => return Err(unsupported(node)),
        }
    }
    if let Some((sn, _)) = pending_scale {
        return Err(Error::bad_input(format!(
            "node '{sn}' (Scale): a scale after the last synaptic layer cannot be represented"
        )));
    }
    Ok((input_shape, layers))
}

/// An Output node: it ends the chain, with the network's output size.
fn output_node(node: &Node, cur: Shape, last: bool) -> Result<()> {
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
    Ok(())
}

/// An Affine or Linear node: a dense layer, with a pending Scale folded into its columns.
fn affine(
    node: &Node,
    cur: Shape,
    pending_scale: &mut PendingScale,
    cx: &mut Ctx,
) -> Result<(B, Shape)> {
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
    let layer = B::Dense {
        node: node.name.clone(),
        inf,
        outf,
        w,
        b,
    };
    Ok((layer, Shape::flat(outf)))
}

/// A SumPool2d or AvgPool2d node (unpadded); a pending Scale must be per channel and moves past it.
fn pool(node: &Node, cur: Shape, pending_scale: &mut PendingScale) -> Result<(B, Shape)> {
    let kernel = pair(node, "kernel_size", None)?;
    let stride = pair(node, "stride", Some(kernel))?;
    let pad = pair(node, "padding", Some([0, 0]))?;
    if pad != [0, 0] {
        return Err(refuse(
            node,
            "padded pooling is not supported (padding must be 0)",
        ));
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
    let out = pool_out(cur, kernel, stride).ok_or_else(|| {
        refuse(
            node,
            &format!("kernel {kernel:?} stride {stride:?} does not fit input {cur}"),
        )
    })?;
    if let Some((sn, s)) = pending_scale.take() {
        let ch = per_channel(&s, cur).ok_or_else(|| {
            Error::bad_input(format!(
                "node '{sn}' (Scale): a scale before pooling must be the same within each channel"
            ))
        })?;
        *pending_scale = Some((sn, expand_channels(&ch, out)));
    }
    Ok((B::Pool(p), out))
}

/// A Scale node: folded into the rows of the synaptic layer before it (scaling currents) or
/// kept for the columns of the next one (scaling spikes or inputs).
fn scale(
    node: &Node,
    cur: Shape,
    layers: &mut [B],
    pending_scale: &mut PendingScale,
    cx: &mut Ctx,
) -> Result<()> {
    let t = tensor(node, "scale")?;
    let s = broadcast(node, "scale", t, cur.len(), Some(cur))?;
    match layers.last_mut() {
        Some(l @ (B::Dense { .. } | B::Conv { .. })) if pending_scale.is_none() => {
            fold_rows(l, &s, None, node, cx)?;
        }
        _ => {
            let s = match pending_scale.take() {
                Some((_, p)) => p.iter().zip(&s).map(|(a, b)| a * b).collect(),
                None => s,
            };
            *pending_scale = Some((node.name.clone(), s));
        }
    }
    Ok(())
}

/// The refusal for a node kind the importer does not read, with the reason where one is known.
fn unsupported(node: &Node) -> Error {
    let why = match node.kind.as_str() {
        "Input" => "a second Input node inside the chain".to_string(),
        "CubaLIF" | "CubaLI" => "current-based neurons have synaptic dynamics (tau_syn) that the LIFB model has no state for".to_string(),
        "Delay" => "the IR has no delay line; layers chain with no delay within a step".to_string(),
        "Threshold" => "a stateless threshold unit has no LIF equivalent here".to_string(),
        "Conv1d" => "only 2-D convolutions are supported".to_string(),
        other => format!("node type '{other}' is not supported by this importer"),
    };
    refuse(node, &why)
}

/// Warnings about the whole chain: a current readout nobody asked for, rounded folds.
fn closing_warnings(links: &[Link], layers: &[B], cx: &mut Ctx) {
    let ends_synaptic = matches!(layers.last(), Some(B::Dense { .. } | B::Conv { .. }));
    let had_integrator = links
        .iter()
        .any(|l| matches!(l.node.kind.as_str(), "I" | "Integrator" | "LI"));
    if ends_synaptic && !had_integrator && cx.preset != Preset::LifbHdl {
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
}

/// The network: name, encoding, meta and precision from the lifb-hdl metadata (if any), the
/// layers finished in that precision, validated.
fn assemble(
    file: &NirFile,
    gmeta: Option<&serde_json::Value>,
    input_shape: Shape,
    layers: Vec<B>,
    cx: &mut Ctx,
) -> Result<AnyNetwork> {
    let name = cx
        .opts
        .name
        .clone()
        .or_else(|| {
            gmeta
                .and_then(|m| m.get("name"))
                .and_then(|v| v.as_str())
                .map(String::from)
        })
        .unwrap_or_else(|| "nir-import".into());
    let precision = gmeta
        .and_then(|m| m.get("precision"))
        .and_then(|v| v.as_str())
        .unwrap_or("float");
    let encoding = match gmeta.and_then(|m| m.get("encoding")) {
        Some(e) => serde_json::from_value(e.clone())
            .map_err(|e| Error::bad_input(format!("lifb-hdl metadata: encoding: {e}")))?,
        None => Encoding::Direct,
    };
    let mut meta: BTreeMap<String, serde_json::Value> = match gmeta.and_then(|m| m.get("meta")) {
        Some(m) => serde_json::from_value(m.clone())
            .map_err(|e| Error::bad_input(format!("lifb-hdl metadata: meta: {e}")))?,
        None => BTreeMap::new(),
    };
    if cx.preset != Preset::LifbHdl {
        meta.insert(
            "import".into(),
            serde_json::json!({"from": "nir", "nir_version": file.version, "preset": cx.preset.name(), "dt": cx.dt}),
        );
    }
    let input = InputSpec {
        shape: input_shape,
        encoding,
    };
    if precision == "integer" {
        let fixed: FixedPoint = gmeta
            .and_then(|m| m.get("fixed"))
            .map(|f| serde_json::from_value(f.clone()))
            .transpose()
            .map_err(|e| Error::bad_input(format!("lifb-hdl metadata: fixed: {e}")))?
            .ok_or_else(|| {
                Error::bad_input("lifb-hdl metadata: an integer network needs 'fixed'")
            })?;
        if cx.opts.promote.is_some() {
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
            .map(|l| finish_int(l, &fixed, cx))
            .collect::<Result<Vec<_>>>()?;
        let net = Network {
            name,
            input,
            layers,
            fixed: Some(fixed),
            meta,
        };
        net.validate()?;
        Ok(AnyNetwork::Integer(net))
    } else {
        let layers = layers
            .into_iter()
            .map(|l| finish_float(l, cx))
            .collect::<Result<Vec<_>>>()?;
        let net = Network {
            name,
            input,
            layers,
            fixed: None,
            meta,
        };
        net.validate()?;
        Ok(AnyNetwork::Float(net))
    }
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
fn own_meta(t: &crate::nir::read::Tree) -> Option<serde_json::Value> {
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
