//! Network IR -> NIR file, written with the pure-Rust `hdf5-writer` in the layout the Python
//! `nir` package reads. The standard fields say what NIR can say; what it cannot (our reset by
//! subtraction, the integer leak, the fixed-point widths, compressed parameter lengths) goes into
//! `metadata/lifb_hdl` JSON strings, from which `lifb-hdl import` restores the network exactly.
//!
//! Neuron mapping (docs/import.md, "Export"): H = lam V + X with lam < 1 becomes LIF with
//! tau = dt/(1-lam), r = tau/dt (input gain dt*r/tau = 1), v_leak = 0; lam = 1 becomes IF with
//! r = 1/dt. "Fire on H >= theta" becomes v_threshold = the f32 just below theta (float) or
//! theta - 1/2 (integer), so NIR's "v > v_threshold" fires on exactly the same values.
//! LifRecurrent (the pure-LIF decoupled form) becomes a LIF node plus a recurrent weight node
//! (Linear for flat layers, 1x1 Conv2d for (C, H, W) layers) on a cycle LIF -> weight -> LIF,
//! the convention snnTorch's RLeaky export uses, where the cycle carries the previous step's
//! spikes (no Delay node).

use crate::error::{Error, Result};
use crate::format::AnyNetwork;
use crate::ir::{self, Elem, Layer, Leak, Network, PoolKind, Reset, Shape};
use hdf5_writer::{DatasetBuilder, Hdf5Builder};
use serde_json::json;

/// NIR version written to /version.
pub const NIR_VERSION: &str = "1.0.8";

#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The time step the tau values are expressed against (snnTorch's convention: 1e-4).
    pub dt: f64,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { dt: 1e-4 }
    }
}

#[derive(Debug, Clone)]
pub struct Exported {
    pub bytes: Vec<u8>,
    /// Where a NIR consumer that ignores our metadata would not run the same network.
    pub warnings: Vec<String>,
    pub nodes: usize,
}

/// A dataset value.
#[doc(hidden)]
pub enum P {
    F32(Vec<usize>, Vec<f32>),
    F64(Vec<usize>, Vec<f64>),
    I64(Vec<usize>, Vec<i64>),
}

