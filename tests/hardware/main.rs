//! The generated hardware: RTL generation and lint, co-simulation against the golden model
//! (Verilator and Icarus, random networks, planted faults, mutants), the engine's hardening,
//! and synthesis with the real and stand-in tools.
//!
//! One test binary (`cargo test --release --test hardware`); each file is a module, so a test is
//! named `FILE::TEST` (`cargo test --release --test hardware FILE::`). Support code shared by all
//! groups is in tests/common.

#[path = "../common/mod.rs"]
mod common;

mod codegen_cli;
mod codegen_lint;
mod cosim_bench;
mod cosim_conv_mutants;
mod cosim_conv_random;
mod cosim_faults;
mod cosim_icarus;
mod cosim_ir_random;
mod cosim_mutants;
mod cosim_random;
mod cosim_ultraplus;
mod cosim_verify;
mod hardening_engine;
mod synth_cli;
mod synth_failures;
mod synth_setup_script;
mod synth_tools;
