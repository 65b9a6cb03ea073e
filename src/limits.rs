//! Limits on every count and size taken from the command line, checked before anything is
//! allocated or run. A value outside its limit is bad input (exit 2) with a message naming the
//! option, the limit and what to do. docs/reliability.md lists them.
//!
//! Besides the per-option limits, the memory a command would need for the buffers its options
//! size (traces, random input sets) is estimated up front and refused above [`MAX_BUFFER_BYTES`].

use crate::error::{Error, Result};
use crate::ir::{Elem, Layer, Network};

/// Time steps per sample of the golden model (the hardware's step counter is 16 bits: cosim,
/// flow and sweep stop at 65,535).
pub const MAX_STEPS: u32 = 65_536;
/// Samples generated or evaluated from one option (`decouple --check`, `cosim --random`).
pub const MAX_SAMPLES: usize = 1_000_000;
/// Images timed by `bench --images`.
pub const MAX_BENCH_IMAGES: usize = 100_000_000;
/// Widest layer of `bench --arch` (its weight matrices are also bounded by the IR's
/// `MAX_ELEMENTS` per layer).
pub const MAX_BENCH_WIDTH: usize = 1 << 20;
/// Estimated bytes of the buffers sized by command-line options (a trace held in memory and
/// its JSON, random input sets).
pub const MAX_BUFFER_BYTES: u64 = 2 << 30;
/// Training: epochs and batch size.
pub const MAX_EPOCHS: u32 = 100_000;
pub const MAX_BATCH: usize = 65_536;

/// `--steps`: 1..=max. 0 steps simulate nothing, which is never a useful check.
pub fn steps(opt: &str, v: u32, max: u32) -> Result<u32> {
    if v == 0 || v > max {
        return Err(Error::bad_input(format!(
            "{opt} must be 1..={max}, got {v} (0 steps check nothing)"
        )));
    }
    Ok(v)
}

/// A count of samples, images or epochs: 1..=max; 0 would do (and check) nothing.
pub fn count(opt: &str, v: usize, max: usize) -> Result<usize> {
    if v == 0 {
        return Err(Error::bad_input(format!(
            "{opt} 0 would check nothing; give a count of at least 1"
        )));
    }
    if v > max {
        return Err(Error::bad_input(format!(
            "{opt} {v} is above the limit of {max}"
        )));
    }
    Ok(v)
}

/// A float option: finite and within [lo, hi] (`lo_open`: strictly above lo).
pub fn float(opt: &str, v: f64, lo: f64, hi: f64, lo_open: bool) -> Result<f64> {
    let ok = v.is_finite() && (if lo_open { v > lo } else { v >= lo }) && v <= hi;
    if !ok {
        let lb = if lo_open { "(" } else { "[" };
        return Err(Error::bad_input(format!(
            "{opt} must be a finite number in {lb}{lo}, {hi}], got {v}"
        )));
    }
    Ok(v)
}

/// Refuse when the estimated bytes of a buffer exceed [`MAX_BUFFER_BYTES`].
pub fn buffer(what: &str, bytes: u128, hint: &str) -> Result<()> {
    if bytes > MAX_BUFFER_BYTES as u128 {
        return Err(Error::bad_input(format!(
            "{what} would need about {} MiB, above the {} MiB limit; {hint}",
            bytes >> 20,
            MAX_BUFFER_BYTES >> 20
        )));
    }
    Ok(())
}

/// Neurons of all neuron layers of a network (what one step of a trace records).
pub fn traced_neurons<T: Elem>(net: &Network<T>) -> Result<u128> {
    let shapes = net.shapes()?;
    Ok(net
        .layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_neuron())
        .map(|(i, _)| shapes[i].len() as u128)
        .sum())
}

/// The largest burst B of a network's neuron layers (the decoupled form has B sub-units each).
pub fn max_burst<T: Elem>(net: &Network<T>) -> u128 {
    net.layers
        .iter()
        .map(|l| match l {
            Layer::Lifb(n) => n.max_burst as u128,
            Layer::LifGroup(n) => n.group as u128,
            Layer::LifRecurrent(n) => n.group as u128,
            _ => 1,
        })
        .max()
        .unwrap_or(1)
}

/// Estimated bytes of one sample's trace: per step and neuron a u32 count (plus an f64 membrane),
/// with a Vec header per step and layer.
pub fn trace_bytes<T: Elem>(net: &Network<T>, steps: u32, membranes: bool) -> Result<u128> {
    let per_neuron: u128 = if membranes { 4 + 8 } else { 4 };
    let layers = net.layers.iter().filter(|l| l.is_neuron()).count() as u128;
    let per_step = traced_neurons(net)? * per_neuron + layers * 24 * (1 + membranes as u128);
    Ok(per_step * steps as u128)
}

/// Bytes of `n` random or read input samples of a network.
pub fn input_bytes<T: Elem>(net: &Network<T>, n: usize) -> u128 {
    (net.input.shape.len() as u128 * 4 + 24) * n as u128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_zero_huge_and_nan() {
        assert!(steps("--steps", 0, MAX_STEPS).is_err());
        assert!(steps("--steps", 1_000_000_000, MAX_STEPS).is_err());
        assert_eq!(steps("--steps", 4, MAX_STEPS).unwrap(), 4);
        assert!(count("--check", 0, MAX_SAMPLES).is_err());
        assert!(count("--check", 100_000_000_000, MAX_SAMPLES).is_err());
        assert!(float("--alpha", f64::NAN, 0.0, 1e3, true).is_err());
        assert!(float("--alpha", 0.0, 0.0, 1e3, true).is_err());
        assert!(float("--alpha", f64::INFINITY, 0.0, f64::MAX, true).is_err());
        assert!(float("--alpha", 4.0, 0.0, 1e3, true).is_ok());
        assert!(buffer("x", (MAX_BUFFER_BYTES as u128) + 1, "").is_err());
    }
}
