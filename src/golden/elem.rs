//! The number types of the golden simulator: what `Sim<i32>` and `Sim<f32>` need of their
//! numbers (current arithmetic, the neuron update, input encoding), and the synaptic inner loop.

use super::encode;
use super::fast;
use super::kernels;
use super::neuron::{group_step, group_step_float, lifb_step, lifb_step_float, Fixed};
use super::sim::{Sim, Workspace};
use crate::error::{Error, Result};
use crate::ir::{self, Elem, Leak, Network, Reset};
use std::ops::{Add, AddAssign, Mul};

/// What the simulator needs of a number type: the arithmetic of currents and the neuron update.
pub trait SimElem: Elem + Add<Output = Self> + AddAssign + Mul<Output = Self> {
    /// Membrane type: i64 for integers (saturated to the membrane width), f32 for floats.
    type Mem: Copy + Default + std::fmt::Debug + Send + Sync + Add<Output = Self::Mem>;
    /// Per-layer neuron constants (leak, saturation bounds).
    type Consts: Copy + std::fmt::Debug + Send + Sync;
    /// The first layer's input sample type: u32 integers or f32 in [0, 1].
    type Input: Copy + Default + std::fmt::Debug + Send + Sync;

    fn consts(net: &Network<Self>, leak: Leak) -> Self::Consts;
    fn mem(x: Self) -> Self::Mem;
    fn from_count(c: u32) -> Self;
    fn from_input(x: Self::Input) -> Self;
    fn mem_f64(v: Self::Mem) -> f64;
    fn lifb(
        k: &Self::Consts,
        v: &mut Self::Mem,
        x: Self,
        th: Self::Mem,
        sp: Self::Mem,
        b: u32,
        r: Reset,
    ) -> u32;
    /// As `lifb`, with the current already in the membrane type (a current plus lateral inputs,
    /// summed in i64 for integers: no wrap-around, whatever the operands).
    fn lifb_wide(
        k: &Self::Consts,
        v: &mut Self::Mem,
        x: Self::Mem,
        th: Self::Mem,
        sp: Self::Mem,
        b: u32,
        r: Reset,
    ) -> u32;
    fn group(
        k: &Self::Consts,
        v: &mut Self::Mem,
        x: Self,
        th: &[Self::Mem],
        rho: &[Self::Mem],
        r: Reset,
        s: &mut [u32],
    ) -> u32;
    fn encode(
        enc: ir::Encoding,
        values: &[Self::Input],
        max: u32,
        sample: u64,
        step: u32,
        out: &mut Vec<Self::Input>,
    );
    fn check_input(values: &[Self::Input], max: u32) -> Result<()>;
    fn is_zero_input(x: Self::Input) -> bool;
    /// 1 / (kh * kw) for average pooling (floats only; integer networks have no avg pooling).
    fn pool_scale(window: usize) -> Option<f32>;
    fn scale_count(c: u32, s: f32) -> Self;
    /// How transposed weight rows are stored (i16 for integers: weights are at most 16 bits).
    type W: Copy + Default + std::fmt::Debug + Send + Sync;
    fn to_w(x: Self) -> Self::W;
    /// A dense layer's currents: `acc[o] = bias[o] + sum over events j of val[j] * wt[idx[j] * stride + o]`
    /// for o < stride (weight rows are `stride` long, zero-padded past the outputs).
    /// `w_abs_max` bounds |w| over `wt`.
    fn dense(
        acc: &mut Vec<Self>,
        bias: &[Self],
        wt: &[Self::W],
        stride: usize,
        idx: &[u32],
        val: &[Self],
        w_abs_max: f64,
    );
    /// As `dense`, from the counts of every input (zero or not) and the weight columns of
    /// `kernels::columns`, where that is faster; false (nothing done) where it is not.
    fn dense_counts(
        _acc: &mut Vec<Self>,
        _bias: &[Self],
        _cols: &[Self::W],
        _stride: usize,
        _counts: &[u32],
    ) -> bool {
        false
    }
    /// The plan of the fast classification path for `sim` (`golden::fast`), where it has one.
    fn fast_plan(_sim: &Sim<Self>) -> Option<fast::Plan> {
        None
    }
    /// Classify one checked input by the fast path, if `sim` has a plan: the predicted class,
    /// with the readout left in `ws`; None (nothing done) otherwise.
    #[inline(always)]
    fn fast_classify(
        _sim: &Sim<Self>,
        _ws: &mut Workspace<Self>,
        _input: &[Self::Input],
        _sample: u64,
        _steps: u32,
    ) -> Option<usize> {
        None
    }
    /// The LIFB update of a whole layer: `lifb` for every neuron, counts to `out`.
    #[allow(clippy::too_many_arguments)]
    fn lifb_layer(
        k: &Self::Consts,
        v: &mut [Self::Mem],
        x: &[Self],
        theta: &[Self::Mem],
        spacing: &[Self::Mem],
        b: u32,
        r: Reset,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        // Zipped iterators: no bounds checks in the hottest loop after the synapses.
        let it = v.iter_mut().zip(x).zip(theta.iter().zip(spacing));
        out.extend(it.map(|((v, &x), (&th, &sp))| Self::lifb(k, v, x, th, sp, b, r)));
    }
}

