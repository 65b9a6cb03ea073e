//! Random integer networks of a given structure, for the co-simulation and codegen tests
//! (tests/hardware/cosim_*.rs, tests/hardware/codegen_*.rs).
#![allow(dead_code)]

use lifb_hdl::ir::{
    Dense, Encoding, FixedPoint, InputSpec, IntNetwork, Layer, Leak, LifGroup, Lifb, Network,
    Reset, Shape,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
pub enum Neuron {
    /// LIFB with B, reset, leak d.
    Lifb(u32, Reset, u32),
    /// LifGroup with g sub-units, reset, leak d.
    Group(u32, Reset, u32),
    /// No neuron layer (current readout; last layer only).
    None,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub inputs: usize,
    pub layers: Vec<(usize, Neuron)>,
    pub encoding: Encoding,
    pub weight_bits: u32,
    pub membrane_bits: u32,
    pub input_bits: u32,
    pub leak_frac_bits: u32,
}

/// A random network of this structure: weights span the whole weight range and biases and
/// thresholds are drawn so that some membranes saturate and bursts reach B.
pub fn random_net(spec: &Spec, seed: u64) -> IntNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let wmax = (1i32 << (spec.weight_bits - 1)) - 1;
    let vmax = (1i64 << (spec.membrane_bits - 1)) - 1;
    let mut layers = Vec::new();
    let mut n_in = spec.inputs;
    let mut copies = 1usize;
    for &(n, neuron) in &spec.layers {
        let fan = n_in * copies;
        // Mostly positive-skewed weights so that neurons fire; sometimes full range.
        let skew = rng.random_range(0..3);
        let weight: Vec<i32> = (0..n * fan)
            .map(|_| match skew {
                0 => rng.random_range(-wmax - 1..=wmax),
                _ => rng.random_range(-wmax / 2..=wmax),
            })
            .collect();
        let bmax = (vmax / 4) as i32;
        let bias = if rng.random_bool(0.7) {
            Some((0..n).map(|_| rng.random_range(-bmax..=bmax)).collect())
        } else {
            None
        };
        layers.push(Layer::Dense(Dense {
            in_features: fan,
            out_features: n,
            weight,
            bias,
        }));
        let per_neuron = rng.random_bool(0.5);
        let rows = if per_neuron { n } else { 1 };
        // Small thresholds relative to the membrane range make saturation and full bursts likely.
        let scale = (vmax / rng.random_range(8..64)).max(2);
        match neuron {
            Neuron::Lifb(b, reset, d) => {
                let mut threshold = Vec::new();
                let mut spacing = Vec::new();
                for _ in 0..rows {
                    let sp = rng.random_range(1..=(scale / 2).max(1));
                    let room = vmax - (b as i64 - 1) * sp;
                    let th = rng.random_range(1..=scale.min(room).max(1));
                    threshold.push(th as i32);
                    spacing.push(sp as i32);
                }
                layers.push(Layer::Lifb(Lifb {
                    leak: Leak::Fixed { d },
                    threshold,
                    spacing,
                    max_burst: b,
                    reset,
                }));
                n_in = n;
                copies = 1;
            }
            Neuron::Group(g, reset, d) => {
                let mut thresholds = Vec::new();
                let mut rho = Vec::new();
                for _ in 0..rows * g as usize {
                    thresholds.push(rng.random_range(1..=scale) as i32);
                    rho.push(rng.random_range(1..=scale) as i32);
                }
                layers.push(Layer::LifGroup(LifGroup {
                    leak: Leak::Fixed { d },
                    group: g,
                    thresholds,
                    rho,
                    reset,
                }));
                n_in = n;
                copies = g as usize;
            }
            Neuron::None => {}
        }
    }
    int_network(
        format!("random-{seed}"),
        Shape::flat(spec.inputs),
        spec.encoding,
        [
            spec.weight_bits,
            spec.membrane_bits,
            spec.input_bits,
            spec.leak_frac_bits,
        ],
        layers,
    )
}

/// Random integer inputs for a network (about half of them zero).
pub fn random_inputs(net: &IntNetwork, count: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xABCD);
    let max = net.fixed.as_ref().unwrap().input_max();
    (0..count)
        .map(|_| {
            (0..net.input.shape.len())
                .map(|_| {
                    if rng.random_bool(0.5) {
                        0
                    } else {
                        rng.random_range(0..=max)
                    }
                })
                .collect()
        })
        .collect()
}

