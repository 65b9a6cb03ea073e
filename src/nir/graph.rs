//! From the NIR node tree to a chain of nodes: nested subgraphs are inlined (their Input and
//! Output nodes become pass-throughs), edges may come in any order, a node whose only neighbour
//! is one neuron node on both sides is a recurrent weight of that neuron, and everything else
//! must form one chain from the Input to the Output. Branches and merges are refused, naming
//! the node, because the IR is a chain of layers.

use super::read::{Tree, Value};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// One NIR node, with its dotted name ("head.affine" for a node of subgraph "head").
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: String,
    pub tree: Tree,
}

/// A chain link: a node and, for a neuron node, the node holding its recurrent weights.
#[derive(Debug, Clone)]
pub struct Link {
    pub node: Node,
    pub recurrent: Option<Node>,
}

/// The linear chain, Input first, Output last; subgraph Input/Output nodes are removed.
#[derive(Debug, Clone)]
pub struct Chain {
    pub links: Vec<Link>,
}

/// The node type string of a node group ("LIF", "NIRGraph" ...).
pub fn node_type(t: &Tree) -> Result<String> {
    match t.members.get("type") {
        Some(Value::Strings { values, .. }) if values.len() == 1 => Ok(values[0].clone()),
        Some(_) => Err(Error::bad_input(format!(
            "{}/type: expected one string (the NIR node type)",
            t.path
        ))),
        None => Err(Error::bad_input(format!(
            "{}: no 'type' dataset; every NIR node names its type",
            t.path
        ))),
    }
}

const MAX_NODES: usize = 10_000;

#[derive(Default)]
struct Flat {
    nodes: BTreeMap<String, Node>,
    /// Pass-through nodes: the Input and Output nodes of inlined subgraphs.
    passthrough: BTreeSet<String>,
    edges: Vec<(String, String)>,
}

/// Inline subgraphs and linearise. `root` is the /node group (type NIRGraph).
pub fn chain(root: &Tree) -> Result<Chain> {
    let ty = node_type(root)?;
    if ty != "NIRGraph" {
        return Err(Error::bad_input(format!(
            "/node has type '{ty}', expected 'NIRGraph'"
        )));
    }
    let mut flat = Flat::default();
    let (inputs, outputs) = inline(root, "", &mut flat, 0)?;
    if inputs.len() != 1 {
        return Err(Error::bad_input(format!(
            "the graph has {} Input nodes ({}); exactly one is supported",
            inputs.len(),
            inputs.join(", ")
        )));
    }
    if outputs.len() != 1 {
        return Err(Error::bad_input(format!(
            "the graph has {} Output nodes ({}); exactly one is supported",
            outputs.len(),
            outputs.join(", ")
        )));
    }
    linearise(flat, &inputs[0], &outputs[0])
}

