//! The shipped example models hold what their manifests claim: re-evaluating them on the shipped
//! test images in the golden simulators gives the recorded float, integer and decoupled
//! accuracies, and the decoupled model is spike-exact with the integer model (the MLPs and the
//! MNIST conv model).

use lifb_hdl::data::{self, eval, DataSetKind, Split};
use lifb_hdl::format::{self, AnyNetwork};
use lifb_hdl::quant::{self, QuantOptions};
use std::path::Path;

fn check(model: &str, kind: DataSetKind, key: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let AnyNetwork::Float(float) = format::load(&root.join(model)).unwrap() else {
        panic!("{model} should be a float model");
    };
    let rec = float
        .meta
        .get(key)
        .unwrap_or_else(|| panic!("{model}: meta {key} missing"));
    let get = |k: &str| rec[k].as_f64().unwrap_or_else(|| panic!("{key}.{k}"));
    let steps = get("steps") as u32;
    let bits = get("weight_bits") as u32;
    let input_bits = get("input_bits") as u32;
    let ds = data::load(kind, Split::Test, &root.join("data")).unwrap();
    assert_eq!(ds.len(), get("images") as usize);
    let opts = QuantOptions {
        weight_bits: bits,
        input_bits,
        steps,
        ..Default::default()
    };
    let (int, _) = quant::quantize(&float, &opts, None).unwrap();
    let fo = eval::float_outputs(&float, &ds, steps, Some(input_bits)).unwrap();
    let io = eval::int_outputs(&int, &ds, steps).unwrap();
    // Same number of correct images (the manifest's JSON may drop the last digit of an f64).
    let same = |a: f64, k: &str| {
        let n = ds.len() as f64;
        assert_eq!((a * n).round(), (get(k) * n).round(), "{model}: {k}");
    };
    same(eval::accuracy(&fo, &ds.labels), "float_accuracy");
    same(eval::accuracy(&io, &ds.labels), "integer_accuracy");
    let dec = lifb_hdl::decouple::to_lif_groups(&int).unwrap();
    let eq =
        lifb_hdl::verify::compare(&int, &dec, &eval::int_inputs(&ds, input_bits), steps).unwrap();
    assert!(eq.exact(), "{model}: decoupled differs: {:?}", eq.first);
    same(
        eval::accuracy(&eval::int_outputs(&dec, &ds, steps).unwrap(), &ds.labels),
        "decoupled_accuracy",
    );
}

#[test]
fn mnist_example_model_holds_its_recorded_accuracy() {
    check(
        "examples/mnist-lifb.json",
        DataSetKind::MnistSample,
        "eval_mnist-sample",
    );
}

#[test]
fn digits_example_model_holds_its_recorded_accuracy() {
    check(
        "examples/digits-lifb.json",
        DataSetKind::Digits,
        "eval_digits",
    );
}

#[test]
fn mnist_conv_example_model_holds_its_recorded_accuracy() {
    check(
        "examples/mnist-conv-lifb.json",
        DataSetKind::MnistSample,
        "eval_mnist-sample",
    );
}
