//! lifb-hdl: LIFB spiking networks to spike-exact FPGA hardware.
//!
//! The crate is a small compiler. Front ends produce the network IR ([`ir`]); passes transform it
//! ([`quant`], [`decouple`]); back ends consume it ([`golden`] simulators, [`codegen`] RTL);
//! [`verify`] checks the passes against the simulators; [`format`] stores it. [`pipeline`]
//! chains them as named steps, from a model to a report (docs/architecture.md).
//! docs/semantics.md is the contract that the golden model and the generated RTL share.

pub mod cli;
pub mod codegen;
pub mod cosim;
pub mod data;
pub mod decouple;
pub mod error;
pub mod format;
pub mod golden;
pub mod import;
pub mod inputs;
pub mod ir;
pub(crate) mod limits;
pub mod nir;
pub mod pipeline;
pub mod quant;
pub mod report;
pub mod scale;
pub mod study;
pub mod synth;
#[cfg(feature = "train")]
pub mod train;
pub mod util;
pub mod verify;

pub use error::{Error, Result};
