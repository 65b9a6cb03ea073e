//! Training end to end on the 8x8 digits set (seconds): the loss falls, the golden float model
//! beats chance by far, an interrupted and resumed run equals an uninterrupted one, and the
//! trained model quantizes and decouples with the expected agreement.
use crate::common;

use lifb_hdl::data::{self, eval, DataSetKind, Split};
use lifb_hdl::ir::Shape;
use lifb_hdl::ir::{Encoding, Reset};
use lifb_hdl::train::net::{parse_arch, NetConfig, ReadoutKind};
use lifb_hdl::train::quantize::QatConfig;
use lifb_hdl::train::{train, RunOptions, TrainConfig};
use std::path::Path;

fn tiny(epochs: u32, qat: bool) -> TrainConfig {
    tiny_arch("64-32-10", epochs, qat)
}

fn tiny_arch(arch: &str, epochs: u32, qat: bool) -> TrainConfig {
    let (input, blocks) = parse_arch(arch, Shape::chw(1, 8, 8)).unwrap();
    TrainConfig {
        dataset: "digits".into(),
        net: NetConfig {
            arch: arch.into(),
            input,
            blocks,
            max_burst: 3,
            lam: 1.0,
            reset: Reset::Subtract,
            readout: ReadoutKind::Current,
            alpha: 4.0,
            theta0: 1.0,
            spacing0: 1.0,
            coding: Encoding::Direct,
        },
        steps: 4,
        epochs,
        batch: 64,
        lr: 1e-2,
        weight_decay: 0.0,
        seed: 7,
        input_bits: Some(4),
        qat: qat.then_some(QatConfig {
            weight_bits: 4,
            input_bits: 4,
        }),
        qat_epochs: if qat { 2 } else { 0 },
        train_limit: None,
        shift: 0,
    }
}

fn quiet() -> RunOptions {
    RunOptions {
        checkpoint: None,
        resume: false,
        progress: false,
        log: false,
        stop_after: None,
    }
}

fn digits() -> (data::Dataset, data::Dataset) {
    let dir = Path::new("data");
    (
        data::load(DataSetKind::Digits, Split::Train, dir).unwrap(),
        data::load(DataSetKind::Digits, Split::Test, dir).unwrap(),
    )
}

/// The integer model of `float` (weight_bits, 4-bit inputs), its accuracy on `te` and the
/// quantizer's report.
fn quantized(
    float: &lifb_hdl::ir::FloatNetwork,
    te: &data::Dataset,
    weight_bits: u32,
    steps: u32,
) -> (lifb_hdl::ir::IntNetwork, f64, lifb_hdl::quant::QuantReport) {
    let opts = lifb_hdl::quant::QuantOptions {
        weight_bits,
        input_bits: 4,
        steps,
        ..Default::default()
    };
    let (int, report) = lifb_hdl::quant::quantize(float, &opts, None).unwrap();
    let acc = eval::accuracy(&eval::int_outputs(&int, te, steps).unwrap(), &te.labels);
    (int, acc, report)
}

#[test]
fn tiny_digits_model_learns() {
    let (tr, te) = digits();
    let cfg = tiny(6, true);
    let out = train(&cfg, &tr, &te, &quiet()).unwrap();
    let h = &out.history;
    assert_eq!(h.len(), 6);
    assert!(
        h.last().unwrap().loss < 0.5 * h[0].loss,
        "loss did not fall: {:?}",
        h.iter().map(|e| e.loss).collect::<Vec<_>>()
    );
    // The golden float simulator (not the training code) decides the accuracy.
    let float = out.net.export("tiny", cfg.qat.as_ref()).unwrap();
    let acc = eval::float_accuracy(&float, &te, cfg.steps, cfg.input_bits).unwrap();
    assert!(
        acc > 0.6,
        "test accuracy {acc} is not clearly above chance (0.1)"
    );
    // Training's own forward pass and the golden float model agree on the accuracy.
    let own = h.last().unwrap().test_accuracy;
    assert!(
        (own - acc).abs() < 0.02,
        "training says {own}, golden float says {acc}"
    );

    // Quantization-aware training: the integer model keeps the float model's accuracy, and the
    // decoupled model is spike-exact with it.
    let (int, int_acc, _) = quantized(&float, &te, 4, cfg.steps);
    assert!(int_acc >= acc - 0.02, "integer {int_acc} vs float {acc}");
    let dec = lifb_hdl::decouple::to_lif_groups(&int).unwrap();
    let xs = eval::int_inputs(&te, 4);
    let eq = lifb_hdl::verify::compare(&int, &dec, &xs, cfg.steps).unwrap();
    assert!(eq.exact(), "{:?}", eq.first);
}

