//! Mutation campaign: a catalogue of single planted faults in the RTL sources (templates/*.v and
//! hdl/*.v) and in the ROM words, each applied alone to a generated design and co-simulated; a
//! mutant is caught when the co-simulation fails (a divergence, or the cycle budget). The score
//! is the share of caught mutants among those that are not equivalent (an equivalent mutant
//! changes nothing the comparison can observe; each carries its argument).
//!
//! A textual mutant names the source file it mutates and an exact text of that file (no template
//! placeholder in it): a text absent from the source is an error (the catalogue must follow
//! template changes), and so is a text absent from the generated RTL of the campaign network
//! (`campaign_network`), whose design generates every branch the catalogue touches.

use super::{cosim_design_with, CosimOptions, Simulator, Stimulus, DEFAULT_CYCLE_MARGIN};
use crate::codegen::{self, Design, Form, Lanes, Options};
use crate::error::{Error, Result};
use crate::ir::{
    Dense, Encoding, FixedPoint, InputSpec, IntNetwork, Layer, Leak, Lifb, Network, Reset, Shape,
};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// What kind of fault a mutant plants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Comparison,
    Counter,
    Index,
    BankSelect,
    Saturation,
    HexWord,
    FifoFlag,
    Handshake,
    OutputPort,
    TapMembrane,
    Argmax,
    ZeroReset,
    SubtractReset,
    Leak,
    Arithmetic,
    Observability,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Comparison => "comparison",
            Class::Counter => "counter",
            Class::Index => "index",
            Class::BankSelect => "bank select",
            Class::Saturation => "saturation",
            Class::HexWord => "hex word",
            Class::FifoFlag => "FIFO flag",
            Class::Handshake => "handshake",
            Class::OutputPort => "output port",
            Class::TapMembrane => "tap membrane",
            Class::Argmax => "argmax",
            Class::ZeroReset => "zero reset",
            Class::SubtractReset => "subtract reset",
            Class::Leak => "leak",
            Class::Arithmetic => "arithmetic",
            Class::Observability => "observability",
        }
    }

    /// Classes in which no non-equivalent mutant may escape (`mutate` fails otherwise).
    pub fn required(self) -> bool {
        !matches!(self, Class::Observability | Class::Arithmetic)
    }
}

/// Which file of the design a mutant changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// templates/engine.v: every engine file of the design.
    Engine,
    /// templates/conv_engine.v: every (conv) engine file of the design.
    ConvEngine,
    /// hdl/lifb_event_route.v (event decode and pooling).
    Route,
    /// hdl/lifb_engine_core.v (the accumulation, fire process and output stream of every engine).
    Core,
    /// templates/top.v: lifb_top.v.
    Top,
    /// hdl/lifb_fifo.v, hdl/lifb_prienc.v, hdl/lifb_rom.v, hdl/lifb_acc_lanes.v,
    /// hdl/lifb_fire_unit.v (one file shared by every engine of the design).
    Fifo,
    Prienc,
    Rom,
    Lanes,
    FireUnit,
    /// The neuron ROM of engine 0: add `1 << shift` to word 0 (shift = membrane bits: the
    /// first threshold of unit 0; 0: its bias).
    NeuronWord {
        threshold: bool,
    },
    /// The weight ROM of engine 0: add 1 to word 0 (the weight of input 0 on lane 0).
    WeightWord,
}

impl Target {
    pub fn source(self) -> &'static str {
        match self {
            Target::Engine => "templates/engine.v",
            Target::ConvEngine => "templates/conv_engine.v",
            Target::Route => "hdl/lifb_event_route.v",
            Target::Core => "hdl/lifb_engine_core.v",
            Target::Top => "templates/top.v",
            Target::Fifo => "hdl/lifb_fifo.v",
            Target::Prienc => "hdl/lifb_prienc.v",
            Target::Rom => "hdl/lifb_rom.v",
            Target::Lanes => "hdl/lifb_acc_lanes.v",
            Target::FireUnit => "hdl/lifb_fire_unit.v",
            Target::NeuronWord { .. } => "neuron ROM (.hex)",
            Target::WeightWord => "weight ROM (.hex)",
        }
    }

    fn source_text(self) -> Option<&'static str> {
        match self {
            Target::Engine => Some(include_str!("../../templates/engine.v")),
            Target::ConvEngine => Some(include_str!("../../templates/conv_engine.v")),
            Target::Route => Some(codegen::HDL_EVENT_ROUTE),
            Target::Core => Some(codegen::HDL_ENGINE_CORE),
            Target::Top => Some(include_str!("../../templates/top.v")),
            Target::Fifo => Some(codegen::HDL_FIFO),
            Target::Prienc => Some(codegen::HDL_PRIENC),
            Target::Rom => Some(codegen::HDL_ROM),
            Target::Lanes => Some(codegen::HDL_ACC_LANES),
            Target::FireUnit => Some(codegen::HDL_FIRE_UNIT),
            _ => None,
        }
    }

    fn matches(self, name: &str) -> bool {
        match self {
            Target::Engine | Target::ConvEngine => {
                name.starts_with(&format!("{}_l", codegen::TOP)) && name.ends_with(".v")
            }
            Target::Route => name == "lifb_event_route.v",
            Target::Core => name == "lifb_engine_core.v",
            Target::Top => name == format!("{}.v", codegen::TOP),
            Target::Fifo => name == "lifb_fifo.v",
            Target::Prienc => name == "lifb_prienc.v",
            Target::Rom => name == "lifb_rom.v",
            Target::Lanes => name == "lifb_acc_lanes.v",
            Target::FireUnit => name == "lifb_fire_unit.v",
            Target::NeuronWord { .. } | Target::WeightWord => false,
        }
    }
}

