//! Random convolutional integer networks (conv2d, sum pooling, flatten, dense) of a given
//! structure, for the conv co-simulation and codegen tests.

use super::networks::{int_network, Neuron};
use lifb_hdl::ir::{
    Conv2d, Dense, Encoding, IntNetwork, Layer, Leak, LifGroup, Lifb, Pool, PoolKind, Shape,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy)]
pub enum CLayer {
    /// out channels, kernel, stride, padding, neuron
    Conv(usize, usize, usize, usize, Neuron),
    /// non-overlapping sum pool (window = stride)
    Pool(usize),
    Flatten,
    Dense(usize, Neuron),
}

#[derive(Debug, Clone)]
pub struct ConvSpec {
    pub input: (usize, usize, usize),
    pub layers: Vec<CLayer>,
    pub encoding: Encoding,
    pub weight_bits: u32,
    pub membrane_bits: u32,
    pub input_bits: u32,
    pub leak_frac_bits: u32,
}

fn neuron_layer(
    rng: &mut ChaCha8Rng,
    neuron: Neuron,
    shape: Shape,
    vmax: i64,
) -> Option<Layer<i32>> {
    // shared, per channel or per neuron parameters
    let rows = match rng.random_range(0..3) {
        0 => 1,
        1 => shape.c,
        _ => shape.len(),
    };
    let scale = (vmax / rng.random_range(8..64)).max(2);
    match neuron {
        Neuron::Lifb(b, reset, d) => {
            let (mut threshold, mut spacing) = (Vec::new(), Vec::new());
            for _ in 0..rows {
                let sp = rng.random_range(1..=(scale / 2).max(1));
                let room = vmax - (b as i64 - 1) * sp;
                threshold.push(rng.random_range(1..=scale.min(room).max(1)) as i32);
                spacing.push(sp as i32);
            }
            Some(Layer::Lifb(Lifb {
                leak: Leak::Fixed { d },
                threshold,
                spacing,
                max_burst: b,
                reset,
            }))
        }
        Neuron::Group(g, reset, d) => {
            let (mut thresholds, mut rho) = (Vec::new(), Vec::new());
            for _ in 0..rows * g as usize {
                thresholds.push(rng.random_range(1..=scale) as i32);
                rho.push(rng.random_range(1..=scale) as i32);
            }
            Some(Layer::LifGroup(LifGroup {
                leak: Leak::Fixed { d },
                group: g,
                thresholds,
                rho,
                reset,
            }))
        }
        Neuron::None => None,
    }
}

