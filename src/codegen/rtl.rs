//! The named parameters of a generated engine wrapper (templates/engine.v): every size the
//! hand-written modules of hdl/ (`lifb_acc_lanes`, `lifb_fire_unit`, `lifb_rom`, `lifb_prienc`)
//! and the engine's control need, computed here once so that the template holds no arithmetic.

use super::plan::{bits_u, clog2, EngineKind, EnginePlan, LeakImpl};

/// One engine's localparams, named as in the generated Verilog (upper case there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineParams {
    // structure
    pub neurons: usize,
    pub lanes: usize,
    pub passes: usize,
    pub last_pass_neurons: usize,
    /// PASSES - 1, WORDS - 1, UNIT_GROUPS - 1 (the sized constants the control compares with).
    pub last_pass: usize,
    pub last_word: usize,
    pub last_group: usize,
    pub units: usize,
    pub unit_groups: usize,
    pub words: usize,
    pub events: usize,
    pub pending: usize,
    // the neuron (lifb_fire_unit's NEURON, RESET, LEAK and leak constants)
    pub neuron: &'static str,
    pub reset: &'static str,
    pub leak: &'static str,
    pub thresholds: usize,
    pub leak_shift: u32,
    pub leak_mul: u32,
    pub leak_mul_bits: usize,
    pub leak_frac: u32,
    // widths of values
    pub in_index_bits: usize,
    pub in_count_bits: usize,
    pub out_index_bits: usize,
    pub out_count_bits: usize,
    pub state_bits: usize,
    pub weight_bits: usize,
    pub acc_bits: usize,
    pub membrane_bits: usize,
    pub sum_bits: usize,
    pub rho_bits: usize,
    pub rho_prefix: u8,
    pub param_bits: usize,
    // widths of counters and indices
    pub pass_bits: usize,
    pub pass_count_bits: usize,
    pub group_bits: usize,
    pub word_bits: usize,
    pub word_count_bits: usize,
    pub pending_bits: usize,
    pub unit_bits: usize,
    // memories
    pub weight_depth: usize,
    pub weight_addr_bits: usize,
    pub neuron_rom_block: u8,
}

impl EngineParams {
    pub fn of(e: &EnginePlan) -> EngineParams {
        let (leak, leak_shift, leak_mul, leak_mul_bits, leak_frac) = match e.leak {
            LeakImpl::None => ("none", 0, 0, 1, 0),
            LeakImpl::Shift(s) => ("shift", s, 0, 1, 0),
            LeakImpl::Mul { d, f } => ("mul", 0, d, bits_u(d as u64), f),
        };
        let neuron = match e.kind {
            EngineKind::Lifb => "lifb",
            EngineKind::Group => "group",
            EngineKind::Current => "current",
        };
        EngineParams {
            neurons: e.n,
            lanes: e.p,
            passes: e.passes,
            last_pass_neurons: e.n - (e.passes - 1) * e.p,
            last_pass: e.passes - 1,
            last_word: e.words - 1,
            last_group: e.r - 1,
            units: e.q,
            unit_groups: e.r,
            words: e.words,
            events: e.e,
            pending: e.q * e.e,
            neuron,
            reset: if e.reset_zero { "zero" } else { "subtract" },
            leak,
            thresholds: e.k,
            leak_shift,
            leak_mul,
            leak_mul_bits,
            leak_frac,
            in_index_bits: e.iw,
            in_count_bits: e.cw,
            out_index_bits: e.oiw,
            out_count_bits: e.ocw,
            state_bits: e.vw,
            weight_bits: e.wb,
            acc_bits: e.accw,
            membrane_bits: e.mb,
            sum_bits: e.hw,
            rho_bits: e.rw.max(1),
            rho_prefix: u8::from(e.rho_prefix),
            param_bits: e.lb,
            pass_bits: e.ai,
            pass_count_bits: e.pw,
            group_bits: clog2(e.r),
            word_bits: clog2(e.words),
            word_count_bits: bits_u(e.words as u64),
            pending_bits: e.jw,
            unit_bits: e.lw,
            weight_depth: e.n_in * e.passes,
            weight_addr_bits: e.w_aw,
            // a wide neuron ROM of many fire units is cheaper in block RAM than in logic
            neuron_rom_block: u8::from(e.words * e.q * e.lb >= 8192),
        }
    }
}
