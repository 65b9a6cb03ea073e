//! Back end: the golden simulators (integer and float) and their traces.

pub mod bench;
mod elem;
pub mod encode;
mod fast;
pub mod kernels;
pub mod neuron;
pub mod sim;
mod step;
pub mod trace;

pub use elem::SimElem;
pub use sim::{argmax, FloatSim, IntSim, Sim, TraceOptions, Workspace};
pub use trace::{first_divergence, LayerTrace, SampleTrace, Trace};
