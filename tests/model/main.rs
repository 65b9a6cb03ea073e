//! The model side without EDA tools: the IR and its file format, quantization, decoupling,
//! the golden model, NIR import and export, training and the shipped examples.
//!
//! One test binary (`cargo test --release --test model`); each file is a module, so a test is
//! named `FILE::TEST` (`cargo test --release --test model FILE::`). Support code shared by all
//! groups is in tests/common.

#[path = "../common/mod.rs"]
mod common;

mod decouple_equivalence;
mod examples;
mod golden_kernels;
mod model_format;
mod neuron_known_answers;
mod nir_import;
mod nir_roundtrip;
mod nir_state_dict;
mod quantize;
#[cfg(feature = "train")]
mod train;