/// One planted fault.
#[derive(Debug, Clone)]
pub struct Mutant {
    pub id: &'static str,
    pub target: Target,
    /// The exact text replaced (its first occurrence in each file of the target); empty for ROM
    /// word mutants.
    pub find: &'static str,
    pub replace: &'static str,
    pub class: Class,
    pub what: &'static str,
    /// Why the mutant cannot be observed, when it cannot.
    pub equivalent: Option<&'static str>,
    /// For a mutant of an hdl/ module (whose every branch is in the file): the branch its text
    /// lives in, which some engine of the design must elaborate.
    pub branch: Option<Branch>,
}

/// A generate branch of hdl/lifb_fire_unit.v or hdl/lifb_acc_lanes.v, and which engines use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Branch {
    /// A neuron layer (LIFB or group), not a current readout.
    Neuron,
    LifbZeroReset,
    LifbSubtractReset,
    LeakShift,
    LeakMul,
    /// Two accumulator banks (not the constant-input engine).
    TwoBanks,
    /// One-bit input counts (shift and add).
    OneBitCounts,
    /// Counts of three or more bits (the multiplier).
    Multiplier,
}

impl Branch {
    fn generated(self, e: &codegen::EnginePlan) -> bool {
        let lifb = e.kind == codegen::EngineKind::Lifb;
        match self {
            Branch::Neuron => e.kind != codegen::EngineKind::Current,
            Branch::LifbZeroReset => lifb && e.neuron.reset_zero,
            Branch::LifbSubtractReset => lifb && !e.neuron.reset_zero,
            Branch::LeakShift => matches!(e.neuron.leak, codegen::LeakImpl::Shift(_)),
            Branch::LeakMul => matches!(e.neuron.leak, codegen::LeakImpl::Mul { .. }),
            Branch::TwoBanks => !e.const_in,
            Branch::OneBitCounts => e.widths.in_count == 1,
            Branch::Multiplier => e.widths.in_count > 2,
        }
    }
}

const fn m(
    id: &'static str,
    target: Target,
    class: Class,
    find: &'static str,
    replace: &'static str,
    what: &'static str,
) -> Mutant {
    Mutant {
        id,
        target,
        find,
        replace,
        class,
        what,
        equivalent: None,
        branch: None,
    }
}

/// A mutant of an hdl/ module's branch `b`.
const fn on(mut x: Mutant, b: Branch) -> Mutant {
    x.branch = Some(b);
    x
}

const fn eq(mut x: Mutant, why: &'static str) -> Mutant {
    x.equivalent = Some(why);
    x
}

