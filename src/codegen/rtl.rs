//! The named parameters of a generated engine wrapper (templates/engine.v): every size the
//! hand-written modules of hdl/ (`lifb_acc_lanes`, `lifb_fire_unit`, `lifb_rom`, `lifb_prienc`)
//! and the engine's control need, computed here once so that the template holds no arithmetic.

use super::conv::{Axis, ConvPlan, RoutePlan};
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
    /// 1: the accumulators and membranes in block RAM (`lifb_ram`, a registered read).
    pub sync_state: u8,
}

impl EngineParams {
    pub fn of(e: &EnginePlan) -> EngineParams {
        let (par, w, nr) = (&e.parallelism, &e.widths, &e.neuron);
        let (leak, leak_shift, leak_mul, leak_mul_bits, leak_frac) = match nr.leak {
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
            neurons: e.neurons,
            lanes: par.lanes,
            passes: par.passes,
            last_pass_neurons: match &e.conv {
                Some(c) => c.last_group_channels,
                None => e.neurons - (par.passes - 1) * par.lanes,
            },
            last_pass: par.passes - 1,
            last_word: par.fire_words - 1,
            last_group: par.unit_groups - 1,
            units: par.fire_units,
            unit_groups: par.unit_groups,
            words: par.fire_words,
            events: nr.events,
            pending: e.pending(),
            neuron,
            reset: if nr.reset_zero { "zero" } else { "subtract" },
            leak,
            thresholds: nr.thresholds,
            leak_shift,
            leak_mul,
            leak_mul_bits,
            leak_frac,
            in_index_bits: w.in_index,
            in_count_bits: w.in_count,
            out_index_bits: w.out_index,
            out_count_bits: w.out_count,
            state_bits: w.state,
            weight_bits: w.weight,
            acc_bits: w.acc,
            membrane_bits: w.membrane,
            sum_bits: w.sum,
            rho_bits: w.rho.max(1),
            rho_prefix: u8::from(nr.rho_prefix),
            param_bits: w.neuron_params,
            pass_bits: w.pass_index,
            pass_count_bits: w.pass_count,
            group_bits: clog2(par.unit_groups),
            word_bits: clog2(par.fire_words),
            word_count_bits: bits_u(par.fire_words as u64),
            pending_bits: w.pending_index,
            unit_bits: w.unit_index,
            weight_depth: e.weight_depth(),
            weight_addr_bits: w.weight_addr,
            // a wide neuron ROM of many fire units is cheaper in block RAM than in logic
            neuron_rom_block: u8::from(par.fire_words * par.fire_units * w.neuron_params >= 8192),
            sync_state: u8::from(e.memories.state_in_block_ram),
        }
    }
}

/// The parameters of a `lifb_event_route` instance (hdl/lifb_event_route.v).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteParams {
    pub in_bits: usize,
    pub wide: usize,
    pub c_bits: usize,
    pub y_bits: usize,
    pub x_bits: usize,
    pub out_bits: usize,
    pub src_hw: usize,
    pub src_w: usize,
    /// (M as a sized Verilog literal, S) of / src_hw, / src_w, / py, / px.
    pub m_hw: String,
    pub s_hw: u32,
    pub m_w: String,
    pub s_w: u32,
    pub m_py: String,
    pub s_py: u32,
    pub m_px: String,
    pub s_px: u32,
    pub hp: usize,
    pub wp: usize,
}

impl RouteParams {
    pub fn of(r: &RoutePlan, in_bits: usize) -> RouteParams {
        let prods = [
            r.div_hw.product_bits(),
            r.div_w.product_bits(),
            r.div_py.product_bits(),
            r.div_px.product_bits(),
            in_bits + 1,
        ];
        let wide = prods.into_iter().max().unwrap_or(32).max(32);
        let lit = |m: u64| format!("{wide}'d{m}");
        RouteParams {
            in_bits,
            wide,
            c_bits: clog2(r.dst.c),
            y_bits: clog2(r.dst.h),
            x_bits: clog2(r.dst.w),
            out_bits: clog2(r.dst.len()),
            src_hw: r.src.h * r.src.w,
            src_w: r.src.w,
            m_hw: lit(r.div_hw.m),
            s_hw: r.div_hw.s,
            m_w: lit(r.div_w.m),
            s_w: r.div_w.s,
            m_py: lit(r.div_py.m),
            s_py: r.div_py.s,
            m_px: lit(r.div_px.m),
            s_px: r.div_px.s,
            hp: r.dst.h,
            wp: r.dst.w,
        }
    }
}