/// Add the nodes and edges of graph `g` with name prefix `prefix`; returns the (prefixed) names
/// of its Input and Output nodes.
fn inline(
    g: &Tree,
    prefix: &str,
    flat: &mut Flat,
    depth: usize,
) -> Result<(Vec<String>, Vec<String>)> {
    if depth > 16 {
        return Err(Error::bad_input(format!(
            "{}: subgraphs nest deeper than 16 levels",
            g.path
        )));
    }
    let nodes = match g.members.get("nodes") {
        Some(Value::Group(t)) => t,
        _ => {
            return Err(Error::bad_input(format!(
                "{}: a NIRGraph needs a 'nodes' group",
                g.path
            )))
        }
    };
    let edges = match g.members.get("edges") {
        Some(Value::Strings { shape, values }) => {
            let ok = (shape.len() == 2 && shape[1] == 2) || (shape.len() == 1 && shape[0] == 0);
            if !ok || values.len() % 2 != 0 {
                return Err(Error::bad_input(format!(
                    "{}/edges: expected an E x 2 array of node names, got shape {shape:?}",
                    g.path
                )));
            }
            values
                .chunks(2)
                .map(|c| (c[0].clone(), c[1].clone()))
                .collect::<Vec<_>>()
        }
        // h5py writes an empty edge list as a float array of shape (0,).
        Some(Value::Tensor(t)) if t.is_empty() => Vec::new(),
        Some(_) => {
            return Err(Error::bad_input(format!(
                "{}/edges: expected strings (pairs of node names)",
                g.path
            )))
        }
        None => {
            return Err(Error::bad_input(format!(
                "{}: a NIRGraph needs an 'edges' dataset (pairs of node names)",
                g.path
            )))
        }
    };
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    // Per child subgraph: its inner Input and Output names, to resolve edges to the subgraph.
    let mut sub_io: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for (name, v) in &nodes.members {
        let t = match v {
            Value::Group(t) => t,
            _ => {
                return Err(Error::bad_input(format!(
                    "{}/{name}: a node must be a group",
                    nodes.path
                )))
            }
        };
        if name.is_empty() {
            return Err(Error::bad_input(format!("{}: empty node name", nodes.path)));
        }
        let full = format!("{prefix}{name}");
        let kind = node_type(t)?;
        if flat.nodes.len() >= MAX_NODES {
            return Err(Error::bad_input(format!(
                "more than {MAX_NODES} nodes; not a graph this tool can use"
            )));
        }
        match kind.as_str() {
            "NIRGraph" => {
                let io = inline(t, &format!("{full}."), flat, depth + 1)?;
                // The subgraph's own Input/Output are pass-throughs in the flat graph.
                for n in io.0.iter().chain(io.1.iter()) {
                    flat.passthrough.insert(n.clone());
                }
                sub_io.insert(name.clone(), io);
            }
            _ => {
                if kind == "Input" {
                    inputs.push(full.clone());
                }
                if kind == "Output" {
                    outputs.push(full.clone());
                }
                flat.nodes.insert(
                    full.clone(),
                    Node {
                        name: full,
                        kind,
                        tree: t.clone(),
                    },
                );
            }
        }
    }
    for (a, b) in edges {
        let src = resolve(&a, prefix, &sub_io, true, &g.path)?;
        let dst = resolve(&b, prefix, &sub_io, false, &g.path)?;
        for n in [&src, &dst] {
            if !flat.nodes.contains_key(n) {
                return Err(Error::bad_input(format!(
                    "{}/edges: edge {a} -> {b} names node '{n}', which is not in the graph",
                    g.path
                )));
            }
        }
        flat.edges.push((src, dst));
    }
    Ok((inputs, outputs))
}

/// An edge end names a node, a subgraph (meaning its Output as a source, its Input as a
/// destination) or a node inside a subgraph with a dotted name ("sub.node").
fn resolve(
    name: &str,
    prefix: &str,
    sub_io: &BTreeMap<String, (Vec<String>, Vec<String>)>,
    source: bool,
    path: &str,
) -> Result<String> {
    if let Some((ins, outs)) = sub_io.get(name) {
        let list = if source { outs } else { ins };
        if list.len() != 1 {
            return Err(Error::bad_input(format!(
                "{path}/edges: subgraph '{name}' has {} {} nodes; an edge to the subgraph needs exactly one",
                list.len(),
                if source { "Output" } else { "Input" }
            )));
        }
        return Ok(list[0].clone());
    }
    Ok(format!("{prefix}{name}"))
}