/// The catalogue.
pub fn catalogue() -> Vec<Mutant> {
    use Branch::*;
    use Class::*;
    use Target::*;
    vec![
        // comparisons
        on(m("cmp-fire-gt", FireUnit, Comparison, "assign fired[k] = !d[", "assign fired[k] = (h > th) && !d[", "a neuron fires on H > threshold instead of H >= threshold"), Neuron),
        on(m("cmp-fire-inverted", FireUnit, Comparison, "assign fired[k] = !d[", "assign fired[k] = d[", "a neuron fires below its threshold"), Neuron),
        m("cmp-unit-ok", Core, Comparison, "assign unit_ok = !fire_partial || (u < ", "assign unit_ok = !fire_partial || (u <= ", "a unit beyond the last neuron of a partial pass fires (one unit per lane)"),
        m("cmp-last-pass", Engine, Comparison, ".fire_partial(f_pass == LAST_PASS)", ".fire_partial(f_pass == 1'b0)", "the first pass is taken for the partial last pass"),
        m("cmp-unit-ok-group", Core, Comparison, "(u_lane < ", "(u_lane <= ", "a lane beyond P in a partial unit group fires"),
        m("cmp-argmax-lt", Top, Argmax, "if (score[am_i_k] > score[am_best_k])", "if (score[am_i_k] < score[am_best_k])", "argmax picks the smallest score"),
        // counters and indices
        m("cnt-last-step", Core, Counter, "wire last_step = (step == steps_m1);", "wire last_step = (step == steps_m1 - 16'd1);", "the fire process stops one step early"),
        on(m("cnt-acc-last-step", Core, Counter, "assign a_last_step = (a_step == steps_m1);", "assign a_last_step = (a_step == steps_m1 - 16'd1);", "the accumulator stops one step early"), TwoBanks),
        m("cnt-step-by-two", Core, Counter, "step <= step + 16'd1;", "step <= step + 16'd2;", "the fire step counter advances by two"),
        m("cnt-pass-no-wrap", Engine, Counter, "a_pass <= a_last ? ", "a_pass <= 1'b0 ? ", "the weight pass counter runs through its power of two instead of wrapping after the last pass (cycle budget: the extra passes write outside the accumulators)"),
        on(m("cnt-burst-first-only", FireUnit, Counter, "if (fired[i]) begin", "if (fired[0]) begin", "a burst counts every threshold once the first is reached (subtract reset)"), LifbSubtractReset),
        on(m("cnt-burst-first-only-zero", FireUnit, Counter, "if (fired[i]) c = c + ", "if (fired[0]) c = c + ", "a burst counts every threshold once the first is reached (zero reset)"), LifbZeroReset),
        on(m("cnt-burst-skip-first", FireUnit, Counter, "for (i = 0; i < ", "for (i = 1; i < ", "the burst count ignores the first threshold"), LifbZeroReset),
        m("cnt-readout-step", Top, Counter, "end else if (ro_step == steps_m1) begin", "end else if (ro_step == steps_m1 - 16'd1) begin", "the readout takes its argmax one step early"),
        m("cnt-steps-m1", Top, Counter, "steps_m1 <= steps - 16'd1;", "steps_m1 <= steps;", "the design runs T + 1 steps"),
        m("cnt-scores-kept", Top, Counter, "ro_argmax <= 1'b0;\n                for (c = 0; c < ", "ro_argmax <= 1'b0;\n                for (c = 0; c < 0 && c < ", "the class scores are not cleared at start (only by reset)"),
        m("idx-event-index", Engine, Index, "ev_index_full = ({", "ev_index_full = 32'd1 + ({", "every output event's index is one too high"),
        m("idx-weight-addr", Engine, Index, "w_addr_full = {", "w_addr_full = 32'd1 + {", "the weight ROM is read one word too far"),
        m("idx-neuron-addr", Core, Index, "assign f_ahead = compute_now ? f_next : ", "assign f_ahead = compute_now ? f_word : ", "the neuron ROM address (the word read next) does not advance with the fire word"),
        m("idx-pending-clear", Core, Index, "(pend_mask & (pend_mask - FIRST_PENDING))", "(pend_mask & ~(pend_mask - FIRST_PENDING))", "sending an event clears the other pending events"),
        m("idx-prienc-order", Prienc, Index, "for (i = W - 1; i >= 0; i = i - 1)", "for (i = 0; i < W; i = i + 1)", "the encoder names the highest pending event while the queue clears the lowest: one event sent twice, another never"),
        m("idx-fifo-read-ptr", Fifo, Index, "assign rd_data  = mem[rptr[AW-1:0]];", "assign rd_data  = mem[wptr[AW-1:0]];", "the FIFO reads at its write pointer"),
        m("idx-rom-addr", Rom, Index, "q <= mem[addr];\n        end\n    endgenerate", "q <= mem[addr + 1'b1];\n        end\n    endgenerate", "a (logic) ROM reads the next word"),
        on(m("idx-subtract-theta0", FireUnit, SubtractReset, "v_sub = d[i*", "v_sub = d[0*", "the subtract reset always removes the first threshold"), LifbSubtractReset),
        // bank selects
        on(m("bank-acc", Core, BankSelect, "assign a_bank = a_step[0];", "assign a_bank = 1'b0;", "every step accumulates into bank 0"), TwoBanks),
        on(m("bank-fire", Core, BankSelect, "assign f_bank = step[0];", "assign f_bank = ~step[0];", "the fire process reads the other bank"), TwoBanks),
        on(m("bank-lane-read", Lanes, BankSelect, "fire_bank) ? rd1 : rd0;", "fire_bank) ? rd0 : rd1;", "the lanes hand the fire process the wrong bank"), TwoBanks),
        on(m("bank-add", Lanes, BankSelect, "assign a1_add = add && add_bank;", "assign a1_add = add && !add_bank;", "bank 1 adds the products meant for bank 0"), TwoBanks),
        m("bank-eos", Core, BankSelect, "eos_bank <= a_bank;", "eos_bank <= ~a_bank;", "the end of a step marks the other bank complete"),
        on(m("bank-next-full", Core, BankSelect, "assign next_full = full[~f_bank];", "assign next_full = full[f_bank];", "the fire process checks the bank it just fired"), TwoBanks),
        m("bank-never-cleared", Core, BankSelect, "wire clear_now = compute_now && f_sub_last;", "wire clear_now = 1'b0;", "a fired bank keeps its sums into the next step"),
        // saturation
        on(m("sat-top-dropped", FireUnit, Saturation, "h = h_hi ? ", "h = 1'b0 ? ", "H wraps instead of saturating at the top bound"), Neuron),
        on(m("sat-bottom-dropped", FireUnit, Saturation, "h_lo ? ", "1'b0 ? ", "H wraps instead of saturating at the bottom bound"), Neuron),
        on(m("sat-top-minus-one", FireUnit, Saturation, " : h_lo ? ", " - 2'sd1 : h_lo ? ", "the top saturation value is one too low"), Neuron),
        on(m("sat-bottom-plus-one", FireUnit, Saturation, " : h_sum[", " + 2'sd1 : h_sum[", "the bottom saturation value is one too high"), Neuron),
        on(m("sat-top-detect", FireUnit, Saturation, "wire h_hi = !h_sum[", "wire h_hi = h_sum[", "overflow at the top bound is detected on negative sums instead"), Neuron),
        // ROM words
        m("hex-threshold-plus-one", NeuronWord { threshold: true }, HexWord, "", "", "the first threshold of neuron 0 (engine 0) is one higher"),
        m("hex-bias-plus-one", NeuronWord { threshold: false }, HexWord, "", "", "the bias of neuron 0 (engine 0) is one higher"),
        m("hex-weight-plus-one", WeightWord, HexWord, "", "", "the weight of input 0 on neuron 0 (engine 0) is one higher"),
        // FIFO flags
        m("fifo-full-tied-0", Fifo, FifoFlag, "full <= (wptr_n[AW-1:0] == rptr_n[AW-1:0]) && (wptr_n[AW] != rptr_n[AW]);", "full <= 1'b0;", "the FIFO never reports full"),
        m("fifo-empty-no-wrap", Fifo, FifoFlag, "empty <= (wptr_n == rptr_n);", "empty <= (wptr_n[AW-1:0] == rptr_n[AW-1:0]);", "the FIFO empty flag ignores the wrap bit (full looks empty)"),
        m("fifo-full-no-wrap", Fifo, FifoFlag, "(wptr_n[AW] != rptr_n[AW])", "(wptr_n[AW] == rptr_n[AW])", "the FIFO full flag ignores the wrap bit (empty looks full)"),
        m("fifo-write-when-full", Fifo, FifoFlag, "wire        do_wr = wr_valid && !full;", "wire        do_wr = wr_valid;", "the FIFO writes over unread words when full"),
        m("fifo-read-when-empty", Fifo, FifoFlag, "wire        do_rd = rd_ready && !empty;", "wire        do_rd = rd_ready;", "the FIFO read pointer moves while empty"),
        // handshakes
        m("hs-in-ready", Core, Handshake, "assign ev_ready = a_can && (ev_eos || ev_last);", "assign ev_ready = a_can;", "an input event is taken before all its weight passes are read"),
        m("hs-emit-ignores-ready", Core, Handshake, "wire emit_now = fire_active && pe_any && out_free;", "wire emit_now = fire_active && pe_any;", "an engine sends an event while its output beat is still waiting"),
        m("hs-out-valid-drop", Core, Handshake, "if (out_valid && out_ready) out_valid <= 1'b0;", "if (out_valid) out_valid <= 1'b0;", "an engine's output beat disappears after one cycle, taken or not"),
        m("hs-acc-overrun", Core, Handshake, "wire a_can = a_on && !full[a_bank];", "wire a_can = a_on;", "the accumulator writes into a bank not fired yet"),
        m("hs-pending-overwrite", Core, Handshake, "assign s_accept = s_valid && (pend_after == ", "assign s_accept = s_valid || (pend_after == ", "a fired word overwrites events still pending"),
        m("hs-bank-never-full", Core, Handshake, "full <= (full | (eos_d ? ", "full <= (full | (1'b0 ? ", "no bank is ever marked complete (the design hangs)"),
        m("hs-bubble", Core, Handshake, "wire out_free    = !out_valid || out_ready;", "wire out_free    = !out_valid;", "a bubble: an engine's output register refills only a cycle after it empties (cycle budget)"),
        m("hs-top-ready", Top, Handshake, "_out_ready = !out_valid || out_ready;", "_out_ready = 1'b1;", "the readout takes beats while its own output beat waits"),
        m("hs-top-valid-drop", Top, Handshake, "if (out_valid && out_ready) out_valid <= 1'b0;", "if (out_valid) out_valid <= 1'b0;", "the host output beat disappears after one cycle, taken or not"),
        m("hs-eos-lost", Top, Handshake, "wr_data({in_eos, in_index, in_value})", "wr_data({1'b0, in_index, in_value})", "the input FIFO drops the end-of-step flag"),
        // output ports
        m("out-value-zero", Top, OutputPort, "out_value <= e", "out_value <= 0 & e", "out_value forced to 0"),
        m("out-index-zero", Top, OutputPort, "out_index <= e", "out_index <= 0 & e", "out_index forced to 0"),
        m("out-eos-zero", Top, OutputPort, "out_eos <= e", "out_eos <= 0 & e", "no end-of-step beat on the host stream"),
        m("out-done-early", Top, OutputPort, "if (!out_valid || out_ready) begin", "if (1'b1) begin", "done before the last output beat is taken"),
        m("out-engine-count-odd", Core, OutputPort, "out_count <= pend_cnt[", "out_count <= 1'b1 | pend_cnt[", "an engine's event counts have their low bit set"),
        m("out-prienc-any", Prienc, OutputPort, "assign any = |req;", "assign any = req[0];", "only the lowest pending event is seen"),
        m("tap-membrane-zero", Core, TapMembrane, "out_v <= pend_v[", "out_v <= 0 & pend_v[", "the tap membrane forced to 0"),
        m("tap-valid-no-ready", Top, TapMembrane, "_out_ready;\n    assign tap", "_out_valid;\n    assign tap", "a tap records a beat in every cycle it waits, taken or not"),
        // argmax
        m("argmax-tie-high", Top, Argmax, "if (score[am_i_k] > score[am_best_k])", "if (score[am_i_k] >= score[am_best_k])", "a tie goes to the higher class"),
        m("argmax-score-sub", Top, Argmax, "score[ro_add_cls] <= score[ro_add_cls] + ro_add_value;", "score[ro_add_cls] <= score[ro_add_cls] - ro_add_value;", "the class scores subtract the output counts"),
        // resets
        on(m("zero-reset-bursts-only", FireUnit, ZeroReset, "v_upd = fired[0] ? ", "v_upd = fired[1] ? ", "the zero reset happens only for bursts of two or more"), LifbZeroReset),
        on(m("zero-reset-dropped", FireUnit, ZeroReset, "v_upd = fired[0] ? ", "v_upd = 1'b0 ? ", "the zero reset never happens"), LifbZeroReset),
        on(m("subtract-reset-dropped", FireUnit, SubtractReset, "v_sub = d[i*", "v_sub = h; // d[i*", "the subtract reset never happens"), LifbSubtractReset),
        // leak
        on(m("leak-mul-sign", FireUnit, Leak, "v_lk = v_old - v_sh[", "v_lk = v_old + v_sh[", "the (multiplied) leak adds instead of subtracting"), LeakMul),
        on(m("leak-mul-dropped", FireUnit, Leak, "v_lk = v_old - v_sh[", "v_lk = v_old; // v_sh[", "the (multiplied) leak is dropped"), LeakMul),
        on(m("leak-mul-logical-shift", FireUnit, Leak, "v_sh = v_prod >>> ", "v_sh = v_prod >> ", "the leak's floor shift is logical (wrong for negative V)"), LeakMul),
        on(m("leak-shift-dropped", FireUnit, Leak, "v_lk = v_old - (v_old >>> ", "v_lk = v_old; // (v_old >>> ", "the (shift) leak is dropped"), LeakShift),
        on(m("leak-shift-logical", FireUnit, Leak, "v_lk = v_old - (v_old >>> ", "v_lk = v_old - (v_old >> ", "the (shift) leak shifts logically (wrong for negative V)"), LeakShift),
        // arithmetic
        m("arith-acc-sub", Lanes, Arithmetic, "? rd0[l*ACC_BITS +: ACC_BITS] + prod", "? rd0[l*ACC_BITS +: ACC_BITS] - prod", "the accumulator subtracts the products"),
        on(m("arith-mul-add", Lanes, Arithmetic, "prod_x = cnt_x * w_x;", "prod_x = cnt_x + w_x;", "count * weight becomes count + weight"), Multiplier),
        on(m("arith-shift-add", Lanes, Arithmetic, " ? (w_x <<< ", " ? (w_x <<< 1 + ", "the shift-and-add product shifts the first partial product once too far"), OneBitCounts),
        // equivalent by argument
        eq(
            on(m("eq-acc-last-step-late", Core, Counter, "assign a_last_step = (a_step == steps_m1);", "assign a_last_step = (a_step == steps_m1 + 16'd1);", "the accumulator stays on after the last step"), TwoBanks),
            "a_on only lets input beats in; the protocol sends none after the T-th end-of-step beat, and start clears a_on before the next sample",
        ),
        eq(
            m("eq-neuron-prefetch", Core, Index, "(f_word == LAST_WORD || f_at_end)", "(f_at_end)", "after the last fire word the neuron ROM prefetches word WORDS instead of word 0"),
            "that prefetch is never used: no word is computed after the last one, and word 0 of the next step is addressed while f_word = WORDS (f_ahead = 0 then)",
        ),
        eq(
            m("eq-busy", Core, Observability, "assign busy = (state == S_INIT) || (state == S_FIRE)", "assign busy = (state == S_FIRE)", "the busy output ignores the init phase"),
            "busy feeds only the per-engine cycle statistics of the report; no spike, membrane, beat or class depends on it",
        ),
        eq(
            m("eq-cov-fifo-full", Top, Observability, "] = !f", "] = 1'b0 & !f", "the FIFO-full observability bit of FIFO 0 is tied to 0"),
            "cov_fifo_full is read only by the simulators' coverage counters, never by the design or the verdict",
        ),
    ]
}