/// The shipped digits example, quantized as its meta's evaluation record says, with the first
/// `samples` test images as integer inputs, and its time steps.
pub fn digits_int(samples: usize) -> (IntNetwork, Vec<Vec<u32>>, u32) {
    use lifb_hdl::data::{self, eval, DataSetKind, Split};
    use lifb_hdl::format::{self, AnyNetwork};
    use lifb_hdl::quant::{self, QuantOptions};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let AnyNetwork::Float(float) = format::load(&root.join("digits-lifb.json")).unwrap() else {
        panic!("digits-lifb.json should be a float model");
    };
    let rec = &float.meta["eval_digits"];
    let get = |k: &str| rec[k].as_f64().unwrap();
    let steps = get("steps") as u32;
    let input_bits = get("input_bits") as u32;
    let opts = QuantOptions {
        weight_bits: get("weight_bits") as u32,
        input_bits,
        steps,
        ..Default::default()
    };
    let (int, _) = quant::quantize(&float, &opts, None).unwrap();
    let ds = data::load(DataSetKind::Digits, Split::Test, &root.join("data")).unwrap();
    let inputs = eval::int_inputs(&ds, input_bits);
    (int, inputs.into_iter().take(samples).collect(), steps)
}

/// The base seed of the co-simulation stimulus (stalls, gaps, beat order, resets, initial
/// values): LIFB_COSIM_SEED, else a fixed default so the suite is reproducible. Every failure
/// message carries the seed of its run.
pub fn stim_seed() -> u64 {
    std::env::var("LIFB_COSIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_201)
}

/// (structure, lanes per engine, fire units per engine; 0 = all). The units cover one unit per
/// lane, a single unit, and unit groups that leave the last group of a pass partly empty.
pub fn structures() -> Vec<(Spec, Vec<usize>, Vec<usize>)> {
    use lifb_hdl::ir::Reset::*;
    use Neuron::*;
    vec![
        (
            Spec {
                inputs: 16,
                layers: vec![(10, Lifb(8, Subtract, 3)), (6, Lifb(2, Zero, 0))],
                encoding: Encoding::Direct,
                weight_bits: 6,
                membrane_bits: 12,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            vec![3, 0],
            vec![2, 4],
        ),
        (
            Spec {
                inputs: 12,
                layers: vec![
                    (8, Lifb(1, Subtract, 8)),
                    (5, Lifb(5, Subtract, 1)),
                    (4, None),
                ],
                encoding: Encoding::Rate { seed: 11 },
                weight_bits: 5,
                membrane_bits: 10,
                input_bits: 3,
                leak_frac_bits: 4,
            },
            vec![1, 2, 0],
            vec![1, 1, 3],
        ),
        (
            Spec {
                inputs: 20,
                layers: vec![(9, Lifb(4, Zero, 16)), (3, Lifb(7, Subtract, 5))],
                encoding: Encoding::Burst { max_count: 6 },
                weight_bits: 7,
                membrane_bits: 11,
                input_bits: 5,
                leak_frac_bits: 4,
            },
            vec![4, 1],
            vec![0, 1],
        ),
        (
            Spec {
                inputs: 10,
                layers: vec![
                    (7, Lifb(3, Subtract, 2)),
                    (7, Lifb(6, Zero, 7)),
                    (4, Lifb(1, Subtract, 0)),
                ],
                encoding: Encoding::Direct,
                weight_bits: 8,
                membrane_bits: 14,
                input_bits: 3,
                leak_frac_bits: 3,
            },
            vec![0, 3, 2],
            vec![3, 0, 1],
        ),
        (
            Spec {
                inputs: 14,
                layers: vec![(6, Group(3, Subtract, 4)), (4, Group(2, Zero, 0))],
                encoding: Encoding::Direct,
                weight_bits: 6,
                membrane_bits: 12,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            vec![2, 0],
            vec![1, 3],
        ),
    ]
}

/// An integer network of `layers` on an input of `shape`, with the coding and the widths
/// [weight, membrane, input, leak fraction] of a random-network spec (scale 1 per layer); the
/// random builders make valid networks, so an invalid one is a bug in the builder.
pub fn int_network(
    name: String,
    shape: Shape,
    encoding: Encoding,
    [weight_bits, membrane_bits, input_bits, leak_frac_bits]: [u32; 4],
    layers: Vec<Layer<i32>>,
) -> IntNetwork {
    let nl = layers.len();
    let net: IntNetwork = Network {
        name,
        input: InputSpec { shape, encoding },
        layers,
        fixed: Some(FixedPoint {
            weight_bits,
            membrane_bits,
            input_bits,
            leak_frac_bits,
            scales: vec![1.0; nl],
        }),
        meta: BTreeMap::new(),
    };
    net.validate()
        .unwrap_or_else(|e| panic!("random network {} is invalid: {e}", net.name));
    net
}
