//! Input encodings (docs/semantics.md, "Inputs"): how a sample becomes the first layer's input at
//! each step. The integer functions are what the co-simulation streams into the RTL.

use crate::ir::Encoding;

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 16 uniform bits for (seed, sample, step, input index); the rate encoder's only randomness.
pub fn rate_bits(seed: u64, sample: u64, step: u32, index: usize) -> u32 {
    let key = seed
        ^ sample.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (step as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ (index as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
    (splitmix64(key) >> 48) as u32
}

/// The part of a sample that is encoded at `step`: the sample itself, or, for per-step inputs
/// ([`Encoding::Steps`]), its step-th vector of `inputs` values. Every encoder call goes through
/// here, so the golden model and the co-simulation's stimulus read the same vector.
pub fn at_step<T>(enc: Encoding, sample: &[T], inputs: usize, step: u32) -> &[T] {
    match enc {
        Encoding::Steps => {
            let start = (step as usize).saturating_mul(inputs).min(sample.len());
            &sample[start..(start + inputs).min(sample.len())]
        }
        _ => sample,
    }
}

/// Integer inputs (0..=max) to the values the first layer sees at `step` (for per-step inputs:
/// the values of that step, [`at_step`]).
pub fn encode_int(
    enc: Encoding,
    values: &[u32],
    max: u32,
    sample: u64,
    step: u32,
    out: &mut Vec<u32>,
) {
    out.clear();
    match enc {
        Encoding::Direct | Encoding::Steps => out.extend_from_slice(values),
        Encoding::Rate { seed } => out.extend(values.iter().enumerate().map(|(i, &v)| {
            let u = rate_bits(seed, sample, step, i) as u64;
            (u * max as u64) < ((v as u64) << 16)
        }
            as u32)),
        Encoding::Burst { max_count } => out.extend(values.iter().map(|&v| {
            // round half up of v / max * max_count
            ((2 * v as u64 * max_count as u64 + max as u64) / (2 * max as u64)) as u32
        })),
    }
}

/// Float inputs in [0, 1] to the first layer's input values at `step`.
pub fn encode_float(enc: Encoding, values: &[f32], sample: u64, step: u32, out: &mut Vec<f32>) {
    out.clear();
    match enc {
        Encoding::Direct | Encoding::Steps => out.extend_from_slice(values),
        Encoding::Rate { seed } => out.extend(values.iter().enumerate().map(|(i, &v)| {
            let u = rate_bits(seed, sample, step, i) as f32 / 65536.0;
            if u < v {
                1.0
            } else {
                0.0
            }
        })),
        Encoding::Burst { max_count } => out.extend(
            values
                .iter()
                .map(|&v| (v.clamp(0.0, 1.0) * max_count as f32 + 0.5).floor()),
        ),
    }
}

/// Whether the first layer's input is the same at every step ([`Encoding::is_constant`]).
pub fn is_constant(enc: Encoding) -> bool {
    enc.is_constant()
}

/// Float sample value in [0, 1] to the integer input 0..=max (round half up, clamped).
pub fn quantize_input(x: f32, max: u32) -> u32 {
    ((x.clamp(0.0, 1.0) * max as f32) + 0.5).floor() as u32
}

/// A float sample in [0, 1] to an integer network's input values (0..=max).
pub fn int_inputs(x: &[f32], max: u32) -> Vec<u32> {
    x.iter().map(|&v| quantize_input(v, max)).collect()
}