/// The catalogue of the convolution engine and the event routing (run on
/// [`conv_campaign_network`]): window edges, padding, stride, channel-group (lane and bank)
/// selects, the pooled index and the CHW decode.
pub fn conv_catalogue() -> Vec<Mutant> {
    use Class::*;
    use Target::*;
    vec![
        m("conv-window-row-extra", ConvEngine, Counter, "wire t_y_last = (t_y == ny - 1'b1);", "wire t_y_last = (t_y == ny);", "the tap walker visits one kernel row beyond the window"),
        m("conv-window-col-short", ConvEngine, Counter, "wire t_x_last = (t_x == nx - 1'b1);", "wire t_x_last = (t_x == nx - 1'b1) || (t_x == nx - 2'd2);", "the tap walker stops one kernel column early"),
        m("conv-window-first-row", ConvEngine, Index, "wire [OY_BITS-1:0] oy_lo = ty_e[OY_BITS-1:0];", "wire [OY_BITS-1:0] oy_lo = ty_e[OY_BITS-1:0] + 1'b1;", "the window's first output row is one too low (edge off by one)"),
        m("conv-padding", ConvEngine, Index, "wire [KY_BITS-1:0] ky0   = ty_e[OY_BITS+NY_BITS +: KY_BITS];", "wire [KY_BITS-1:0] ky0   = ty_e[OY_BITS+NY_BITS +: KY_BITS] - 1'b1;", "the kernel row is taken as if the padding were one less"),
        m("conv-padding-x", ConvEngine, Index, "wire [KX_BITS-1:0] kx0   = tx_e[OX_BITS+NX_BITS +: KX_BITS];", "wire [KX_BITS-1:0] kx0   = tx_e[OX_BITS+NX_BITS +: KX_BITS] + 1'b1;", "the kernel column is taken as if the padding were one more"),
        m("conv-stride", ConvEngine, Index, "t_y} * SY;", "t_y} * 1;", "the kernel row steps by 1 instead of the stride"),
        m("conv-cg-entry", ConvEngine, BankSelect, "(oy_full * WO + ox_full) * CGROUPS + {{(32 - CG_BITS){1'b0}}, t_cg};", "(oy_full * WO + ox_full) * CGROUPS + {{(32 - CG_BITS){1'b0}}, t_cg & 1'b0};", "every channel group accumulates into the entry of group 0 (a lane/channel-group select bit stuck)"),
        m("conv-cg-weight", ConvEngine, BankSelect, "* CGROUPS\n                            + {{(32 - CG_BITS){1'b0}}, t_cg};", "* CGROUPS\n                            + {{(32 - CG_BITS){1'b0}}, t_cg ^ 1'b1};", "the weight word of the other channel group is read"),
        on(m("conv-bank-acc", Core, BankSelect, "assign a_bank = a_step[0];", "assign a_bank = 1'b0;", "every step accumulates into bank 0"), Branch::TwoBanks),
        m("conv-walk-cg", ConvEngine, Counter, "f_cg <= f_cg_adv;", "f_cg <= f_cg;", "the fire walk's channel group does not advance with the core's walk"),
        m("conv-walk-zero", ConvEngine, Counter, "if (rst || walk_zero) begin", "if (rst) begin", "the fire walk's channel group and position do not return to 0 after a step"),
        m("conv-unit-ok", Core, Comparison, "assign unit_ok = !fire_partial || (u < ", "assign unit_ok = !fire_partial || (u <= ", "a lane beyond the last channel of a partial channel group fires"),
        m("conv-unit-ok-group", Core, Comparison, "assign unit_ok = !fire_partial ? (u_lane < LANES) : (u_lane < ", "assign unit_ok = !fire_partial ? (u_lane < LANES) : (u_lane <= ", "a lane beyond the last channel of a partial channel group fires (unit groups)"),
        m("conv-nrom-cg", ConvEngine, Index, "? {{(32 - CG_BITS){1'b0}}, f_cg_adv} * UNIT_GROUPS", "? {{(32 - CG_BITS){1'b0}}, f_cg} * UNIT_GROUPS", "the neuron ROM does not follow the channel group"),
        m("conv-event-position", ConvEngine, Index, "* POSITIONS + {{(32 - POS_BITS){1'b0}}, pend_pos};", "* POSITIONS + {{(32 - POS_BITS){1'b0}}, pend_pos} + 32'd1;", "every output event's position is one too high"),
        m("conv-in-ready", ConvEngine, Handshake, "wire a_last   = no_taps || (t_y_last && t_x_last && t_cg_last);", "wire a_last   = no_taps || (t_y_last && t_x_last);", "an event is taken before all its channel groups are walked"),
        m("route-pooled-keep", Route, Index, "wire keep = (yp < HP) && (xp < WP);", "wire keep = (yp <= HP) && (xp < WP);", "events of the rows beyond the last pool window are not dropped"),
        m("route-pooled-index", Route, Index, "wire [WIDE-1:0] flat = (s2_c * HP + yp) * WP + xp;", "wire [WIDE-1:0] flat = (s2_c * HP + yp) * WP + yp;", "the pooled flat index takes the row for the column"),
        m("route-decode-column", Route, Index, "wire [WIDE-1:0] x  = s1_r - y * SRC_W;", "wire [WIDE-1:0] x  = s1_r - y * SRC_W + 1'b1;", "the decoded column is one too high"),
        m("route-eos-dropped", Route, Handshake, "out_valid <= s2_valid && (s2_eos || keep);", "out_valid <= s2_valid && keep;", "the routing drops end-of-step beats of dropped positions"),
        m("route-stage-overwrite", Route, Handshake, "wire move1 = !s1_valid || move2;", "wire move1 = 1'b1;", "the routing's first stage takes a new event while the one it holds waits (events lost under back-pressure)"),
    ]
}

