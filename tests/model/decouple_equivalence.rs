//! The decoupling is lossless: property tests over random networks and inputs.

use lifb_hdl::decouple;
use lifb_hdl::golden::{Sim, TraceOptions};
use lifb_hdl::ir::random::{random_inputs, random_network, RandomSpec};
use lifb_hdl::ir::{IntNetwork, Layer, Leak, Reset};
use lifb_hdl::verify::compare;
use proptest::prelude::*;

fn spec() -> RandomSpec {
    RandomSpec {
        conv: true,
        ..RandomSpec::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Integer LIFB and its group form: identical counts at every layer, step and neuron.
    #[test]
    fn group_form_is_exact(seed in any::<u64>(), steps in 1u32..10) {
        let net = random_network(seed, &spec());
        let dec = decouple::to_lif_groups(&net).unwrap();
        let inputs = random_inputs(&net, seed ^ 1, 3, 0.6);
        let eq = compare(&net, &dec, &inputs, steps).unwrap();
        prop_assert!(eq.exact(), "{:?}", eq.first);
        prop_assert!(eq.compared > 0);
    }

    /// Pure-LIF form with the identity leak (d = 0) and subtract reset: exact.
    #[test]
    fn pure_lif_form_is_exact_without_leak(seed in any::<u64>(), steps in 1u32..10) {
        let net = identity_leak_subtract(random_network(seed, &spec()));
        let dec = decouple::to_pure_lif(&net).unwrap();
        let inputs = random_inputs(&net, seed ^ 2, 3, 0.6);
        let eq = compare(&net, &dec, &inputs, steps).unwrap();
        prop_assert!(eq.exact(), "{:?}", eq.first);
    }
}

fn identity_leak_subtract(mut net: IntNetwork) -> IntNetwork {
    for l in &mut net.layers {
        if let Layer::Lifb(n) = l {
            n.leak = Leak::Fixed { d: 0 };
            n.reset = Reset::Subtract;
        }
    }
    net
}

/// With a leak that is not the identity, the pure-LIF form is not exact in fixed point: measure
/// how often it differs (the figure docs/semantics.md quotes) and check it is not silently zero.
#[test]
fn pure_lif_form_with_leak_is_measured() {
    let (mut compared, mut mismatched, mut nets) = (0u64, 0u64, 0);
    for seed in 0..400u64 {
        let mut net = random_network(seed, &RandomSpec::default());
        let mut leaky = false;
        for l in &mut net.layers {
            if let Layer::Lifb(n) = l {
                n.reset = Reset::Subtract;
                leaky |= n.max_burst > 1 && matches!(n.leak, Leak::Fixed { d } if d > 0);
            }
        }
        if !leaky {
            continue;
        }
        nets += 1;
        let dec = decouple::to_pure_lif(&net).unwrap();
        let eq = compare(&net, &dec, &random_inputs(&net, seed, 4, 0.6), 8).unwrap();
        compared += eq.compared;
        mismatched += eq.mismatched;
    }
    let rate = mismatched as f64 / compared as f64;
    eprintln!("pure-LIF form with leak: {mismatched} of {compared} counts differ ({:.2} %) over {nets} networks", rate * 100.0);
    assert!(nets > 50);
    assert!(
        mismatched > 0,
        "a leaky pure-LIF form never differed: the measurement is not measuring"
    );
}

/// A planted fault (one sub-unit threshold changed) must be caught by the equivalence check
/// wherever it can show: on every network whose faulted layer emits a regular spike (c = 1).
#[test]
fn planted_threshold_fault_is_caught() {
    let (mut observable, mut caught) = (0, 0);
    for seed in 0..300u64 {
        let net = random_network(
            seed,
            &RandomSpec {
                current_readout: false,
                ..RandomSpec::default()
            },
        );
        let mut dec = decouple::to_lif_groups(&net).unwrap();
        let Some((li, g)) = dec
            .layers
            .iter_mut()
            .enumerate()
            .find_map(|(i, l)| match l {
                Layer::LifGroup(g) => Some((i, g)),
                _ => None,
            })
        else {
            continue;
        };
        // Lower the second sub-unit's threshold to the first's: every regular spike (c = 1)
        // becomes a burst of two.
        g.thresholds[1] = g.thresholds[0];
        let (len, group) = (g.thresholds.len(), g.group as usize);
        let shape = net.shapes().unwrap()[li];
        let affected = |n: usize| lifb_hdl::ir::param_row(len, group, shape, n) == 0;
        let inputs = random_inputs(&net, seed, 20, 0.7);
        let sim = Sim::new(&net).unwrap();
        let regular = inputs.iter().enumerate().any(|(s, x)| {
            let t = sim
                .run(
                    x,
                    s as u64,
                    8,
                    TraceOptions {
                        counts: true,
                        membranes: false,
                    },
                )
                .unwrap();
            t.layers.iter().filter(|l| l.layer == li).any(|l| {
                l.counts
                    .iter()
                    .any(|step| step.iter().enumerate().any(|(n, &c)| c == 1 && affected(n)))
            })
        });
        let eq = compare(&net, &dec, &inputs, 8).unwrap();
        if regular {
            observable += 1;
            assert!(!eq.exact(), "seed {seed}: planted fault not caught");
            let d = eq.first.expect("a mismatch names its place");
            assert_eq!(d.layer, li);
            assert_eq!((d.expected, d.actual), (1, 2), "{d}");
            caught += 1;
        }
    }
    eprintln!("planted threshold faults caught: {caught} of {observable} observable");
    assert!(observable > 50);
}

#[test]
fn pure_lif_refuses_zero_reset() {
    for seed in 0..100u64 {
        let net = random_network(seed, &RandomSpec::default());
        let zero_burst = net
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Lifb(n) if n.reset == Reset::Zero && n.max_burst > 1));
        let r = decouple::to_pure_lif(&net);
        assert_eq!(r.is_err(), zero_burst, "seed {seed}");
        if let Err(e) = r {
            assert!(e.to_string().contains("subtract reset"), "{e}");
        }
    }
}

