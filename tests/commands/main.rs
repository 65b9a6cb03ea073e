//! The command line and the pipeline end to end: exit codes and messages, `flow`, sweeps and
//! their sharded and Slurm runs, reports, inputs, import/export, the study tool, and the file
//! and argument edges.
//!
//! One test binary (`cargo test --release --test commands`); each file is a module, so a test is
//! named `FILE::TEST` (`cargo test --release --test commands FILE::`). Support code shared by all
//! groups is in tests/common.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod flow;
mod hardening;
mod inputs;
mod nir_cli;
mod pipeline;
mod report_html;
mod scale;
mod sim_folder;
mod slurm;
#[cfg(feature = "train")]
mod study;
mod sweep_cli;
