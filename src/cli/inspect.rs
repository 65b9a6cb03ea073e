use crate::error::Result;
use crate::format::{self, AnyNetwork};
use crate::ir::{Elem, Layer, Network};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub model: super::ModelArg,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args) -> Result<()> {
    match format::load(a.model.path())? {
        AnyNetwork::Float(n) => show(&n, a.json, 32),
        AnyNetwork::Integer(n) => {
            let f = n.fixed.as_ref().expect("integer model");
            let wb = f.weight_bits;
            show(&n, a.json, wb)
        }
    }
}

fn show<T: Elem>(net: &Network<T>, json: bool, weight_bits: u32) -> Result<()> {
    let shapes = net.shapes()?;
    let mut rows = Vec::new();
    let mut weight_bytes = 0usize;
    let mut neurons = 0usize;
    for (i, l) in net.layers.iter().enumerate() {
        let params = l.parameter_count();
        let detail = match l {
            Layer::Dense(d) => format!(
                "{} -> {}{}",
                d.in_features,
                d.out_features,
                if d.bias.is_some() { " +bias" } else { "" }
            ),
            Layer::Conv2d(c) => format!(
                "{}->{} k{:?} s{:?} p{:?}",
                c.in_channels, c.out_channels, c.kernel, c.stride, c.padding
            ),
            Layer::Pool(p) => format!("k{:?} s{:?}", p.kernel, p.stride),
            Layer::Flatten => String::new(),
            Layer::Lifb(n) => format!("B={} {}, reset {}", n.max_burst, n.leak, n.reset),
            Layer::LifGroup(n) => format!("group={} {}, reset {}", n.group, n.leak, n.reset),
            Layer::LifRecurrent(n) => format!("group={} {}, lateral", n.group, n.leak),
        };
        if l.is_synaptic() {
            weight_bytes += params * weight_bits as usize / 8;
        }
        if l.is_neuron() {
            neurons += shapes[i].len();
        }
        rows.push((i, l.kind_name(), shapes[i].to_string(), params, detail));
    }
    if json {
        let v = serde_json::json!({
            "name": net.name,
            "precision": if net.is_integer() { "integer" } else { "float" },
            "input": net.input,
            "fixed": net.fixed,
            "layers": rows.iter().map(|r| serde_json::json!({"index": r.0, "kind": r.1, "output_shape": r.2, "parameters": r.3, "detail": r.4})).collect::<Vec<_>>(),
            "parameters": net.parameter_count(),
            "neurons": neurons,
            "weight_memory_bytes": weight_bytes,
            "meta": net.meta,
        });
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(());
    }
    outln!(
        "model: {} ({})",
        net.name,
        if net.is_integer() { "integer" } else { "float" }
    );
    outln!("input: {} {} coding", net.input.shape, net.input.encoding);
    if let Some(f) = &net.fixed {
        outln!(
            "fixed point: weights {} bits, membrane {} bits, inputs {} bits, leak {} fractional bits",
            f.weight_bits, f.membrane_bits, f.input_bits, f.leak_frac_bits
        );
    }
    outln!(
        "{:>3}  {:<14} {:<16} {:>10}  detail",
        "#",
        "layer",
        "output",
        "params"
    );
    for (i, k, s, p, d) in &rows {
        outln!("{i:>3}  {k:<14} {s:<16} {p:>10}  {d}");
    }
    outln!(
        "total: {} parameters, {} neurons, weight memory {} bytes at {} bits per weight",
        net.parameter_count(),
        neurons,
        weight_bytes,
        weight_bits
    );
    for (k, v) in &net.meta {
        outln!("meta {k}: {}", summarize(v));
    }
    Ok(())
}

/// Longest meta line in the table; `--json` prints everything.
const META_WIDTH: usize = 100;

/// One readable line for a meta value: scalars as they are, a list by its length and last entry
/// (a training history reads as "15 entries, last: epoch=15 ..."), an object by its scalar fields.
fn summarize(v: &serde_json::Value) -> String {
    use serde_json::Value;
    let fields = |m: &serde_json::Map<String, Value>| {
        let scalars: Vec<String> = m
            .iter()
            .filter(|(_, x)| !x.is_object() && !x.is_array())
            .map(|(k, x)| format!("{k}={}", scalar(x)))
            .collect();
        let nested = m.len() - scalars.len();
        let mut s = scalars.join(" ");
        if nested > 0 {
            s.push_str(&format!(" (+{nested} nested)"));
        }
        s
    };
    let text = match v {
        Value::Array(a) => match a.last() {
            None => "empty list".to_string(),
            Some(Value::Object(m)) => format!("{} entries, last: {}", a.len(), fields(m)),
            Some(x) => format!("{} entries, last: {}", a.len(), scalar(x)),
        },
        Value::Object(m) => fields(m),
        x => scalar(x),
    };
    if text.chars().count() > META_WIDTH {
        let cut: String = text.chars().take(META_WIDTH).collect();
        format!("{cut}... (--json shows all)")
    } else {
        text
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => format!("[{} values]", a.len()),
        serde_json::Value::Object(m) => format!("{{{} fields}}", m.len()),
        x => x.to_string(),
    }
}
