//! Hand-computed known answers for single LIF and LIFB neurons (docs/semantics.md).

use lifb_hdl::golden::neuron::{group_step, lifb_step, lifb_step_float, Fixed};
use lifb_hdl::ir::Reset;

/// 8-bit membrane (-128..=127), no leak.
const IF8: Fixed = Fixed {
    v_min: -128,
    v_max: 127,
    leak_d: 0,
    leak_frac: 4,
};

/// Feed currents, return (count, membrane) after each step.
fn run(fx: &Fixed, xs: &[i64], theta: i64, d: i64, b: u32, reset: Reset) -> Vec<(u32, i64)> {
    let mut v = 0;
    xs.iter()
        .map(|&x| {
            let c = lifb_step(fx, &mut v, x, theta, d, b, reset);
            (c, v)
        })
        .collect()
}

#[test]
fn lif_integrates_and_fires_on_greater_or_equal() {
    // theta = 10, B = 1: 4, 4 -> 8 (rest); +2 -> 10 >= 10 fires, subtract -> 0.
    assert_eq!(
        run(&IF8, &[4, 4, 2], 10, 1, 1, Reset::Subtract),
        vec![(0, 4), (0, 8), (1, 0)]
    );
    // 9 stays below, 11 fires and keeps 1 under subtract, 0 under zero reset.
    assert_eq!(
        run(&IF8, &[9, 2], 10, 1, 1, Reset::Subtract),
        vec![(0, 9), (1, 1)]
    );
    assert_eq!(
        run(&IF8, &[9, 2], 10, 1, 1, Reset::Zero),
        vec![(0, 9), (1, 0)]
    );
    // B = 1 never bursts: 35 fires once and keeps 25 (subtract).
    assert_eq!(run(&IF8, &[35], 10, 5, 1, Reset::Subtract), vec![(1, 25)]);
}

#[test]
fn lifb_three_modes() {
    // theta = 10, D = 5, B = 4: thresholds 10, 15, 20, 25.
    let t = |x| run(&IF8, &[x], 10, 5, 4, Reset::Subtract)[0];
    assert_eq!(t(9), (0, 9)); // resting
    assert_eq!(t(10), (1, 0)); // regular: V = 10 - 10
    assert_eq!(t(14), (1, 4)); // regular
    assert_eq!(t(15), (2, 0)); // burst of 2: V = 15 - (10 + 5)
    assert_eq!(t(24), (3, 4)); // burst of 3: V = 24 - (10 + 2*5)
    assert_eq!(t(25), (4, 0)); // burst of 4
    assert_eq!(t(100), (4, 75)); // capped at B: V = 100 - (10 + 3*5)
                                 // zero reset clears after any spike
    assert_eq!(run(&IF8, &[24], 10, 5, 4, Reset::Zero)[0], (3, 0));
    // B = 1 is exactly LIF
    for x in -20..60 {
        assert_eq!(
            run(&IF8, &[x, x], 10, 5, 1, Reset::Subtract),
            run(&IF8, &[x, x], 10, 99, 1, Reset::Subtract)
        );
    }
}

#[test]
fn leak_rounds_toward_minus_infinity() {
    // d = 8 of 16 (lam = 1/2): leak(V) = V - floor(V * 8 / 16).
    let fx = Fixed { leak_d: 8, ..IF8 };
    assert_eq!(fx.leak(9), 5); // 9 - 4
    assert_eq!(fx.leak(-9), -4); // -9 - (-5)
    assert_eq!(fx.leak(1), 1); // 1 - 0: a small positive remainder does not decay
    assert_eq!(fx.leak(-1), 0); // -1 - (-1)
                                // 9, then 0 input: 9 -> 5 -> 3 -> 2 -> 1 -> 1
    let r = run(&fx, &[9, 0, 0, 0, 0, 0], 100, 1, 1, Reset::Subtract);
    assert_eq!(
        r.iter().map(|p| p.1).collect::<Vec<_>>(),
        vec![9, 5, 3, 2, 1, 1]
    );
    // d = 16 of 16 (lam = 0): memoryless.
    let fx0 = Fixed { leak_d: 16, ..IF8 };
    assert_eq!(
        run(&fx0, &[7, 7], 10, 1, 1, Reset::Subtract),
        vec![(0, 7), (0, 7)]
    );
}