fn linearise(flat: Flat, input: &str, output: &str) -> Result<Chain> {
    let Flat {
        mut nodes,
        passthrough,
        edges,
    } = flat;
    let mut succ: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pred: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (a, b) in &edges {
        if !seen.insert((a.clone(), b.clone())) {
            continue; // a repeated edge adds nothing
        }
        succ.entry(a.clone()).or_default().push(b.clone());
        pred.entry(b.clone()).or_default().push(a.clone());
    }
    let list = |m: &BTreeMap<String, Vec<String>>, n: &str| m.get(n).cloned().unwrap_or_default();
    // Recurrent weights: a synaptic node R whose only predecessor and only successor is the
    // same neuron node P.
    let mut recurrent: BTreeMap<String, String> = BTreeMap::new();
    for (name, node) in &nodes {
        if !matches!(node.kind.as_str(), "Linear" | "Affine" | "Conv2d") {
            continue;
        }
        let (p, s) = (list(&pred, name), list(&succ, name));
        if p.len() == 1 && s.len() == 1 && p[0] == s[0] {
            let owner = &p[0];
            let kind = nodes.get(owner).map(|n| n.kind.as_str()).unwrap_or("");
            if !matches!(kind, "LIF" | "IF" | "CubaLIF") {
                return Err(Error::bad_input(format!(
                    "node '{name}' ({}) forms a loop with '{owner}' ({kind}); recurrent weights are only supported on LIF/IF nodes",
                    node.kind
                )));
            }
            if recurrent.values().any(|o| o == owner) {
                return Err(Error::bad_input(format!(
                    "node '{owner}' has more than one recurrent weight node"
                )));
            }
            recurrent.insert(name.clone(), owner.clone());
        }
    }
    for (r, owner) in &recurrent {
        if let Some(v) = succ.get_mut(owner) {
            v.retain(|x| x != r);
        }
        if let Some(v) = pred.get_mut(owner) {
            v.retain(|x| x != r);
        }
        succ.remove(r);
        pred.remove(r);
    }
    // Walk the chain from the Input.
    let mut order = vec![input.to_string()];
    let mut cur = input.to_string();
    if !list(&pred, input).is_empty() {
        return Err(Error::bad_input(format!(
            "the Input node '{input}' has incoming edges"
        )));
    }
    loop {
        let next = list(&succ, &cur);
        if next.is_empty() {
            break;
        }
        // A node with several successors or predecessors: the graph is not one chain.
        let single = |n: &str, verb: &str, others: &[String], what: &str| {
            if others.len() <= 1 {
                return Ok(());
            }
            Err(Error::bad_input(format!(
                "node '{n}' ({}) {verb} {} nodes ({}): {what}, the network must be one chain of layers",
                nodes[n].kind,
                others.len(),
                others.join(", ")
            )))
        };
        single(&cur, "feeds", &next, "branches are not supported")?;
        let n = next[0].clone();
        let p = list(&pred, &n);
        single(&n, "receives from", &p, "merging branches is not supported")?;
        if order.contains(&n) {
            return Err(Error::bad_input(format!(
                "the edges form a cycle through node '{n}'; only a neuron's own recurrent weight (neuron -> weight -> neuron) is supported"
            )));
        }
        order.push(n.clone());
        cur = n;
    }
    if cur != output {
        return Err(Error::bad_input(format!(
            "the chain from Input '{input}' ends at node '{cur}' ({}), not at the Output node '{output}'",
            nodes[&cur].kind
        )));
    }
    let reached: BTreeSet<&String> = order.iter().chain(recurrent.keys()).collect();
    if let Some(n) = nodes.keys().find(|n| !reached.contains(n)) {
        return Err(Error::bad_input(format!(
            "node '{n}' ({}) is not on the chain from the Input to the Output; side branches are not supported",
            nodes[n].kind
        )));
    }
    let mut owner_rec: BTreeMap<String, Node> = BTreeMap::new();
    for (r, owner) in &recurrent {
        let node = nodes.remove(r).expect("recurrent node exists");
        owner_rec.insert(owner.clone(), node);
    }
    let links = order
        .into_iter()
        .filter(|n| !passthrough.contains(n))
        .map(|n| Link {
            recurrent: owner_rec.remove(&n),
            node: nodes.remove(&n).expect("chain node exists"),
        })
        .collect();
    Ok(Chain { links })
}