struct NodeOut {
    name: String,
    kind: &'static str,
    params: Vec<(&'static str, P)>,
    meta: Option<serde_json::Value>,
}

/// A number type the exporter can write.
pub trait ExportElem: Elem {
    #[doc(hidden)]
    fn weights(shape: Vec<usize>, v: &[Self]) -> P;
}

impl ExportElem for f32 {
    fn weights(shape: Vec<usize>, v: &[f32]) -> P {
        P::F32(shape, v.to_vec())
    }
}

impl ExportElem for i32 {
    fn weights(shape: Vec<usize>, v: &[i32]) -> P {
        P::F64(shape, v.iter().map(|&x| x as f64).collect())
    }
}

pub fn export_any(net: &AnyNetwork, opts: &ExportOptions) -> Result<Exported> {
    match net {
        AnyNetwork::Float(n) => export(n, opts),
        AnyNetwork::Integer(n) => export(n, opts),
    }
}

fn dims(s: Shape) -> Vec<usize> {
    if s.is_flat() {
        vec![s.c]
    } else {
        vec![s.c, s.h, s.w]
    }
}

/// Per-neuron values from a parameter stored per layer, channel or neuron (`per` = 1).
fn expand<T: Copy>(v: &[T], shape: Shape) -> Vec<T> {
    (0..shape.len())
        .map(|n| v[ir::param_row(v.len(), 1, shape, n)])
        .collect()
}

pub fn export<T: ExportElem>(net: &Network<T>, opts: &ExportOptions) -> Result<Exported> {
    net.validate()?;
    let dt = opts.dt;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::bad_input(format!("--dt must be > 0, got {dt}")));
    }
    let shapes = net.shapes()?;
    let integer = net.fixed.as_ref();
    let mut nodes: Vec<NodeOut> = Vec::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut warnings = Vec::new();
    nodes.push(NodeOut {
        name: "input".into(),
        kind: "Input",
        params: vec![(
            "shape",
            P::I64(
                vec![dims(net.input.shape).len()],
                dims(net.input.shape).iter().map(|&d| d as i64).collect(),
            ),
        )],
        meta: None,
    });
    let mut prev = "input".to_string();
    for (i, layer) in net.layers.iter().enumerate() {
        let input = net.input_shape_of(&shapes, i);
        let output = shapes[i];
        let label = ir::layer_label(i, layer);
        let name = format!("l{i}_{}", layer.kind_name());
        let mut rec: Option<NodeOut> = None;
        let node = match layer {
            Layer::Dense(d) => {
                let mut params = vec![("weight", T::weights(vec![d.out_features, d.in_features], &d.weight))];
                let kind = match &d.bias {
                    Some(b) => {
                        params.push(("bias", T::weights(vec![d.out_features], b)));
                        "Affine"
                    }
                    None => "Linear",
                };
                NodeOut { name, kind, params, meta: None }
            }
            Layer::Conv2d(c) => {
                let zeros = vec![T::default(); c.out_channels];
                let bias = c.bias.as_ref().unwrap_or(&zeros);
                NodeOut {
                    name,
                    kind: "Conv2d",
                    params: vec![
                        ("weight", T::weights(vec![c.out_channels, c.in_channels, c.kernel[0], c.kernel[1]], &c.weight)),
                        ("bias", T::weights(vec![c.out_channels], bias)),
                        ("stride", P::I64(vec![2], c.stride.iter().map(|&x| x as i64).collect())),
                        ("padding", P::I64(vec![2], c.padding.iter().map(|&x| x as i64).collect())),
                        ("dilation", P::I64(vec![2], vec![1, 1])),
                        ("groups", P::I64(vec![], vec![1])),
                        ("input_shape", P::I64(vec![2], vec![input.h as i64, input.w as i64])),
                    ],
                    meta: c.bias.is_none().then(|| json!({"bias": false})),
                }
            }
            Layer::Pool(p) => NodeOut {
                name,
                kind: if p.kind == PoolKind::Sum { "SumPool2d" } else { "AvgPool2d" },
                params: vec![
                    ("kernel_size", P::I64(vec![2], p.kernel.iter().map(|&x| x as i64).collect())),
                    ("stride", P::I64(vec![2], p.stride.iter().map(|&x| x as i64).collect())),
                    ("padding", P::I64(vec![2], vec![0, 0])),
                ],
                meta: None,
            },
            Layer::Flatten => NodeOut {
                name,
                kind: "Flatten",
                params: vec![
                    ("start_dim", P::I64(vec![], vec![0])),
                    ("end_dim", P::I64(vec![], vec![-1])),
                    ("input_type", P::I64(vec![3], vec![input.c as i64, input.h as i64, input.w as i64])),
                ],
                meta: None,
            },
            Layer::Lifb(n) if n.max_burst == 1 => {
                let th: Vec<f64> = expand(&n.threshold, output).iter().map(|x| x.to_f64()).collect();
                let mut meta = json!({
                    "reset": reset_name(n.reset),
                    "threshold_len": n.threshold.len(),
                    "spacing": n.spacing.iter().map(|x| x.to_f64()).collect::<Vec<_>>(),
                });
                let (kind, params) = lif_params(n.leak, integer, &th, output, dt, n.reset, &mut meta);
                if n.reset == Reset::Subtract {
                    meta["reset_amount"] = json!(th);
                    warnings.push(subtract_warning(&label));
                }
                NodeOut { name, kind, params, meta: Some(meta) }
            }
            Layer::LifGroup(g) if g.group == 1 => {
                let th: Vec<f64> = expand(&g.thresholds, output).iter().map(|x| x.to_f64()).collect();
                let mut meta = json!({
                    "reset": reset_name(g.reset),
                    "threshold_len": g.thresholds.len(),
                    "rho": g.rho.iter().map(|x| x.to_f64()).collect::<Vec<_>>(),
                    "rho_len": g.rho.len(),
                });
                let (kind, params) = lif_params(g.leak, integer, &th, output, dt, g.reset, &mut meta);
                if g.reset == Reset::Subtract {
                    let rho: Vec<f64> = expand(&g.rho, output).iter().map(|x| x.to_f64()).collect();
                    meta["reset_amount"] = json!(rho);
                }
                if g.reset == Reset::Subtract {
                    warnings.push(format!(
                        "{label}: the reset amounts (rho) differ from the thresholds; NIR has no field for them, they are in metadata only"
                    ));
                }
                NodeOut { name, kind, params, meta: Some(meta) }
            }
            Layer::Lifb(_) | Layer::LifGroup(_) => {
                return Err(Error::bad_input(format!(
                    "{label}: NIR has no burst neuron and no shared-membrane group; decouple the network into the pure-LIF form first (lifb-hdl decouple, recurrent form) and export that"
                )))
            }
            Layer::LifRecurrent(r) => {
                let g = r.group as usize;
                let hw = output.h * output.w;
                let orig = Shape { c: output.c / g, ..output };
                // Per unit u = (c_orig*g + k)*hw + p: its threshold and its lateral row.
                let mut th = vec![0f64; output.len()];
                for co in 0..orig.c {
                    for p in 0..hw {
                        let row = ir::param_row(r.thresholds.len(), g, orig, co * hw + p);
                        for k in 0..g {
                            th[(co * g + k) * hw + p] = r.thresholds[row * g + k].to_f64();
                        }
                    }
                }
                let mut meta = json!({
                    "reset": "subtract",
                    "group": g,
                    "thresholds_len": r.thresholds.len(),
                    "lateral_len": r.lateral.len(),
                });
                let (kind, params) = lif_params(r.leak, integer, &th, output, dt, Reset::Subtract, &mut meta);
                meta["reset_amount"] = json!(th);
                warnings.push(subtract_warning(&label));
                let rec_name = format!("{name}_recurrent");
                let rec_node = if output.is_flat() {
                    let n = output.c;
                    let mut w = vec![T::default(); n * n];
                    for co in 0..orig.c {
                        let row = ir::param_row(r.lateral.len(), g * g, orig, co);
                        for k in 0..g {
                            for j in 0..g {
                                w[(co * g + k) * n + co * g + j] = r.lateral[row * g * g + k * g + j];
                            }
                        }
                    }
                    NodeOut { name: rec_name.clone(), kind: "Linear", params: vec![("weight", T::weights(vec![n, n], &w))], meta: None }
                } else {
                    let per_neuron = r.lateral.len() == orig.len() * g * g && orig.len() != orig.c;
                    if per_neuron && r.lateral.len() != g * g {
                        return Err(Error::bad_input(format!(
                            "{label}: per-neuron lateral weights on a (C, H, W) layer have no NIR form (a 1x1 convolution shares weights over positions)"
                        )));
                    }
                    let c = output.c;
                    let mut w = vec![T::default(); c * c];
                    for co in 0..orig.c {
                        let row = ir::param_row(r.lateral.len(), g * g, orig, co * hw);
                        for k in 0..g {
                            for j in 0..g {
                                w[(co * g + k) * c + co * g + j] = r.lateral[row * g * g + k * g + j];
                            }
                        }
                    }
                    let zeros = vec![T::default(); c];
                    NodeOut {
                        name: rec_name.clone(),
                        kind: "Conv2d",
                        params: vec![
                            ("weight", T::weights(vec![c, c, 1, 1], &w)),
                            ("bias", T::weights(vec![c], &zeros)),
                            ("stride", P::I64(vec![2], vec![1, 1])),
                            ("padding", P::I64(vec![2], vec![0, 0])),
                            ("dilation", P::I64(vec![2], vec![1, 1])),
                            ("groups", P::I64(vec![], vec![1])),
                            ("input_shape", P::I64(vec![2], vec![output.h as i64, output.w as i64])),
                        ],
                        meta: None,
                    }
                };
                rec = Some(rec_node);
                NodeOut { name, kind, params, meta: Some(meta) }
            }
        };
        if let Some(f) = integer {
            if let Some(Leak::Fixed { d }) = leak_of(layer) {
                if d != 0 {
                    warnings.push(format!(
                        "{label}: the integer leak V - ((V*{d}) >> {}) rounds down; NIR's tau describes it only approximately (a float consumer will differ)",
                        f.leak_frac_bits
                    ));
                }
            }
        }
        edges.push((prev.clone(), node.name.clone()));
        prev = node.name.clone();
        nodes.push(node);
        if let Some(r) = rec {
            edges.push((prev.clone(), r.name.clone()));
            edges.push((r.name.clone(), prev.clone()));
            nodes.push(r);
        }
    }
    let out_shape = *shapes.last().expect("validated: layers");
    if net.layers.last().is_some_and(|l| l.is_synaptic()) {
        // The IR reads out the sum of the last currents over steps: an integrator with
        // dt*r = 1 holds exactly that sum.
        nodes.push(NodeOut {
            name: "readout".into(),
            kind: "I",
            params: vec![(
                "r",
                P::F64(dims(out_shape), vec![1.0 / dt; out_shape.len()]),
            )],
            meta: None,
        });
        edges.push((prev.clone(), "readout".into()));
        prev = "readout".into();
    }
    nodes.push(NodeOut {
        name: "output".into(),
        kind: "Output",
        params: vec![(
            "shape",
            P::I64(
                vec![dims(out_shape).len()],
                dims(out_shape).iter().map(|&d| d as i64).collect(),
            ),
        )],
        meta: None,
    });
    edges.push((prev, "output".into()));
    let graph_meta = json!({
        "format": "lifb-hdl",
        "version": 1,
        "name": net.name,
        "precision": if integer.is_some() { "integer" } else { "float" },
        "dt": dt,
        "encoding": net.input.encoding,
        "fixed": net.fixed,
        "meta": net.meta,
    });
    if integer.is_some() {
        warnings.push("integer network: membranes saturate at the fixed-point width, which NIR cannot express (exact while no membrane reaches it)".into());
    }
    let bytes = write_hdf5(&nodes, &edges, &graph_meta)?;
    Ok(Exported {
        bytes,
        warnings,
        nodes: nodes.len(),
    })
}