/// A conv layer with a per-channel threshold beside a per-neuron spacing: every neuron pairs its
/// own channel's threshold with its own spacing, in the membrane-width check, the group form's
/// ladder and the simulation (`i % len` pairing used to take neuron 4's threshold from channel 0).
#[test]
fn per_channel_threshold_with_per_neuron_spacing_on_a_conv_layer() {
    use lifb_hdl::ir::{Conv2d, Encoding, FixedPoint, InputSpec, Lifb, Network, Shape};
    // conv 1 -> 2 channels, 3x3 input, 2x2 kernel: 2 x 2 x 2 = 8 neurons; neurons 4..8 are channel 1.
    let make = |spacing4: i32| {
        let mut spacing = vec![3; 8];
        spacing[4] = spacing4;
        Network {
            name: "mixed".into(),
            input: InputSpec {
                shape: Shape::chw(1, 3, 3),
                encoding: Encoding::Rate { seed: 5 },
            },
            layers: vec![
                Layer::Conv2d(Conv2d {
                    in_channels: 1,
                    out_channels: 2,
                    kernel: [2, 2],
                    stride: [1, 1],
                    padding: [0, 0],
                    weight: vec![9, 5, 7, 6, 8, 9, 7, 9],
                    bias: Some(vec![2, 4]),
                }),
                Layer::Lifb(Lifb {
                    leak: Leak::Fixed { d: 1 },
                    threshold: vec![10, 1000],
                    spacing,
                    max_burst: 2,
                    reset: Reset::Subtract,
                }),
            ],
            fixed: Some(FixedPoint {
                weight_bits: 8,
                membrane_bits: 16,
                input_bits: 4,
                leak_frac_bits: 4,
                scales: vec![1.0; 2],
            }),
            meta: Default::default(),
        }
    };
    // Neuron 4: theta = 1000 (channel 1) + D = 32000 reaches 33000 > 32767: refused.
    let e = make(32000).validate().unwrap_err();
    assert!(
        e.to_string().contains("does not fit the 16-bit membrane"),
        "{e}"
    );
    // 1000 + 31000 fits; the group form's ladder of neuron 4 is (1000, 32000), of neuron 0 (10, 13).
    let net = make(31000);
    net.validate().unwrap();
    let dec = decouple::to_lif_groups(&net).unwrap();
    let Layer::LifGroup(g) = &dec.layers[1] else {
        panic!("group form")
    };
    assert_eq!(g.thresholds.len(), 16, "one row per neuron");
    assert_eq!(&g.thresholds[8..10], &[1000, 32000]);
    assert_eq!(&g.thresholds[0..2], &[10, 13]);
    assert_eq!(&g.thresholds[10..12], &[1000, 1003]);
    assert_eq!(&g.rho[8..10], &[1000, 31000]);
    let inputs = random_inputs(&net, 11, 16, 0.9);
    let eq = compare(&net, &dec, &inputs, 12).unwrap();
    assert!(eq.compared > 0 && eq.exact(), "{eq:?}");
}

