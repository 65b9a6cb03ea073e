//! The integer simulator's vector kernels against their scalar definitions, and the reusable
//! workspace and threads against fresh single runs: every count, membrane and current equal.

use lifb_hdl::golden::kernels::{
    columns, dense_counts_i32, dense_i32, lifb_layer_i32, padded, NARROW,
};
use lifb_hdl::golden::neuron::{lifb_step, Fixed};
use lifb_hdl::golden::{IntSim, TraceOptions};
use lifb_hdl::ir::random::{random_inputs, random_network, RandomSpec};
use lifb_hdl::ir::Reset;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixed(rng: &mut ChaCha8Rng) -> Fixed {
    let m = rng.random_range(4..=32u32);
    let f = rng.random_range(0..=16u32);
    Fixed {
        v_min: -(1i64 << (m - 1)),
        v_max: (1i64 << (m - 1)) - 1,
        leak_d: rng.random_range(0..=1i64 << f),
        leak_frac: f,
    }
}

/// A current: mostly around the membrane range, sometimes anywhere in i32 (saturation).
fn current(rng: &mut ChaCha8Rng, fx: &Fixed) -> i32 {
    if rng.random_bool(0.1) {
        rng.random()
    } else {
        let span = (fx.v_max as i32).saturating_mul(2);
        rng.random_range(-span..=span)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn lifb_layer_equals_lifb_step(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let fx = fixed(&mut rng);
        let b = rng.random_range(1..=10u32);
        let reset = if rng.random_bool(0.5) { Reset::Subtract } else { Reset::Zero };
        let n = rng.random_range(1..=70usize);
        // theta + (B-1) * D fits the membrane (what validation guarantees).
        let (mut theta, mut spacing) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let sp = rng.random_range(1..=(fx.v_max / b as i64).max(1));
            let top = (fx.v_max - (b as i64 - 1) * sp).max(1);
            theta.push(rng.random_range(1..=top));
            spacing.push(sp);
        }
        let mut v_fast = vec![0i64; n];
        let mut v_ref = vec![0i64; n];
        let mut out = Vec::new();
        for _ in 0..6 {
            let x: Vec<i32> = (0..n).map(|_| current(&mut rng, &fx)).collect();
            lifb_layer_i32(&fx, &mut v_fast, &x, &theta, &spacing, b, reset, &mut out);
            for i in 0..n {
                let c = lifb_step(&fx, &mut v_ref[i], x[i] as i64, theta[i], spacing[i], b, reset);
                prop_assert_eq!(out[i], c, "count of neuron {} ({:?}, B={})", i, fx, b);
            }
            prop_assert_eq!(&v_fast, &v_ref);
        }
    }

    #[test]
    fn dense_equals_row_by_row_sum(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n_in = rng.random_range(1..=600usize);
        let n_out = rng.random_range(1..=300usize);
        let w_bits = rng.random_range(2..=16u32);
        // Values small enough that every sum fits i32 (validated networks guarantee that).
        let lg = 64 - (n_in as u64).leading_zeros();
        let c_bits = rng.random_range(1..=(29 - w_bits - lg).clamp(1, 16));
        let w_max = (1i32 << (w_bits - 1)) - 1;
        let stride = padded(n_out);
        let mut wt = vec![0i16; n_in * stride];
        for i in 0..n_in {
            for o in 0..n_out {
                wt[i * stride + o] = rng.random_range(-w_max - 1..=w_max) as i16;
            }
        }
        let bias: Vec<i32> = (0..n_out).map(|_| rng.random_range(-1000..=1000)).collect();
        let density = rng.random_range(0.0..=1.0);
        let values: Vec<u32> = (0..n_in)
            .map(|_| if rng.random_bool(density) { rng.random_range(1..1u32 << c_bits) } else { 0 })
            .collect();
        // The exact sums; validated networks keep them within i32, and so does this test.
        let sums: Vec<i64> = (0..n_out)
            .map(|o| {
                let s: i64 = (0..n_in).map(|i| values[i] as i64 * wt[i * stride + o] as i64).sum();
                s + bias[o] as i64
            })
            .collect();
        prop_assume!(sums.iter().all(|&s| i32::try_from(s).is_ok()));
        let expected: Vec<i32> = sums.iter().map(|&s| s as i32).collect();
        let (idx, val): (Vec<u32>, Vec<i32>) = values
            .iter()
            .enumerate()
            .filter(|(_, &v)| v != 0)
            .map(|(i, &v)| (i as u32, v as i32))
            .unzip();
        let mut acc = Vec::new();
        dense_i32(&mut acc, &bias, &wt, stride, &idx, &val, w_max + 1);
        prop_assert_eq!(&acc[..n_out], &expected[..]);
        prop_assert!(acc[n_out..].iter().all(|&a| a == 0), "padding columns stay zero");
        if stride <= NARROW {
            let cols = columns(&wt, stride);
            let mut acc2 = Vec::new();
            if dense_counts_i32(&mut acc2, &bias, &cols, stride, &values) {
                prop_assert_eq!(&acc2[..n_out], &expected[..]);
            } else {
                let active = values.iter().filter(|&&v| v != 0).count();
                prop_assert!(active * 4 < n_in || values.iter().any(|&v| v > 32767));
            }
        }
    }

    /// One workspace reused over many samples, and several threads, give what a fresh run of
    /// each sample gives (membranes and counts of every layer at every step, readout, class).
    #[test]
    fn reused_workspace_and_threads_equal_fresh_runs(seed in any::<u64>(), steps in 1u32..8) {
        let spec = RandomSpec { max_inputs: 40, max_width: 40, conv: true, ..RandomSpec::default() };
        let net = random_network(seed, &spec);
        let sim = IntSim::new(&net).unwrap();
        let inputs = random_inputs(&net, seed ^ 0x5eed, 7, 0.5);
        let mut ws = sim.workspace();
        let opts = TraceOptions { counts: true, membranes: true };
        let mut fresh_classes = Vec::new();
        for (s, x) in inputs.iter().enumerate() {
            let fresh = sim.run(x, s as u64, steps, opts).unwrap();
            let again = sim.run(x, s as u64, steps, opts).unwrap();
            prop_assert_eq!(&fresh.layers, &again.layers);
            let class = sim.classify_in(&mut ws, x, s as u64, steps).unwrap();
            prop_assert_eq!(class, fresh.predicted);
            prop_assert_eq!(ws.readout(), &fresh.readout[..]);
            fresh_classes.push(fresh.predicted);
        }
        for threads in [1, 3] {
            prop_assert_eq!(&sim.classify_all(&inputs, 0, steps, threads).unwrap(), &fresh_classes);
        }
    }

    /// The fast classification path (integer perceptrons of dense and LIFB layers, constant
    /// input coding) against the reference path: the same class and readout for every input,
    /// on random networks whose widths cover narrow and wide layers, padding lanes and chunks,
    /// bursts up to 8, both resets and currents that saturate the membrane.
    #[test]
    fn fast_path_equals_reference(seed in any::<u64>(), steps in 1u32..9, density in 0.0f64..=1.0) {
        let spec = RandomSpec {
            max_inputs: 300,
            max_width: 90,
            max_hidden: 3,
            max_burst: 8,
            current_readout: false,
            conv: false,
        };
        let net = random_network(seed, &spec);
        let sim = IntSim::new(&net).unwrap();
        // Every such network with a constant coding takes the fast path (none is skipped).
        prop_assert_eq!(sim.has_fast_path(), net.input.encoding.is_constant());
        let inputs = random_inputs(&net, seed ^ 0xfa57, 6, density);
        let (mut fast, mut reference) = (sim.workspace(), sim.workspace());
        for (s, x) in inputs.iter().enumerate() {
            let class = sim.classify_in(&mut fast, x, s as u64, steps).unwrap();
            let want = sim.classify_reference(&mut reference, x, s as u64, steps).unwrap();
            prop_assert_eq!(class, want, "class of input {}", s);
            prop_assert_eq!(fast.readout(), reference.readout(), "readout of input {}", s);
            let traced = sim.run(x, s as u64, steps, TraceOptions { counts: true, membranes: false }).unwrap();
            prop_assert_eq!(&traced.readout[..], fast.readout());
        }
        for threads in [1, 2] {
            let classes = sim.classify_all(&inputs, 0, steps, threads).unwrap();
            for (s, x) in inputs.iter().enumerate() {
                let want = sim.classify_reference(&mut reference, x, s as u64, steps).unwrap();
                prop_assert_eq!(classes[s], want);
            }
        }
    }
}