impl SimElem for i32 {
    type Mem = i64;
    type Consts = Fixed;
    type Input = u32;
    fn consts(net: &Network<i32>, leak: Leak) -> Fixed {
        let f = net.fixed.as_ref().expect("validated integer network");
        let d = match leak {
            Leak::Fixed { d } => d as i64,
            Leak::Lambda { .. } => unreachable!("validated integer network"),
        };
        Fixed {
            v_min: f.v_min(),
            v_max: f.v_max(),
            leak_d: d,
            leak_frac: f.leak_frac_bits,
        }
    }
    fn mem(x: i32) -> i64 {
        x as i64
    }
    fn from_count(c: u32) -> i32 {
        c as i32
    }
    fn from_input(x: u32) -> i32 {
        x as i32
    }
    fn mem_f64(v: i64) -> f64 {
        v as f64
    }
    #[inline]
    fn lifb(k: &Fixed, v: &mut i64, x: i32, th: i64, sp: i64, b: u32, r: Reset) -> u32 {
        lifb_step(k, v, x as i64, th, sp, b, r)
    }
    #[inline]
    fn lifb_wide(k: &Fixed, v: &mut i64, x: i64, th: i64, sp: i64, b: u32, r: Reset) -> u32 {
        lifb_step(k, v, x, th, sp, b, r)
    }
    #[inline]
    fn group(
        k: &Fixed,
        v: &mut i64,
        x: i32,
        th: &[i64],
        rho: &[i64],
        r: Reset,
        s: &mut [u32],
    ) -> u32 {
        group_step(k, v, x as i64, th, rho, r, s)
    }
    fn encode(
        enc: ir::Encoding,
        values: &[u32],
        max: u32,
        sample: u64,
        step: u32,
        out: &mut Vec<u32>,
    ) {
        encode::encode_int(enc, values, max, sample, step, out)
    }
    #[inline(always)]
    fn check_input(values: &[u32], max: u32) -> Result<()> {
        // The maximum first (a loop without early exit, vector code); the index only on error.
        if values.iter().fold(0, |m, &v| m.max(v)) <= max {
            return Ok(());
        }
        if let Some((i, v)) = values.iter().enumerate().find(|(_, &v)| v > max) {
            return Err(Error::bad_input(format!(
                "input value [{i}] = {v} exceeds the integer input maximum {max}"
            )));
        }
        Ok(())
    }
    fn is_zero_input(x: u32) -> bool {
        x == 0
    }
    fn pool_scale(_: usize) -> Option<f32> {
        None
    }
    fn scale_count(c: u32, _: f32) -> i32 {
        c as i32
    }
    type W = i16;
    fn to_w(x: i32) -> i16 {
        x as i16 // validated: weights fit weight_bits <= 16
    }
    fn dense(
        acc: &mut Vec<i32>,
        bias: &[i32],
        wt: &[i16],
        stride: usize,
        idx: &[u32],
        val: &[i32],
        w_abs_max: f64,
    ) {
        kernels::dense_i32(acc, bias, wt, stride, idx, val, w_abs_max as i32)
    }
    fn dense_counts(
        acc: &mut Vec<i32>,
        bias: &[i32],
        cols: &[i16],
        stride: usize,
        counts: &[u32],
    ) -> bool {
        kernels::dense_counts_i32(acc, bias, cols, stride, counts)
    }
    fn fast_plan(sim: &Sim<i32>) -> Option<fast::Plan> {
        fast::Plan::new(sim)
    }
    #[inline(always)]
    fn fast_classify(
        sim: &Sim<i32>,
        ws: &mut Workspace<i32>,
        input: &[u32],
        sample: u64,
        steps: u32,
    ) -> Option<usize> {
        let plan = sim.fast.as_ref()?;
        Some(plan.classify(
            &sim.ops,
            &mut ws.fast,
            input,
            sample,
            steps,
            &mut ws.readout,
        ))
    }
    fn lifb_layer(
        k: &Fixed,
        v: &mut [i64],
        x: &[i32],
        theta: &[i64],
        spacing: &[i64],
        b: u32,
        r: Reset,
        out: &mut Vec<u32>,
    ) {
        kernels::lifb_layer_i32(k, v, x, theta, spacing, b, r, out)
    }
}