/// The conv campaign network: rate-coded 1x9x9 input (two accumulator banks everywhere);
/// conv 1->5 k3 s2 p1 (5 channels over 2 lanes: a partial last channel group, per-channel
/// parameters; unit groups of one unit), conv 5->4 k3 s1 p2 (4 channels over 3 lanes, one unit
/// per lane: a partial last channel group without unit groups), a 2x2 sum pool on the odd 7x7
/// map (a dropped remainder row and column) folded into a dense 36->3 readout layer.
pub fn conv_campaign_network() -> IntNetwork {
    use crate::ir::{Conv2d, Pool, PoolKind};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xC0_4417);
    let lifb = |rng: &mut rand_chacha::ChaCha8Rng, n: usize, b: u32, reset, d| {
        Layer::Lifb(Lifb {
            leak: Leak::Fixed { d },
            threshold: (0..n).map(|_| rng.random_range(6..=24)).collect(),
            spacing: (0..n).map(|_| rng.random_range(3..=8)).collect(),
            max_burst: b,
            reset,
        })
    };
    let conv =
        |rng: &mut rand_chacha::ChaCha8Rng, ci: usize, co: usize, k: usize, s: usize, p: usize| {
            Layer::Conv2d(Conv2d {
                in_channels: ci,
                out_channels: co,
                kernel: [k, k],
                stride: [s, s],
                padding: [p, p],
                weight: (0..co * ci * k * k)
                    .map(|_| rng.random_range(-12..=20))
                    .collect(),
                bias: Some((0..co).map(|_| rng.random_range(-6..=6)).collect()),
            })
        };
    let l0 = conv(&mut rng, 1, 5, 3, 2, 1);
    let n0 = lifb(&mut rng, 5, 3, Reset::Subtract, 3);
    let l2 = conv(&mut rng, 5, 4, 3, 1, 2);
    let n2 = lifb(&mut rng, 4, 2, Reset::Zero, 0);
    let layers = vec![
        l0,
        n0,
        l2,
        n2,
        Layer::Pool(Pool {
            kind: PoolKind::Sum,
            kernel: [2, 2],
            stride: [2, 2],
        }),
        Layer::Flatten,
        Layer::Dense(Dense {
            in_features: 36,
            out_features: 3,
            weight: (0..3 * 36).map(|_| rng.random_range(-10..=14)).collect(),
            bias: None,
        }),
        lifb(&mut rng, 3, 2, Reset::Subtract, 8),
    ];
    let nl = layers.len();
    Network {
        name: "mutation-campaign-conv".into(),
        input: InputSpec {
            shape: Shape::chw(1, 9, 9),
            encoding: Encoding::Rate { seed: 9 },
        },
        layers,
        fixed: Some(FixedPoint {
            weight_bits: 6,
            membrane_bits: 8,
            input_bits: 3,
            leak_frac_bits: 4,
            scales: vec![1.0; nl],
        }),
        meta: BTreeMap::new(),
    }
}

