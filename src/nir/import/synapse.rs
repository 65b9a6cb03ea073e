//! Synaptic and structural nodes: convolutions, flatten checks, folding gains into the rows
//! of a synaptic layer.

use super::*;

pub(super) fn conv(
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

pub(super) fn flatten_check(node: &Node, cur: Shape, cx: &mut Ctx) -> Result<()> {
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
pub(super) fn fold_rows(
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

pub(super) fn last_synaptic<'a>(layers: &'a mut [B], node: &Node) -> Result<&'a mut B> {
    match layers.last_mut() {
        Some(l @ (B::Dense { .. } | B::Conv { .. })) => Ok(l),
        _ => Err(refuse(
            node,
            "a neuron or integrator node must directly follow an Affine, Linear or Conv2d node (it takes currents)",
        )),
    }
}