fn leak_of<T>(l: &Layer<T>) -> Option<Leak> {
    match l {
        Layer::Lifb(n) => Some(n.leak),
        Layer::LifGroup(n) => Some(n.leak),
        Layer::LifRecurrent(n) => Some(n.leak),
        _ => None,
    }
}

fn reset_name(r: Reset) -> &'static str {
    match r {
        Reset::Subtract => "subtract",
        Reset::Zero => "zero",
    }
}

fn subtract_warning(label: &str) -> String {
    format!(
        "{label}: reset by subtraction has no NIR 1.0.8 field; v_reset is left out (before NIR 1.0.6 that meant subtract) and metadata says reset = subtract with reset_amount = theta (one f32 ulp, or 1/2 for integers, above v_threshold); a consumer that resets to zero, or subtracts v_threshold, will differ"
    )
}

/// LIF or IF parameters for one neuron layer; records lam / leak_d in `meta`.
#[allow(clippy::too_many_arguments)]
fn lif_params(
    leak: Leak,
    integer: Option<&ir::FixedPoint>,
    theta: &[f64],
    shape: Shape,
    dt: f64,
    reset: Reset,
    meta: &mut serde_json::Value,
) -> (&'static str, Vec<(&'static str, P)>) {
    let lam = match (leak, integer) {
        (Leak::Lambda { lam }, _) => {
            meta["lam"] = json!(lam as f64);
            lam as f64
        }
        (Leak::Fixed { d }, Some(f)) => {
            meta["leak_d"] = json!(d);
            1.0 - d as f64 / (1u64 << f.leak_frac_bits) as f64
        }
        (Leak::Fixed { .. }, None) => unreachable!("validated: float networks have lam"),
    };
    let v_th: Vec<f64> = theta
        .iter()
        .map(|&t| {
            if integer.is_some() {
                t - 0.5
            } else {
                (t as f32).next_down() as f64
            }
        })
        .collect();
    // Full per-neuron tensors even for per-layer values: the nir package infers a node's
    // input type from its parameter shapes, and 0-d parameters fail its type check.
    let (sh, vals): (Vec<usize>, Vec<f64>) = (dims(shape), v_th);
    let n = vals.len();
    let full = |x: f64| P::F64(sh.clone(), vec![x; n]);
    let mut params = Vec::new();
    let kind = if lam >= 1.0 {
        params.push(("r", full(1.0 / dt)));
        "IF"
    } else {
        let tau = dt / (1.0 - lam);
        params.push(("tau", full(tau)));
        params.push(("r", full(tau / dt)));
        params.push(("v_leak", full(0.0)));
        "LIF"
    };
    params.push(("v_threshold", P::F64(sh.clone(), vals)));
    if reset == Reset::Zero {
        params.push(("v_reset", full(0.0)));
    }
    (kind, params)
}