/// One form enum for the passes and the hardware: the native form is not a decoupling, the
/// hardware has no pure-LIF form, and "group" names the decoupled (group) form.
#[test]
fn one_form_enum_for_the_pass_and_the_hardware() {
    use clap::ValueEnum;
    use lifb_hdl::error::ErrorKind;
    use lifb_hdl::ir::Form;
    let net = random_network(3, &RandomSpec::default());
    let e = decouple::decouple(&net, Form::Native).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput, "{e}");
    assert!(e.to_string().contains("native form"), "{e}");
    let e = lifb_hdl::codegen::plan::apply_form(&net, Form::PureLif).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput, "{e}");
    assert!(e.to_string().contains("pure-LIF"), "{e}");
    assert_eq!(Form::from_str("group", false), Ok(Form::Decoupled));
    assert_eq!(Form::from_str("decoupled", false), Ok(Form::Decoupled));
    assert_eq!(Form::from_str("pure-lif", false), Ok(Form::PureLif));
    for f in [Form::Native, Form::Decoupled, Form::PureLif] {
        assert_eq!(Form::from_str(&f.to_string(), false), Ok(f), "{f}");
    }
}

/// The mixed broadcast end to end: a float conv layer with a per-channel threshold beside a
/// per-neuron spacing is quantized (its spike counts follow the float model's), and the group
/// form of the integer network is spike-exact, every neuron pairing its own channel's threshold
/// with its own spacing.
#[test]
fn mixed_broadcast_float_quantized_and_decoupled_agree() {
    use lifb_hdl::golden::encode::int_inputs;
    use lifb_hdl::ir::{Conv2d, Encoding, InputSpec, Lifb, Network, Shape};
    use lifb_hdl::quant::{quantize, QuantOptions};
    let mut spacing = vec![0.3f32; 8];
    spacing[4] = 0.9;
    spacing[6] = 0.05;
    let float: Network<f32> = Network {
        name: "mixed-float".into(),
        input: InputSpec {
            shape: Shape::chw(1, 3, 3),
            encoding: Encoding::Direct,
        },
        layers: vec![
            Layer::Conv2d(Conv2d {
                in_channels: 1,
                out_channels: 2,
                kernel: [2, 2],
                stride: [1, 1],
                padding: [0, 0],
                weight: vec![0.9, 0.5, 0.7, 0.6, 0.8, 0.9, 0.7, 0.9],
                bias: Some(vec![0.1, 0.2]),
            }),
            Layer::Lifb(Lifb {
                leak: Leak::Lambda { lam: 1.0 },
                threshold: vec![0.4, 1.2],
                spacing,
                max_burst: 3,
                reset: Reset::Subtract,
            }),
        ],
        fixed: None,
        meta: Default::default(),
    };
    let inputs: Vec<Vec<f32>> = (0..32)
        .map(|s| {
            (0..9)
                .map(|i| ((s * 7 + i * 3) % 10) as f32 / 9.0)
                .collect()
        })
        .collect();
    let opts = QuantOptions {
        weight_bits: 12,
        input_bits: 8,
        ..Default::default()
    };
    let (int, _) = quantize(&float, &opts, None).unwrap();
    let ag = lifb_hdl::verify::agreement(&float, &int, &inputs, None, 8).unwrap();
    assert!(ag.count_agreement[0] > 0.9, "{ag:?}");
    let xi: Vec<Vec<u32>> = inputs.iter().map(|x| int_inputs(x, 255)).collect();
    let dec = decouple::to_lif_groups(&int).unwrap();
    let eq = compare(&int, &dec, &xi, 8).unwrap();
    assert!(eq.compared > 0 && eq.exact(), "{eq:?}");
    // Neuron 4 (channel 1) climbs its own ladder: theta of channel 1, spacing of neuron 4.
    let (Layer::Lifb(n), Layer::LifGroup(g)) = (&int.layers[1], &dec.layers[1]) else {
        panic!("lifb and group layers")
    };
    let (th, d) = (n.threshold[1], n.spacing[4]);
    assert_eq!(&g.thresholds[12..15], &[th, th + d, th + 2 * d]);
}
