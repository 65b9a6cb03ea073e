//! The number types of the golden simulator: what `Sim<i32>` and `Sim<f32>` need of their
//! numbers (current arithmetic, the neuron update, input encoding), and the synaptic inner loop.

use super::encode;
use super::neuron::{group_step, group_step_float, lifb_step, lifb_step_float, Fixed};
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
    /// acc += c * row (c = 1 is the common case of a single spike).
    fn add_row(acc: &mut [Self], row: &[Self::W], c: Self);
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
    fn check_input(values: &[u32], max: u32) -> Result<()> {
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
    #[inline]
    fn add_row(acc: &mut [i32], row: &[i16], c: i32) {
        kernels::add_row_i16(acc, row, c)
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
    #[inline]
    fn add_row(acc: &mut [f32], row: &[f32], c: f32) {
        acc.iter_mut().zip(row).for_each(|(a, &w)| *a += c * w);
    }
}

/// The inner loop of every synaptic layer, with an AVX2 build chosen at run time where the CPU
/// has it (the portable build only gets SSE2).
mod kernels {
    #[inline]
    pub fn add_row_i16(acc: &mut [i32], row: &[i16], c: i32) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked above).
                unsafe { add_row_avx2(acc, row, c) };
                return;
            }
        }
        add_row_portable(acc, row, c)
    }

    #[inline(always)]
    fn add_row_portable(acc: &mut [i32], row: &[i16], c: i32) {
        let n = acc.len().min(row.len());
        let (acc, row) = (&mut acc[..n], &row[..n]);
        // Fixed-size array chunks: no bounds checks, straight vector code.
        let mut a = acc.chunks_exact_mut(16);
        let mut r = row.chunks_exact(16);
        for (a, r) in (&mut a).zip(&mut r) {
            let a: &mut [i32; 16] = a.try_into().expect("chunk of 16");
            let r: &[i16; 16] = r.try_into().expect("chunk of 16");
            for k in 0..16 {
                a[k] += c * r[k] as i32;
            }
        }
        for (a, &w) in a.into_remainder().iter_mut().zip(r.remainder()) {
            *a += c * w as i32;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_row_avx2(acc: &mut [i32], row: &[i16], c: i32) {
        add_row_portable(acc, row, c)
    }
}
