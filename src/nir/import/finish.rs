//! From the importer's layers to the IR's, in float or integer precision.

use super::*;

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
pub(super) fn compress<T: Copy + PartialEq>(
    v: &[T],
    per: usize,
    shape: Shape,
    want: Option<usize>,
) -> Vec<T> {
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

pub(super) fn meta_len(m: &serde_json::Value, key: &str) -> Option<usize> {
    m.get(key).and_then(|v| v.as_u64()).map(|v| v as usize)
}

pub(super) fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// The synaptic and structural layers in either precision, their numbers converted by `num`
/// (values, tensor name, node name); a neuron layer is handed back for its precision's rules.
fn finish_structure<T>(
    l: B,
    num: impl Fn(&[f64], &str, &str) -> Result<Vec<T>>,
) -> Result<std::result::Result<Layer<T>, Neuron>> {
    Ok(Ok(match l {
        B::Dense {
            inf,
            outf,
            w,
            b,
            node,
        } => Layer::Dense(Dense {
            in_features: inf,
            out_features: outf,
            weight: num(&w, "weight", &node)?,
            bias: b.map(|b| num(&b, "bias", &node)).transpose()?,
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
            weight: num(&w, "weight", &node)?,
            bias: b.map(|b| num(&b, "bias", &node)).transpose()?,
        }),
        B::Pool(p) => Layer::Pool(p),
        B::Flatten => Layer::Flatten,
        B::Neuron(nr) => return Ok(Err(nr)),
    }))
}

pub(super) fn finish_float(l: B, cx: &mut Ctx) -> Result<Layer<f32>> {
    match finish_structure(l, |v, _, _| Ok(to_f32(v)))? {
        Ok(layer) => Ok(layer),
        Err(nr) => float_neuron(nr, cx),
    }
}

pub(super) fn float_neuron(nr: Neuron, cx: &mut Ctx) -> Result<Layer<f32>> {
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

pub(super) fn int_vec(v: &[f64], what: &str, node: &str) -> Result<Vec<i32>> {
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
pub(super) fn finish_int(l: B, fixed: &FixedPoint, cx: &Ctx) -> Result<Layer<i32>> {
    let nr = match finish_structure(l, int_vec)? {
        Ok(layer) => return Ok(layer),
        Err(nr) => nr,
    };
    let layer = {
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
    };
    Ok(layer)
}
