//! Random valid integer networks and inputs, for property tests, co-simulation tests and benches.
//! The ranges are chosen to reach every corner of the semantics: saturation, all burst sizes,
//! both resets, leaks that are shifts and leaks that are not, biases, per-layer and per-neuron
//! parameters, and both readouts.

use super::{
    Dense, Encoding, FixedPoint, InputSpec, IntNetwork, Layer, Leak, Lifb, Network, Reset, Shape,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Bounds for [`random_network`].
#[derive(Debug, Clone)]
pub struct RandomSpec {
    pub max_inputs: usize,
    pub max_width: usize,
    /// Number of (dense, neuron) layer pairs: 1..=max_hidden.
    pub max_hidden: usize,
    pub max_burst: u32,
    /// Allow a final dense layer with current readout.
    pub current_readout: bool,
    /// Allow conv2d / pooling front ends.
    pub conv: bool,
}

impl Default for RandomSpec {
    fn default() -> Self {
        RandomSpec {
            max_inputs: 16,
            max_width: 12,
            max_hidden: 3,
            max_burst: 8,
            current_readout: true,
            conv: false,
        }
    }
}

/// A random, validated integer network, determined by `seed`.
pub fn random_network(seed: u64, spec: &RandomSpec) -> IntNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let weight_bits = rng.random_range(2..=8u32);
    let membrane_bits = rng.random_range(6..=16u32);
    let input_bits = rng.random_range(1..=4u32);
    let leak_frac_bits = rng.random_range(0..=6u32);
    let fixed = FixedPoint {
        weight_bits,
        membrane_bits,
        input_bits,
        leak_frac_bits,
        scales: Vec::new(),
    };
    let w_lo = fixed.weight_min() as i32;
    let w_hi = fixed.weight_max() as i32;
    let v_max = fixed.v_max() as i32;
    let encoding = match rng.random_range(0..3) {
        0 => Encoding::Direct,
        1 => Encoding::Rate { seed: rng.random() },
        _ => Encoding::Burst {
            max_count: rng.random_range(1..=4),
        },
    };
    let (input_shape, mut layers) = if spec.conv && rng.random_bool(0.3) {
        conv_front(&mut rng, &fixed, w_lo, w_hi)
    } else {
        (
            Shape::flat(rng.random_range(1..=spec.max_inputs)),
            Vec::new(),
        )
    };
    let mut n_in = match layers.last() {
        Some(_) => {
            layers.push(Layer::Flatten);
            0 // filled below from shapes
        }
        None => input_shape.len(),
    };
    if n_in == 0 {
        let tmp: IntNetwork = Network {
            name: String::new(),
            input: InputSpec {
                shape: input_shape,
                encoding,
            },
            layers: layers.clone(),
            fixed: None,
            meta: BTreeMap::new(),
        };
        n_in = tmp
            .shapes()
            .expect("conv front fits")
            .last()
            .expect("layers")
            .len();
    }
    let hidden = rng.random_range(1..=spec.max_hidden);
    for _ in 0..hidden {
        let n_out = rng.random_range(1..=spec.max_width);
        layers.push(Layer::Dense(random_dense(
            &mut rng, n_in, n_out, w_lo, w_hi, v_max,
        )));
        layers.push(Layer::Lifb(random_lifb(
            &mut rng,
            n_out,
            spec.max_burst,
            &fixed,
        )));
        n_in = n_out;
    }
    if spec.current_readout && rng.random_bool(0.25) {
        let n_out = rng.random_range(1..=spec.max_width);
        layers.push(Layer::Dense(random_dense(
            &mut rng, n_in, n_out, w_lo, w_hi, v_max,
        )));
    }
    let scales = vec![1.0; layers.len()];
    let net = Network {
        name: format!("random-{seed}"),
        input: InputSpec {
            shape: input_shape,
            encoding,
        },
        layers,
        fixed: Some(FixedPoint { scales, ..fixed }),
        meta: BTreeMap::new(),
    };
    net.validate()
        .expect("random networks are valid by construction");
    net
}