/// Rate- and burst-coded training: the model records its coding, learns, and training's own test
/// accuracy is the golden float model's to the image (the same coder, the same sample numbering:
/// a different coder in training, or in the exported model, shows here). Trained
/// quantization-aware, the float model sits on the quantizer's grid for its coding (an input unit
/// is one spike, not 1/15), so its integer model agrees with it on nearly every image.
#[test]
fn rate_and_burst_coded_training_matches_the_golden_coder() {
    let (tr, te) = digits();
    for coding in [Encoding::Rate { seed: 7 }, Encoding::Burst { max_count: 3 }] {
        let mut cfg = tiny(8, false);
        cfg.net.coding = coding;
        let out = train(&cfg, &tr, &te, &quiet()).unwrap();
        let float = out.net.export("coded", None).unwrap();
        assert_eq!(float.input.encoding, coding);
        let acc = eval::float_accuracy(&float, &te, cfg.steps, cfg.input_bits).unwrap();
        assert!(acc > 0.6, "{coding:?}: test accuracy {acc}");
        let own = out.history.last().unwrap().test_accuracy;
        // (up to one image apart: candle's matrix products and the golden model's event sums
        // add in different orders, so a membrane exactly at a threshold may tip either way on
        // another CPU; a wrong coder or sample key moves several)
        assert!(
            (own - acc).abs() < 1.5 / te.len() as f64,
            "{coding:?}: training says {own}, golden float says {acc}"
        );
        // the same, quantization-aware
        let mut cfg = tiny(8, true);
        cfg.net.coding = coding;
        let out = train(&cfg, &tr, &te, &quiet()).unwrap();
        let float = out.net.export("coded", cfg.qat.as_ref()).unwrap();
        let (int, _, report) = quantized(&float, &te, 4, cfg.steps);
        assert!(
            report.max_threshold_error < 1e-4,
            "{coding:?}: thresholds off the quantizer's grid by up to {}",
            report.max_threshold_error
        );
        let fo = eval::float_outputs(&float, &te, cfg.steps, Some(4)).unwrap();
        let io = eval::int_outputs(&int, &te, cfg.steps).unwrap();
        let (same, _) = eval::agreement(&fo, &io);
        assert!(
            same > 0.99,
            "{coding:?}: float and integer agree on only {same}"
        );
    }
}

/// A small conv net (conv, LIFB, average pooling, dense) trains, and its quantized integer model
/// (average pooling becomes sum pooling) keeps the accuracy, so fake quantization matched the
/// quantizer's grid through the pooling too.
#[test]
fn tiny_conv_net_trains_and_quantizes() {
    let (tr, te) = digits();
    let cfg = tiny_arch("c4k3-p2-10", 4, true);
    let out = train(&cfg, &tr, &te, &quiet()).unwrap();
    let h = &out.history;
    assert!(h.last().unwrap().loss < 0.7 * h[0].loss);
    let float = out.net.export("conv", cfg.qat.as_ref()).unwrap();
    assert!(float
        .layers
        .iter()
        .any(|l| matches!(l, lifb_hdl::ir::Layer::Conv2d(_))));
    let acc = eval::float_accuracy(&float, &te, cfg.steps, cfg.input_bits).unwrap();
    assert!(acc > 0.5, "conv net accuracy {acc}");
    let (int, _, _) = quantized(&float, &te, 4, cfg.steps);
    let fo = eval::float_outputs(&float, &te, cfg.steps, Some(4)).unwrap();
    let io = eval::int_outputs(&int, &te, cfg.steps).unwrap();
    let (same, _) = eval::agreement(&fo, &io);
    assert!(
        same > 0.97,
        "float and integer conv nets agree on only {same}"
    );
}

#[test]
fn interrupted_and_resumed_run_equals_an_uninterrupted_one() {
    let (tr, te) = digits();
    let cfg = tiny(3, false);
    let full = train(&cfg, &tr, &te, &quiet()).unwrap();
    let scratch = common::Scratch::file("resume", "run.ckpt");
    let ckpt = scratch.to_path_buf();
    let mut o = quiet();
    o.checkpoint = Some(ckpt.clone());
    o.stop_after = Some(1);
    train(&cfg, &tr, &te, &o).unwrap();
    o.resume = true;
    o.stop_after = None;
    let resumed = train(&cfg, &tr, &te, &o).unwrap();
    let a = full.net.export("m", None).unwrap();
    let b = resumed.net.export("m", None).unwrap();
    assert_eq!(a, b, "resumed run differs from the uninterrupted one");
    assert_eq!(full.history.len(), resumed.history.len());
    // A checkpoint of other options is refused with a clear message, not silently mixed in.
    let other = tiny(4, false);
    let e = train(&other, &tr, &te, &o).err().expect("must refuse");
    assert_eq!(e.exit_code(), 2);
    assert!(e.message.contains("different options"), "{e}");
}

#[test]
fn cli_trains_and_evaluates_and_refuses_bad_input() {
    let dir = common::Scratch::new("cli-train");
    let model = dir.join("d.json");
    let st = common::bin()
        .args([
            "train", "--data", "digits", "--epochs", "2", "--quiet", "-o",
        ])
        .arg(&model)
        .status()
        .unwrap();
    assert!(st.success());
    let out = common::bin()
        .args(["eval", "--data", "digits", "--decouple", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("integer model") && text.contains("0 of"),
        "{text}"
    );
    // wrong input width for the data set: exit 2 with a message naming the fix
    let out = common::bin()
        .args(["train", "--data", "digits", "--arch", "784-10", "-o"])
        .arg(dir.join("x.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64-..."));
}