/// The extra localparams of a convolution engine (templates/conv_engine.v).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvParams {
    pub cin: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub sy: usize,
    pub sx: usize,
    pub ho: usize,
    pub wo: usize,
    pub positions: usize,
    pub cgroups: usize,
    pub last_cg: usize,
    pub last_cg_channels: usize,
    pub cg_bits: usize,
    pub cg_count_bits: usize,
    pub pos_bits: usize,
    pub pos_count_bits: usize,
    pub oy_bits: usize,
    pub ox_bits: usize,
    pub ky_bits: usize,
    pub kx_bits: usize,
    pub ny_bits: usize,
    pub nx_bits: usize,
    /// Tap tables: per input row (column), {k0, n, lo}, as a sized hex literal.
    pub ty_bits: usize,
    pub tx_bits: usize,
    pub tab_y: String,
    pub tab_x: String,
    pub rows: usize,
    pub cols: usize,
    pub per_channel: bool,
    pub nrom_depth: usize,
    pub nrom_addr_bits: usize,
}

/// A table of per-coordinate fields packed {k0, n, lo} (lo least significant), entry y at bits
/// [y*w, (y+1)*w), as a Verilog hex literal.
fn table(ax: &Axis, lo_bits: usize, n_bits: usize, k_bits: usize) -> (usize, String) {
    let w = lo_bits + n_bits + k_bits;
    let mut bits = Vec::with_capacity(ax.len * w);
    for y in 0..ax.len {
        let t = ax.taps(y);
        for (v, b) in [(t.lo, lo_bits), (t.n, n_bits), (t.k0, k_bits)] {
            for i in 0..b {
                bits.push((v >> i) & 1 == 1);
            }
        }
    }
    let mut s = format!("{}'h", bits.len());
    let digits = bits.len().div_ceil(4);
    for d in (0..digits).rev() {
        let mut x = 0u32;
        for b in 0..4 {
            if bits.get(d * 4 + b).copied().unwrap_or(false) {
                x |= 1 << b;
            }
        }
        s.push(char::from_digit(x, 16).expect("nibble"));
    }
    (w, s)
}

impl ConvParams {
    pub fn of(e: &EnginePlan, c: &ConvPlan) -> ConvParams {
        let (ny_max, nx_max) = (c.y.max_taps(), c.x.max_taps());
        let oy_bits = clog2(c.y.out);
        let ox_bits = clog2(c.x.out);
        let ky_bits = clog2(c.y.kernel);
        let kx_bits = clog2(c.x.kernel);
        let ny_bits = bits_u(ny_max as u64);
        let nx_bits = bits_u(nx_max as u64);
        let (ty_bits, tab_y) = table(&c.y, oy_bits, ny_bits, ky_bits);
        let (tx_bits, tab_x) = table(&c.x, ox_bits, nx_bits, kx_bits);
        let par = &e.parallelism;
        let nrom_depth = if c.per_channel {
            c.channel_groups * par.unit_groups
        } else {
            par.fire_words
        };
        ConvParams {
            cin: c.in_channels,
            cout: c.out_channels,
            kh: c.y.kernel,
            kw: c.x.kernel,
            sy: c.y.stride,
            sx: c.x.stride,
            ho: c.y.out,
            wo: c.x.out,
            positions: c.positions(),
            cgroups: c.channel_groups,
            last_cg: c.channel_groups - 1,
            last_cg_channels: c.last_group_channels,
            cg_bits: clog2(c.channel_groups),
            cg_count_bits: bits_u(c.channel_groups as u64),
            pos_bits: clog2(c.positions()),
            pos_count_bits: bits_u(c.positions() as u64),
            oy_bits,
            ox_bits,
            ky_bits,
            kx_bits,
            ny_bits,
            nx_bits,
            ty_bits,
            tx_bits,
            tab_y,
            tab_x,
            rows: c.y.len,
            cols: c.x.len,
            per_channel: c.per_channel,
            nrom_depth,
            nrom_addr_bits: clog2(nrom_depth),
        }
    }
}