/// The lanes and fire units of the conv campaign design.
pub fn conv_campaign_codegen() -> Options {
    Options {
        lanes: Lanes::List(vec![2, 3, 3]),
        units: Lanes::List(vec![1, 3, 3]),
        form: Form::Native,
        ..Default::default()
    }
}

/// The campaign network: every template branch the catalogue touches is generated for it
/// (engine 0: rate-coded input (one bit per event: shift-and-add), a multiplied leak, subtract
/// reset, 5 passes (a pass counter that must wrap before its power of two), unit groups with a
/// partial last group and a partial last pass; engine 1: counts up to 5 (a multiplier), a shift
/// leak, zero reset, one unit per lane with a partial last pass), with 7-bit membranes that
/// saturate both ways and recover (the input changes every step), and two classes that always
/// tie.
pub fn campaign_network() -> IntNetwork {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x003A_7A17);
    let (n_in, n1, n2) = (8usize, 13usize, 4usize);
    let mut w0: Vec<i32> = (0..n1 * n_in).map(|_| rng.random_range(-40..=45)).collect();
    // neuron 0 fires often, so a fault in its weights (hex-weight-plus-one) reaches a tap event
    for w in &mut w0[..n_in] {
        *w = w.abs().max(5);
    }
    let b0: Vec<i32> = (0..n1).map(|_| rng.random_range(-10..=10)).collect();
    let mut w2: Vec<i32> = (0..n2 * n1).map(|_| rng.random_range(-8..=12)).collect();
    // class 1 copies class 0: every sample ties them
    for j in 0..n1 {
        w2[n1 + j] = w2[j];
    }
    let layers = vec![
        Layer::Dense(Dense {
            in_features: n_in,
            out_features: n1,
            weight: w0,
            bias: Some(b0),
        }),
        Layer::Lifb(Lifb {
            leak: Leak::Fixed { d: 3 },
            threshold: (0..n1).map(|_| rng.random_range(8..=30)).collect(),
            spacing: (0..n1).map(|_| rng.random_range(3..=8)).collect(),
            max_burst: 5,
            reset: Reset::Subtract,
        }),
        Layer::Dense(Dense {
            in_features: n1,
            out_features: n2,
            weight: w2,
            bias: None,
        }),
        Layer::Lifb(Lifb {
            leak: Leak::Fixed { d: 8 },
            threshold: (0..n2).map(|_| rng.random_range(3..=20)).collect(),
            spacing: (0..n2).map(|_| rng.random_range(2..=8)).collect(),
            max_burst: 2,
            reset: Reset::Zero,
        }),
    ];
    Network {
        name: "mutation-campaign".into(),
        input: InputSpec {
            shape: Shape::flat(n_in),
            encoding: Encoding::Rate { seed: 5 },
        },
        layers,
        fixed: Some(FixedPoint {
            weight_bits: 8,
            membrane_bits: 7,
            input_bits: 4,
            leak_frac_bits: 4,
            scales: vec![1.0; 4],
        }),
        meta: BTreeMap::new(),
    }
}