/// A random conv network of this structure (weights over the whole range, mostly positive so
/// that neurons fire; thresholds small enough for saturation and full bursts).
pub fn random_conv_net(spec: &ConvSpec, seed: u64) -> IntNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let wmax = (1i32 << (spec.weight_bits - 1)) - 1;
    let vmax = (1i64 << (spec.membrane_bits - 1)) - 1;
    let (c0, h0, w0) = spec.input;
    let mut shape = Shape::chw(c0, h0, w0);
    let mut layers = Vec::new();
    let weights = |rng: &mut ChaCha8Rng, n: usize| -> Vec<i32> {
        let skew = rng.random_range(0..3);
        (0..n)
            .map(|_| match skew {
                0 => rng.random_range(-wmax - 1..=wmax),
                _ => rng.random_range(-wmax / 2..=wmax),
            })
            .collect()
    };
    for &l in &spec.layers {
        match l {
            CLayer::Conv(co, k, s, p, neuron) => {
                let weight = weights(&mut rng, co * shape.c * k * k);
                let bmax = (vmax / 4) as i32;
                let bias = rng
                    .random_bool(0.7)
                    .then(|| (0..co).map(|_| rng.random_range(-bmax..=bmax)).collect());
                layers.push(Layer::Conv2d(Conv2d {
                    in_channels: shape.c,
                    out_channels: co,
                    kernel: [k, k],
                    stride: [s, s],
                    padding: [p, p],
                    weight,
                    bias,
                }));
                shape = Shape::chw(
                    co,
                    (shape.h + 2 * p - k) / s + 1,
                    (shape.w + 2 * p - k) / s + 1,
                );
                if let Some(nl) = neuron_layer(&mut rng, neuron, shape, vmax) {
                    layers.push(nl);
                    if let Neuron::Group(g, ..) = neuron {
                        shape.c *= g as usize;
                    }
                }
            }
            CLayer::Pool(k) => {
                layers.push(Layer::Pool(Pool {
                    kind: PoolKind::Sum,
                    kernel: [k, k],
                    stride: [k, k],
                }));
                shape = Shape::chw(shape.c, shape.h / k, shape.w / k);
            }
            CLayer::Flatten => {
                layers.push(Layer::Flatten);
                shape = Shape::flat(shape.len());
            }
            CLayer::Dense(n, neuron) => {
                let fan = shape.len();
                let weight = weights(&mut rng, n * fan);
                let bmax = (vmax / 4) as i32;
                let bias = rng
                    .random_bool(0.7)
                    .then(|| (0..n).map(|_| rng.random_range(-bmax..=bmax)).collect());
                layers.push(Layer::Dense(Dense {
                    in_features: fan,
                    out_features: n,
                    weight,
                    bias,
                }));
                shape = Shape::flat(n);
                if let Some(nl) = neuron_layer(&mut rng, neuron, shape, vmax) {
                    layers.push(nl);
                    if let Neuron::Group(g, ..) = neuron {
                        shape.c *= g as usize;
                    }
                }
            }
        }
    }
    int_network(
        format!("random-conv-{seed}"),
        Shape::chw(c0, h0, w0),
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

/// (structure, lanes per engine, fire units per engine; 0 = all): stride 1 and 2, padding
/// 0..K-1, kernels 1..7, windows and pools that do not divide the map, 1..64 channels, every
/// burst size 1..5, rate/direct/burst coding, partial channel groups and unit groups.
pub fn conv_structures() -> Vec<(ConvSpec, Vec<usize>, Vec<usize>)> {
    use lifb_hdl::ir::Reset::*;
    use CLayer::*;
    use Neuron::*;
    vec![
        // direct coding; 5x5 "same" conv, pool 2 on an odd map, flatten, dense
        (
            ConvSpec {
                input: (1, 9, 9),
                layers: vec![
                    Conv(6, 5, 1, 2, Lifb(3, Subtract, 3)),
                    Pool(2),
                    Flatten,
                    Dense(5, Lifb(2, Zero, 0)),
                ],
                encoding: Encoding::Direct,
                weight_bits: 5,
                membrane_bits: 12,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            vec![4, 0],
            vec![2, 2],
        ),
        // rate coding; stride 2, padding 1, 3x3, two convs, pool 3, current readout
        (
            ConvSpec {
                input: (2, 11, 10),
                layers: vec![
                    Conv(5, 3, 2, 1, Lifb(5, Zero, 8)),
                    Conv(3, 2, 1, 0, Lifb(1, Subtract, 0)),
                    Pool(3),
                    Flatten,
                    Dense(4, None),
                ],
                encoding: Encoding::Rate { seed: 5 },
                weight_bits: 6,
                membrane_bits: 12,
                input_bits: 3,
                leak_frac_bits: 4,
            },
            vec![2, 3, 0],
            vec![1, 3, 4],
        ),
        // burst coding; 7x7 stride 2 padding 6 (windows not dividing the map), 1x1 conv
        (
            ConvSpec {
                input: (1, 12, 13),
                layers: vec![
                    Conv(3, 7, 2, 6, Lifb(4, Subtract, 1)),
                    Conv(4, 1, 1, 0, Lifb(2, Subtract, 5)),
                    Flatten,
                    Dense(3, Lifb(3, Zero, 2)),
                ],
                encoding: Encoding::Burst { max_count: 3 },
                weight_bits: 6,
                membrane_bits: 13,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            vec![0, 3, 0],
            vec![1, 2, 0],
        ),
        // many channels: 64 output channels over 16 lanes, pool into a conv
        (
            ConvSpec {
                input: (3, 6, 6),
                layers: vec![
                    Conv(64, 3, 1, 1, Lifb(1, Zero, 4)),
                    Pool(2),
                    Conv(5, 2, 2, 1, Lifb(2, Subtract, 0)),
                    Flatten,
                    Dense(3, None),
                ],
                encoding: Encoding::Direct,
                weight_bits: 4,
                membrane_bits: 12,
                input_bits: 3,
                leak_frac_bits: 3,
            },
            vec![16, 5, 0],
            vec![4, 2, 0],
        ),
        // LifGroup layers (decoupled by hand too): groups feeding a conv and a pool
        (
            ConvSpec {
                input: (1, 8, 7),
                layers: vec![
                    Conv(3, 3, 1, 2, Group(2, Subtract, 2)),
                    Conv(2, 3, 2, 0, Group(3, Zero, 0)),
                    Pool(2),
                    Flatten,
                    Dense(3, Lifb(2, Subtract, 1)),
                ],
                encoding: Encoding::Direct,
                weight_bits: 6,
                membrane_bits: 12,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            vec![2, 0, 0],
            vec![1, 0, 2],
        ),
    ]
}
