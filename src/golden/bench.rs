//! The golden-model throughput benchmark (docs/benchmarks.md): a 784-256-10 LIFB network, random
//! inputs with a given share of active inputs per step.

use crate::golden::{IntSim, TraceOptions};
use crate::ir::{
    Dense, Encoding, FixedPoint, InputSpec, IntNetwork, Layer, Leak, Lifb, Network, Reset, Shape,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// A random MLP (sizes like [784, 256, 10]) of LIFB layers with burst `b`, 8-bit weights,
/// 16-bit membranes, thresholds set so that hidden neurons fire at a moderate rate.
pub fn mlp(sizes: &[usize], b: u32, encoding: Encoding, seed: u64) -> IntNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layers = Vec::new();
    for w in sizes.windows(2) {
        let (n_in, n_out) = (w[0], w[1]);
        let weight = (0..n_in * n_out)
            .map(|_| rng.random_range(-40..=48))
            .collect();
        layers.push(Layer::Dense(Dense {
            in_features: n_in,
            out_features: n_out,
            weight,
            bias: None,
        }));
        layers.push(Layer::Lifb(Lifb {
            leak: Leak::Fixed { d: 16 },
            threshold: vec![200],
            spacing: vec![100],
            max_burst: b,
            reset: Reset::Subtract,
        }));
    }
    let scales = vec![1.0; layers.len()];
    let input_bits = if matches!(encoding, Encoding::Direct) {
        1
    } else {
        8
    };
    Network {
        name: format!(
            "bench-mlp-{}",
            sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("-")
        ),
        input: InputSpec {
            shape: Shape::flat(sizes[0]),
            encoding,
        },
        layers,
        fixed: Some(FixedPoint {
            weight_bits: 8,
            membrane_bits: 16,
            input_bits,
            leak_frac_bits: 8,
            scales,
        }),
        meta: BTreeMap::new(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub network: String,
    pub encoding: String,
    pub steps: u32,
    pub images: usize,
    pub seconds: f64,
    pub images_per_s: f64,
    /// Synaptic events: for every non-zero input count of a synaptic layer, one per fan-out
    /// weight (work a dense engine does); the first layer counted once for constant encodings.
    pub synaptic_events_per_s: f64,
    pub active_input_share: f64,
    pub threads: usize,
}

/// Distinct images per benchmark run: the timed loop cycles through them.
pub const DISTINCT_IMAGES: usize = 4096;

/// The benchmark's random inputs: `count` images with about `active` of their inputs non-zero
/// (for rate coding, per step on average), determined by `seed`.
pub fn inputs(net: &IntNetwork, count: usize, active: f64, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let max = net.fixed.as_ref().map_or(1, |f| f.input_max());
    let n_in = net.input.shape.len();
    // Rate coding: value max * active gives that share of active inputs per step.
    (0..count)
        .map(|_| match net.input.encoding {
            Encoding::Rate { .. } => (0..n_in)
                .map(|_| (max as f64 * active * 2.0 * rng.random::<f64>()).min(max as f64) as u32)
                .collect(),
            _ => (0..n_in)
                .map(|_| rng.random_bool(active) as u32 * max)
                .collect(),
        })
        .collect()
}

/// Run `images` random samples through the integer simulator on `threads` threads and time it.
pub fn measure(
    net: &IntNetwork,
    steps: u32,
    images: usize,
    active: f64,
    seed: u64,
    threads: usize,
) -> crate::Result<Throughput> {
    let sim = IntSim::new(net)?;
    let max = net.fixed.as_ref().map_or(1, |f| f.input_max());
    let n_in = net.input.shape.len();
    let inputs = inputs(net, images.clamp(1, DISTINCT_IMAGES), active, seed);
    // Count synaptic events on a traced pass (outside the timed loop).
    let sizes = net.dense_widths();
    let mut events = 0f64;
    let mut active_inputs = 0f64;
    for (s, x) in inputs.iter().enumerate() {
        let t = sim.run(
            x,
            s as u64,
            steps,
            TraceOptions {
                counts: true,
                membranes: false,
            },
        )?;
        let first_active = x.iter().filter(|&&v| v > 0).count() as f64;
        let first_layer_events = match net.input.encoding {
            Encoding::Rate { .. } => {
                let mut buf = Vec::new();
                (0..steps)
                    .map(|st| {
                        crate::golden::encode::encode_int(
                            net.input.encoding,
                            x,
                            max,
                            s as u64,
                            st,
                            &mut buf,
                        );
                        buf.iter().filter(|&&v| v > 0).count() as f64
                    })
                    .sum::<f64>()
            }
            _ => first_active,
        };
        active_inputs += match net.input.encoding {
            Encoding::Rate { .. } => first_layer_events / steps as f64 / n_in as f64,
            _ => first_active / n_in as f64,
        };
        events += first_layer_events * sizes[0] as f64;
        for (k, l) in t.layers.iter().enumerate().take(sizes.len() - 1) {
            events +=
                l.counts.iter().flatten().filter(|&&c| c > 0).count() as f64 * sizes[k + 1] as f64;
        }
    }
    let per_image_events = events / inputs.len() as f64;
    let start = Instant::now();
    let mut checksum = 0usize;
    let mut done = 0;
    while done < images {
        let part = &inputs[..(images - done).min(inputs.len())];
        let classes = sim.classify_all(part, done as u64, steps, threads)?;
        checksum = classes.iter().fold(checksum, |a, &c| a.wrapping_add(c));
        done += part.len();
    }
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(checksum);
    Ok(Throughput {
        network: net.name.clone(),
        encoding: format!("{:?}", net.input.encoding),
        steps,
        images,
        seconds,
        images_per_s: images as f64 / seconds,
        synaptic_events_per_s: per_image_events * images as f64 / seconds,
        active_input_share: active_inputs / inputs.len() as f64,
        threads,
    })
}

/// Write the benchmark case for a peer simulator: `FILE.json` describes it (layer sizes, the
/// LIFB constants, steps, byte offsets) and `FILE.bin` holds every weight matrix as
/// little-endian i16 in PyTorch's [out][in] order, then the input images as one byte per input.
pub fn export(net: &IntNetwork, steps: u32, inputs: &[Vec<u32>], path: &Path) -> crate::Result<()> {
    let fixed = net
        .fixed
        .as_ref()
        .expect("the benchmark network is an integer network");
    let mut bin = Vec::new();
    let mut layers = Vec::new();
    for layer in &net.layers {
        match layer {
            Layer::Dense(d) => {
                layers.push(serde_json::json!({
                    "kind": "dense",
                    "in": d.in_features,
                    "out": d.out_features,
                    "offset": bin.len(),
                }));
                bin.extend(d.weight.iter().flat_map(|&w| (w as i16).to_le_bytes()));
            }
            Layer::Lifb(n) => {
                let d = match n.leak {
                    Leak::Fixed { d } => d,
                    Leak::Lambda { .. } => unreachable!("integer network"),
                };
                layers.push(serde_json::json!({
                    "kind": "lifb",
                    "threshold": n.threshold[0],
                    "spacing": n.spacing[0],
                    "max_burst": n.max_burst,
                    "leak_d": d,
                    "reset": if matches!(n.reset, Reset::Subtract) { "subtract" } else { "zero" },
                }));
            }
            _ => unreachable!("the benchmark network is dense and LIFB layers"),
        }
    }
    let offset = bin.len();
    for x in inputs {
        bin.extend(x.iter().map(|&v| v.min(255) as u8));
    }
    let header = serde_json::json!({
        "format": "lifb-bench-case",
        "network": net.name,
        "encoding": format!("{:?}", net.input.encoding),
        "steps": steps,
        "membrane_bits": fixed.membrane_bits,
        "leak_frac_bits": fixed.leak_frac_bits,
        "input_max": fixed.input_max(),
        "layers": layers,
        "inputs": { "count": inputs.len(), "len": net.input.shape.len(), "offset": offset },
    });
    let json_path = path.with_extension("json");
    let bin_path = path.with_extension("bin");
    let text = serde_json::to_string_pretty(&header).expect("plain JSON values");
    crate::util::write_atomic_all(&[(&bin_path, &bin), (&json_path, text.as_bytes())])
}
