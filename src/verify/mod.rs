//! Verification: the checks that run the golden simulators against the output of a pass (the
//! passes in [`crate::quant`] and [`crate::decouple`] only transform the IR).

pub mod campaign;
pub mod decouple;
pub mod quant;

pub use decouple::{compare, Divergence, Equivalence};
pub use quant::{agreement, quantize_calibrated, Agreement};