#[test]
fn saturation_at_both_ends() {
    // 100 + 100 saturates at 127 before firing: theta 120, D 1, B 8 -> 8 spikes, V = 127 - 127.
    assert_eq!(
        run(&IF8, &[100, 100], 120, 1, 8, Reset::Subtract),
        vec![(0, 100), (8, 0)]
    );
    // Negative drive saturates at -128 and recovers from there, not from -300.
    assert_eq!(
        run(&IF8, &[-200, -100, 100], 10, 1, 1, Reset::Subtract),
        vec![(0, -128), (0, -128), (0, -28)]
    );
    // Top threshold at the edge of the range: theta + (B-1) D = 127 is reachable.
    assert_eq!(run(&IF8, &[127], 120, 1, 8, Reset::Subtract)[0], (8, 0));
}

#[test]
fn group_form_matches_lifb_by_hand() {
    // theta 10, D 5, B 3: sub-unit thresholds 10, 15, 20; rho 10, 5, 5.
    let th = [10, 15, 20];
    let rho = [10, 5, 5];
    let mut s = [0u32; 3];
    let mut v = 0;
    assert_eq!(
        group_step(&IF8, &mut v, 17, &th, &rho, Reset::Subtract, &mut s),
        2
    );
    assert_eq!((s, v), ([1, 1, 0], 2)); // 17 - (10 + 5)
    let mut v = 0;
    assert_eq!(
        group_step(&IF8, &mut v, 40, &th, &rho, Reset::Subtract, &mut s),
        3
    );
    assert_eq!((s, v), ([1, 1, 1], 20)); // 40 - 20
    let mut v = 0;
    assert_eq!(
        group_step(&IF8, &mut v, 40, &th, &rho, Reset::Zero, &mut s),
        3
    );
    assert_eq!(v, 0);
}

#[test]
fn float_model_known_answers() {
    let mut v = 0.0;
    // lam 0.5: H = 0.5*0 + 1.2 = 1.2 >= 1.0 with D 0.1, B 4 -> 1 + floor(0.2/0.1) = 3 spikes
    // (in f32 0.2/0.1 may be 1.9999; the float model is not bit-exact to real numbers, which is
    // why the hardware follows the integer model).
    let c = lifb_step_float(0.5, &mut v, 1.25, 1.0, 0.125, 4, Reset::Subtract);
    assert_eq!(c, 3); // 1 + floor(0.25 / 0.125)
    assert_eq!(v, 0.0); // 1.25 - (1.0 + 2 * 0.125)
    let c = lifb_step_float(0.5, &mut v, 0.75, 1.0, 0.125, 4, Reset::Subtract);
    assert_eq!((c, v), (0, 0.75));
    let c = lifb_step_float(0.5, &mut v, 0.75, 1.0, 0.125, 4, Reset::Subtract);
    assert_eq!((c, v), (2, 0.0)); // H = 0.375 + 0.75 = 1.125 = theta + D
}

/// The burst-threshold ladder theta + k D (one function used by the passes and back ends) agrees
/// with the neuron: the count is the number of ladder steps H reaches, capped at B.
#[test]
fn burst_threshold_ladder_counts_like_the_neuron() {
    use lifb_hdl::ir::{burst_threshold, burst_threshold_int};
    assert_eq!(
        (0..4)
            .map(|k| burst_threshold_int(10, 3, k))
            .collect::<Vec<_>>(),
        vec![10, 13, 16, 19]
    );
    assert_eq!(burst_threshold(0.5, 0.25, 2), 1.0);
    // Exact at the extremes of a 32-bit membrane.
    assert_eq!(
        burst_threshold_int(i32::MAX as i64 - 63, 1, 63),
        i32::MAX as i64
    );
    for b in 1..=5u32 {
        for h in -5..40i64 {
            let mut v = 0;
            let c = lifb_step(&IF8, &mut v, h, 10, 3, b, Reset::Zero);
            let ladder = (0..b)
                .filter(|&k| h >= burst_threshold_int(10, 3, k))
                .count() as u32;
            assert_eq!(c, ladder, "H = {h}, B = {b}");
        }
    }
}
