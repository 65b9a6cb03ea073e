//! Back end: the golden simulators (integer and float) and their traces.

pub mod bench;
pub mod encode;
pub mod neuron;
pub mod sim;
pub mod trace;

pub use sim::{argmax, FloatSim, IntSim, Sim, SimElem, TraceOptions};
pub use trace::{first_divergence, LayerTrace, SampleTrace, Trace};
