//! Reading a node's parameters: tensors, broadcasting, shapes, pairs.

use super::*;

pub(super) fn tensor<'a>(node: &'a Node, name: &str) -> Result<&'a Tensor> {
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

pub(super) fn opt_tensor<'a>(node: &'a Node, name: &str) -> Result<Option<&'a Tensor>> {
    if node.tree.members.contains_key(name) {
        tensor(node, name).map(Some)
    } else {
        Ok(None)
    }
}

/// A parameter as one value per neuron: 0-d or 1 value (per layer), C values (per channel) or
/// N values (per neuron) for a layer of shape `shape` (or `n` values when no shape is given).
pub(super) fn broadcast(
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
            .filter(|s| s.c != n)
            .map(|s| format!(" or {} (per channel)", s.c))
            .unwrap_or_default()
    )))
}

pub(super) fn expand_channels(ch: &[f64], s: Shape) -> Vec<f64> {
    let hw = s.h * s.w;
    (0..s.len()).map(|i| ch[i / hw]).collect()
}

/// The per-channel values of a per-element vector, if it is constant within each channel.
pub(super) fn per_channel(v: &[f64], s: Shape) -> Option<Vec<f64>> {
    let hw = s.h * s.w;
    let ch: Vec<f64> = (0..s.c).map(|c| v[c * hw]).collect();
    v.iter()
        .enumerate()
        .all(|(i, &x)| x == ch[i / hw])
        .then_some(ch)
}

/// A 2-D weight (out, in).
pub(super) fn matrix(node: &Node, name: &str) -> Result<(usize, usize, Vec<f64>)> {
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
pub(super) fn shape_of(t: &crate::nir::read::Tree, name: &str, node: &str) -> Result<Shape> {
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
            return Err(Error::bad_input(format!(
                "node '{node}': '{name}' = {} is not a list of positive dimensions",
                preview(&v.data)
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
                "node '{node}': shape {} is not 1-D or (C, H, W)",
                preview(&v.data)
            )))
        }
    };
    s.validate()
        .map_err(|e| e.context(format!("node '{node}'")))?;
    Ok(s)
}

/// A pair of sizes from a 0-d, 1- or 2-element dataset (or a default when absent).
pub(super) fn pair(node: &Node, name: &str, default: Option<[usize; 2]>) -> Result<[usize; 2]> {
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
            "node '{}' ({}): '{name}' = {} must be one or two non-negative integers",
            node.name,
            node.kind,
            preview(&t.data)
        ))),
    }
}

/// A parameter's values for an error message: the first few only, since a crafted file can
/// declare millions (the message would cost more than the refusal).
pub(super) fn preview(v: &[f64]) -> String {
    const SHOWN: usize = 8;
    let head: Vec<f64> = v.iter().take(SHOWN).copied().collect();
    if v.len() > SHOWN {
        format!("{head:?} ... ({} values)", v.len())
    } else {
        format!("{head:?}")
    }
}

pub(super) fn pool_out(s: Shape, k: [usize; 2], st: [usize; 2]) -> Option<Shape> {
    if k[0] == 0 || k[1] == 0 || st[0] == 0 || st[1] == 0 || s.h < k[0] || s.w < k[1] {
        return None;
    }
    Some(Shape::chw(
        s.c,
        (s.h - k[0]) / st[0] + 1,
        (s.w - k[1]) / st[1] + 1,
    ))
}

#[cfg(test)]
#[test]
fn a_huge_parameter_is_shown_by_its_first_values_and_its_length() {
    let v = vec![0.5; 5_000_000];
    let s = preview(&v);
    assert!(s.len() < 100, "{s}");
    assert!(s.ends_with("... (5000000 values)"), "{s}");
    assert_eq!(preview(&[1.0, 2.0]), "[1.0, 2.0]");
}