/// The lanes and fire units of the campaign design (see [`campaign_network`]).
pub fn campaign_codegen() -> Options {
    Options {
        lanes: Lanes::List(vec![3, 3]),
        units: Lanes::List(vec![2, 3]),
        form: Form::Native,
        ..Default::default()
    }
}

/// Inputs for a campaign: seeded random samples (each input active with probability 0.6) and
/// directed ones: all inputs at the top value (saturation), all zero, and each input alone at
/// the top value.
pub fn campaign_inputs(net: &IntNetwork, random: usize, seed: u64) -> Vec<Vec<u32>> {
    let n = net.input.shape.len();
    let max = net.fixed.as_ref().map_or(1, |f| f.input_max());
    let mut v = crate::ir::random::random_inputs(net, seed, random, 0.6);
    v.push(vec![max; n]);
    v.push(vec![0; n]);
    for i in 0..n.min(8) {
        let mut x = vec![0; n];
        x[i] = max;
        v.push(x);
    }
    v
}

/// The campaign's two co-simulation settings: the verification stimulus (stalls, gaps, shuffled
/// beats, resets, random initial values) with 2-word FIFOs, and a quiet run with the FIFOs
/// `generate` sizes that checks the cycle budget (a bubble changes no spike, only the time; the
/// cycle model is calibrated for those FIFOs).
pub fn campaign_options(
    steps: u32,
    codegen: Options,
    cache: std::path::PathBuf,
    seed: u64,
) -> [CosimOptions; 2] {
    let verify = CosimOptions {
        steps,
        codegen: codegen.clone(),
        cache_dir: cache.clone(),
        stimulus: Stimulus::verify(seed),
        fifo_depth: Some(2),
        cycle_margin: None,
    };
    let quiet = CosimOptions {
        steps,
        codegen,
        cache_dir: cache,
        stimulus: Stimulus::quiet(),
        fifo_depth: None,
        cycle_margin: Some(DEFAULT_CYCLE_MARGIN),
    };
    [verify, quiet]
}

