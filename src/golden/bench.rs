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
}

/// Run `images` random samples through the integer simulator and time it.
pub fn measure(
    net: &IntNetwork,
    steps: u32,
    images: usize,
    active: f64,
    seed: u64,
) -> crate::Result<Throughput> {
    let sim = IntSim::new(net)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let max = net.fixed.as_ref().map_or(1, |f| f.input_max());
    let n_in = net.input.shape.len();
    // Rate coding: value max * active gives that share of active inputs per step.
    let inputs: Vec<Vec<u32>> = (0..images.min(256))
        .map(|_| match net.input.encoding {
            Encoding::Rate { .. } => (0..n_in)
                .map(|_| (max as f64 * active * 2.0 * rng.random::<f64>()).min(max as f64) as u32)
                .collect(),
            _ => (0..n_in)
                .map(|_| rng.random_bool(active) as u32 * max)
                .collect(),
        })
        .collect();
    // Count synaptic events on a traced pass (outside the timed loop).
    let sizes: Vec<usize> = net
        .layers
        .iter()
        .filter_map(|l| match l {
            Layer::Dense(d) => Some(d.out_features),
            _ => None,
        })
        .collect();
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
    for i in 0..images {
        let x = &inputs[i % inputs.len()];
        checksum = checksum.wrapping_add(sim.classify(x, i as u64, steps)?.0);
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
    })
}
