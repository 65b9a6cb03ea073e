//! The quantization pass: the scale rule, exact recovery of an integer network written as floats,
//! and agreement with the float model.

use lifb_hdl::golden::encode::int_inputs;
use lifb_hdl::golden::{FloatSim, IntSim, TraceOptions};
use lifb_hdl::ir::random::{random_network, RandomSpec};
use lifb_hdl::ir::{Dense, Encoding, FloatNetwork, Layer, Leak, Lifb, Network};
use lifb_hdl::quant::{self, QuantOptions};
use lifb_hdl::verify;

/// An integer network written as floats: weights w * s_w with one weight at +wmax, thresholds
/// and spacings t * s, lam = 1 - d / 2^f. Quantizing must give the integers back.
fn float_twin(seed: u64, wb: u32, f: u32) -> (lifb_hdl::ir::IntNetwork, FloatNetwork) {
    let mut int = random_network(
        seed,
        &RandomSpec {
            current_readout: false,
            ..RandomSpec::default()
        },
    );
    int.input.encoding = Encoding::Direct;
    let fx = int.fixed.as_mut().unwrap();
    fx.weight_bits = wb;
    fx.input_bits = 4;
    fx.leak_frac_bits = f;
    let wmax = (1 << (wb - 1)) - 1;
    let mut layers = Vec::new();
    let mut s_in = 1.0f64 / 15.0;
    let mut s = 1.0f64;
    for l in &mut int.layers {
        match l {
            Layer::Dense(d) => {
                for w in &mut d.weight {
                    *w = (*w).clamp(-wmax, wmax);
                }
                d.weight[0] = wmax; // pins max|W|
                d.bias = None;
                let s_w = 0.01 * (1 + d.in_features % 5) as f64;
                s = s_w * s_in;
                layers.push(Layer::Dense(Dense {
                    in_features: d.in_features,
                    out_features: d.out_features,
                    weight: d.weight.iter().map(|&w| (w as f64 * s_w) as f32).collect(),
                    bias: None,
                }));
            }
            Layer::Lifb(n) => {
                let dd = 1u32 << f.saturating_sub(2); // lam = 3/4 (or 0 when f = 0)
                n.leak = Leak::Fixed { d: dd.min(1 << f) };
                let lam = 1.0 - dd.min(1 << f) as f32 / (1u32 << f) as f32;
                layers.push(Layer::Lifb(Lifb {
                    leak: Leak::Lambda { lam },
                    threshold: n.threshold.iter().map(|&t| (t as f64 * s) as f32).collect(),
                    spacing: n.spacing.iter().map(|&t| (t as f64 * s) as f32).collect(),
                    max_burst: n.max_burst,
                    reset: n.reset,
                }));
                s_in = 1.0;
            }
            _ => unreachable!(),
        }
    }
    let float = Network {
        name: int.name.clone(),
        input: int.input.clone(),
        layers,
        fixed: None,
        meta: Default::default(),
    };
    (int, float)
}

#[test]
fn quantizing_a_float_twin_recovers_the_integers() {
    for seed in 0..100 {
        let wb = 2 + (seed % 7) as u32;
        let (int, float) = float_twin(seed, wb, 4);
        let membrane = int.fixed.as_ref().unwrap().membrane_bits;
        let opts = QuantOptions {
            weight_bits: wb,
            membrane_bits: Some(membrane),
            input_bits: 4,
            leak_frac_bits: 4,
            steps: 4,
        };
        let (q, _) = quant::quantize(&float, &opts, None).unwrap();
        for (a, b) in q.layers.iter().zip(&int.layers) {
            assert_eq!(a, b, "seed {seed}");
        }
    }
}

#[test]
fn high_precision_quantization_agrees_with_float() {
    let mut agree = 0.0;
    let mut n = 0.0;
    for seed in 100..140 {
        let (_, float) = float_twin(seed, 8, 8);
        let opts = QuantOptions {
            weight_bits: 12,
            membrane_bits: Some(24),
            input_bits: 8,
            leak_frac_bits: 8,
            steps: 6,
        };
        let inputs: Vec<Vec<f32>> = (0..20)
            .map(|s| {
                (0..float.input.shape.len())
                    .map(|i| ((i * 37 + s * 11) % 17) as f32 / 16.0)
                    .collect()
            })
            .collect();
        let (q, _) = quant::quantize(&float, &opts, None).unwrap();
        let ag = verify::agreement(&float, &q, &inputs, None, 6).unwrap();
        agree += ag.class_agreement;
        n += 1.0;
        // the same call through the simulators directly
        let (fs, is) = (FloatSim::new(&float).unwrap(), IntSim::new(&q).unwrap());
        let t = TraceOptions {
            counts: true,
            membranes: false,
        };
        let x = &inputs[0];
        let _ = (
            fs.run(x, 0, 6, t).unwrap(),
            is.run(&int_inputs(x, 255), 0, 6, t).unwrap(),
        );
    }
    let rate = agree / n;
    eprintln!("12-bit quantization: {:.1} % class agreement", rate * 100.0);
    assert!(rate > 0.9, "class agreement only {rate}");
}

#[test]
fn calibration_never_does_worse_than_no_calibration() {
    let (_, float) = float_twin(7, 8, 4);
    let inputs: Vec<Vec<f32>> = (0..40)
        .map(|s| {
            (0..float.input.shape.len())
                .map(|i| ((i * 13 + s * 7) % 9) as f32 / 8.0)
                .collect()
        })
        .collect();
    let opts = QuantOptions {
        weight_bits: 3,
        membrane_bits: None,
        input_bits: 4,
        leak_frac_bits: 4,
        steps: 4,
    };
    let (plain, _) = quant::quantize(&float, &opts, None).unwrap();
    let (cal, rep) = verify::quantize_calibrated(&float, &opts, &inputs).unwrap();
    let a = verify::agreement(&float, &plain, &inputs, None, 4)
        .unwrap()
        .class_agreement;
    let b = verify::agreement(&float, &cal, &inputs, None, 4)
        .unwrap()
        .class_agreement;
    assert!(b >= a, "calibrated {b} < plain {a} (clips {:?})", rep.clips);
}

#[test]
fn bad_options_are_refused() {
    let (_, float) = float_twin(1, 8, 4);
    for opts in [
        QuantOptions {
            weight_bits: 1,
            ..QuantOptions::default()
        },
        QuantOptions {
            weight_bits: 17,
            ..QuantOptions::default()
        },
        QuantOptions {
            input_bits: 0,
            ..QuantOptions::default()
        },
        QuantOptions {
            membrane_bits: Some(3),
            ..QuantOptions::default()
        },
    ] {
        let e = quant::quantize(&float, &opts, None).unwrap_err();
        assert!(e.message.contains("--"), "{e}");
    }
}