impl SimElem for f32 {
    type Mem = f32;
    type Consts = f32;
    type Input = f32;
    fn consts(_: &Network<f32>, leak: Leak) -> f32 {
        match leak {
            Leak::Lambda { lam } => lam,
            Leak::Fixed { .. } => unreachable!("validated float network"),
        }
    }
    fn mem(x: f32) -> f32 {
        x
    }
    fn from_count(c: u32) -> f32 {
        c as f32
    }
    fn from_input(x: f32) -> f32 {
        x
    }
    fn mem_f64(v: f32) -> f64 {
        v as f64
    }
    #[inline]
    fn lifb(lam: &f32, v: &mut f32, x: f32, th: f32, sp: f32, b: u32, r: Reset) -> u32 {
        lifb_step_float(*lam, v, x, th, sp, b, r)
    }
    #[inline]
    fn lifb_wide(lam: &f32, v: &mut f32, x: f32, th: f32, sp: f32, b: u32, r: Reset) -> u32 {
        lifb_step_float(*lam, v, x, th, sp, b, r)
    }
    #[inline]
    fn group(
        lam: &f32,
        v: &mut f32,
        x: f32,
        th: &[f32],
        rho: &[f32],
        r: Reset,
        s: &mut [u32],
    ) -> u32 {
        group_step_float(*lam, v, x, th, rho, r, s)
    }
    fn encode(
        enc: ir::Encoding,
        values: &[f32],
        _: u32,
        sample: u64,
        step: u32,
        out: &mut Vec<f32>,
    ) {
        encode::encode_float(enc, values, sample, step, out)
    }
    fn check_input(values: &[f32], _: u32) -> Result<()> {
        if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::bad_input(format!(
                "input value [{i}] = {v} is not finite"
            )));
        }
        Ok(())
    }
    fn is_zero_input(x: f32) -> bool {
        x == 0.0
    }
    fn pool_scale(window: usize) -> Option<f32> {
        Some(1.0 / window as f32)
    }
    fn scale_count(c: u32, s: f32) -> f32 {
        c as f32 * s
    }
    type W = f32;
    fn to_w(x: f32) -> f32 {
        x
    }
    fn dense(
        acc: &mut Vec<f32>,
        bias: &[f32],
        wt: &[f32],
        stride: usize,
        idx: &[u32],
        val: &[f32],
        _: f64,
    ) {
        acc.clear();
        acc.extend_from_slice(bias);
        acc.resize(stride, 0.0);
        for (&i, &c) in idx.iter().zip(val) {
            let row = &wt[i as usize * stride..][..stride];
            acc.iter_mut().zip(row).for_each(|(a, &w)| *a += c * w);
        }
    }
}