/// Plant one mutant into a copy of `design`. Errors when its text is absent from its source
/// file (the catalogue is out of date) or from every generated file of its target.
pub fn apply(design: &Design, mutant: &Mutant) -> Result<Design> {
    let mut d = design.clone();
    match mutant.target {
        Target::NeuronWord { threshold } => {
            let e = &design.plan.engines[0];
            let shift = if threshold { e.widths.membrane } else { 0 };
            add_to_word(&mut d, &e.memories.neuron_file.clone(), shift, mutant.id)?;
        }
        Target::WeightWord => {
            let e = &design.plan.engines[0];
            let (_, _, file) = e.memories.weight_slices.first().cloned().ok_or_else(|| {
                Error::tool(format!("mutant {}: engine 0 has no weight ROM", mutant.id))
            })?;
            add_to_word(&mut d, &file, 0, mutant.id)?;
        }
        t => {
            let src = t.source_text().expect("textual target");
            if mutant.find.is_empty() || !src.contains(mutant.find) {
                return Err(Error::tool(format!(
                    "mutant {}: its text {:?} is not in {} (the catalogue in src/cosim/mutate.rs must follow template changes)",
                    mutant.id,
                    mutant.find,
                    t.source()
                )));
            }
            if let Some(b) = mutant.branch {
                if !design.plan.engines.iter().any(|e| b.generated(e)) {
                    return Err(Error::tool(format!(
                        "mutant {}: its text {:?} from {} lies in the {b:?} branch, which no engine of this design elaborates (the branch is not generated for this model)",
                        mutant.id,
                        mutant.find,
                        t.source()
                    )));
                }
            }
            let mut hits = 0;
            for (n, b) in d.files.iter_mut() {
                if !t.matches(n) {
                    continue;
                }
                let text = String::from_utf8_lossy(b).into_owned();
                if text.contains(mutant.find) {
                    *b = text.replacen(mutant.find, mutant.replace, 1).into_bytes();
                    hits += 1;
                }
            }
            if hits == 0 {
                return Err(Error::tool(format!(
                    "mutant {}: its text {:?} from {} is in no generated file of this design (the template branch is not generated for this model, or the catalogue is out of date)",
                    mutant.id,
                    mutant.find,
                    t.source()
                )));
            }
        }
    }
    Ok(d)
}

/// Add `1 << shift` to word 0 of a ROM file (wrapping within the word's width).
fn add_to_word(d: &mut Design, file: &str, shift: usize, id: &str) -> Result<()> {
    let (_, bytes) = d
        .files
        .iter_mut()
        .find(|(n, _)| n == file)
        .ok_or_else(|| Error::tool(format!("mutant {id}: the design has no {file}")))?;
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
        .ok_or_else(|| Error::tool(format!("mutant {id}: {file} holds no word")))?;
    let word = lines[first].trim().to_string();
    let digits = word.len();
    let mut v: Vec<u8> = Vec::with_capacity(digits);
    for c in word.chars() {
        v.push(
            c.to_digit(16).ok_or_else(|| {
                Error::tool(format!("mutant {id}: {file}: word 0 is not hex: {word}"))
            })? as u8,
        );
    }
    // add 1 at bit `shift` of the digit string (most significant digit first), carrying
    let mut pos = digits as isize - 1 - (shift / 4) as isize;
    let mut carry = 1u8 << (shift % 4);
    while carry > 0 && pos >= 0 {
        let s = v[pos as usize] + carry;
        v[pos as usize] = s & 15;
        carry = s >> 4;
        pos -= 1;
    }
    lines[first] = v.iter().map(|d| format!("{d:x}")).collect();
    *bytes = (lines.join("\n") + "\n").into_bytes();
    Ok(())
}

/// The result of one mutant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub id: String,
    pub class: Class,
    pub what: String,
    pub equivalent: Option<String>,
    pub caught: bool,
    /// The failure that caught it (divergence or cycle budget), or why it escaped.
    pub detail: String,
}

/// Run the campaign (or the mutants whose id is in `only`) on the design of `net` with the given
/// settings (`campaign_options`). The clean design must pass both runs.
pub fn campaign(
    sim: Simulator,
    net: &IntNetwork,
    inputs: &[Vec<u32>],
    opts: &[CosimOptions; 2],
    only: &[String],
    progress: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    campaign_of(catalogue(), sim, net, inputs, opts, only, progress)
}

/// [`campaign`] with another catalogue (e.g. [`conv_catalogue`] on the conv campaign network).
pub fn campaign_of(
    cat: Vec<Mutant>,
    sim: Simulator,
    net: &IntNetwork,
    inputs: &[Vec<u32>],
    opts: &[CosimOptions; 2],
    only: &[String],
    mut progress: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    for id in only {
        if !cat.iter().any(|m| m.id == id) {
            return Err(Error::bad_input(format!(
                "no mutant '{id}' in the catalogue (lifb-hdl mutate --list shows them)"
            )));
        }
    }
    let designs = opts
        .iter()
        .map(|o| codegen::generate_with_fifo_depth(net, &o.codegen, o.fifo_depth))
        .collect::<Result<Vec<Design>>>()?;
    for (o, design) in opts.iter().zip(&designs) {
        let r = cosim_design_with(sim, design, inputs, o)?;
        if let Some(f) = r.failure() {
            return Err(Error::mismatch(format!(
                "the clean design fails the co-simulation ({}): {f}",
                o.stimulus.describe()
            )));
        }
    }
    let mut out = Vec::new();
    for mutant in cat
        .iter()
        .filter(|m| only.is_empty() || only.iter().any(|o| o == m.id))
    {
        let mut failure = None;
        for (o, design) in opts.iter().zip(&designs) {
            let d = apply(design, mutant)?;
            let r = cosim_design_with(sim, &d, inputs, o)?;
            if let Some(f) = r.failure() {
                failure = Some(f);
                break;
            }
        }
        let outcome = Outcome {
            id: mutant.id.to_string(),
            class: mutant.class,
            what: mutant.what.to_string(),
            equivalent: mutant.equivalent.map(String::from),
            caught: failure.is_some(),
            detail: failure.unwrap_or_else(|| "not caught".into()),
        };
        progress(&outcome);
        out.push(outcome);
    }
    Ok(out)
}

/// Caught non-equivalent mutants / non-equivalent mutants (1.0 when there are none).
pub fn score(outcomes: &[Outcome]) -> (usize, usize, f64) {
    let live: Vec<&Outcome> = outcomes.iter().filter(|o| o.equivalent.is_none()).collect();
    let caught = live.iter().filter(|o| o.caught).count();
    let s = if live.is_empty() {
        1.0
    } else {
        caught as f64 / live.len() as f64
    };
    (caught, live.len(), s)
}