fn werr(e: hdf5_writer::Error) -> Error {
    Error::tool(format!("writing HDF5: {e}"))
}

fn u64s(v: &[usize]) -> Vec<u64> {
    v.iter().map(|&x| x as u64).collect()
}

fn write_hdf5(
    nodes: &[NodeOut],
    edges: &[(String, String)],
    graph_meta: &serde_json::Value,
) -> Result<Vec<u8>> {
    let mut b = Hdf5Builder::new();
    let s = |name: String, v: &str| {
        DatasetBuilder::vlen_string_data(name, Vec::<u64>::new(), &[v]).map_err(werr)
    };
    b = b.dataset(s("version".into(), NIR_VERSION)?);
    b = b.dataset(s("node/type".into(), "NIRGraph")?);
    let flat: Vec<&str> = edges
        .iter()
        .flat_map(|(a, c)| [a.as_str(), c.as_str()])
        .collect();
    b = b.dataset(
        DatasetBuilder::vlen_string_data("node/edges", vec![edges.len() as u64, 2], &flat)
            .map_err(werr)?,
    );
    b = b.dataset(s("node/metadata/lifb_hdl".into(), &graph_meta.to_string())?);
    for n in nodes {
        let base = format!("node/nodes/{}", n.name);
        b = b.dataset(s(format!("{base}/type"), n.kind)?);
        for (k, p) in &n.params {
            let name = format!("{base}/{k}");
            let d = match p {
                P::F32(sh, v) => DatasetBuilder::typed_data(name, u64s(sh), v),
                P::F64(sh, v) => DatasetBuilder::typed_data(name, u64s(sh), v),
                P::I64(sh, v) => DatasetBuilder::typed_data(name, u64s(sh), v),
            }
            .map_err(werr)?;
            b = b.dataset(d);
        }
        if let Some(m) = &n.meta {
            b = b.dataset(s(format!("{base}/metadata/lifb_hdl"), &m.to_string())?);
        }
    }
    let plan = b.into_plan().map_err(werr)?;
    plan.encode(hdf5_writer::WriteOptions::default())
        .map_err(werr)
}