fn conv_front(
    rng: &mut ChaCha8Rng,
    fixed: &FixedPoint,
    w_lo: i32,
    w_hi: i32,
) -> (Shape, Vec<Layer<i32>>) {
    let shape = Shape::chw(
        rng.random_range(1..=2),
        rng.random_range(4..=7),
        rng.random_range(4..=7),
    );
    let co = rng.random_range(1..=3);
    let k = rng.random_range(1..=3);
    let conv = super::Conv2d {
        in_channels: shape.c,
        out_channels: co,
        kernel: [k, k],
        stride: [rng.random_range(1..=2); 2],
        padding: [rng.random_range(0..=1); 2],
        weight: (0..co * shape.c * k * k)
            .map(|_| rng.random_range(w_lo..=w_hi))
            .collect(),
        bias: None,
    };
    let lifb = random_lifb(rng, co, 4, fixed);
    let out = |len: usize| (len + 2 * conv.padding[0] - k) / conv.stride[0] + 1;
    let (oh, ow) = (out(shape.h), out(shape.w));
    let mut layers = vec![Layer::Conv2d(conv), Layer::Lifb(lifb)];
    if oh >= 2 && ow >= 2 && rng.random_bool(0.5) {
        layers.push(Layer::Pool(super::Pool {
            kind: super::PoolKind::Sum,
            kernel: [2, 2],
            stride: [2, 2],
        }));
    }
    (shape, layers)
}

fn random_dense(
    rng: &mut ChaCha8Rng,
    n_in: usize,
    n_out: usize,
    w_lo: i32,
    w_hi: i32,
    v_max: i32,
) -> Dense<i32> {
    let bias = rng.random_bool(0.4).then(|| {
        let b = (v_max / 4).max(1);
        (0..n_out).map(|_| rng.random_range(-b..=b)).collect()
    });
    Dense {
        in_features: n_in,
        out_features: n_out,
        weight: (0..n_out * n_in)
            .map(|_| rng.random_range(w_lo..=w_hi))
            .collect(),
        bias,
    }
}

fn random_lifb(rng: &mut ChaCha8Rng, n: usize, max_burst: u32, fixed: &FixedPoint) -> Lifb<i32> {
    let b = rng.random_range(1..=max_burst);
    let v_max = fixed.v_max();
    // theta + (B-1)*D must fit the membrane.
    let per_neuron = rng.random_bool(0.3);
    let count = if per_neuron { n } else { 1 };
    let mut threshold = Vec::with_capacity(count);
    let mut spacing = Vec::with_capacity(count);
    for _ in 0..count {
        let d_max = (v_max / (2 * b as i64)).max(1);
        let d = rng.random_range(1..=d_max.min(64));
        let t_max = (v_max - (b as i64 - 1) * d).max(1);
        let t = rng.random_range(1..=t_max.min(256));
        threshold.push(t as i32);
        spacing.push(d as i32);
    }
    let full = 1u32 << fixed.leak_frac_bits;
    let d = match rng.random_range(0..4) {
        0 => 0,
        1 => full,
        2 if fixed.leak_frac_bits > 0 => 1 << rng.random_range(0..fixed.leak_frac_bits),
        _ => rng.random_range(0..=full),
    };
    Lifb {
        leak: Leak::Fixed { d },
        threshold,
        spacing,
        max_burst: b,
        reset: if rng.random_bool(0.5) {
            Reset::Subtract
        } else {
            Reset::Zero
        },
    }
}

/// Random integer inputs for `net`: each value is zero with probability `1 - active`.
pub fn random_inputs(net: &IntNetwork, seed: u64, count: usize, active: f64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let max = net.fixed.as_ref().map_or(1, |f| f.input_max());
    let len = net.input.shape.len();
    (0..count)
        .map(|_| {
            (0..len)
                .map(|_| {
                    if rng.random_bool(active) {
                        rng.random_range(1..=max)
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect()
}
