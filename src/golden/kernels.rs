//! The integer simulator's hot loops in vector form: the event-driven dense layer, the narrow
//! dense layer over spike counts and the LIFB update of a whole layer. Each computes exactly
//! what the scalar definition computes (`add_row_i16` per event, `neuron::lifb_step` per
//! neuron; tests/model/golden_kernels.rs compares them on random inputs). They are plain Rust that
//! the compiler vectorizes; [`simd`] is the one place that compiles code for AVX-512 and AVX2
//! besides the portable build and chooses at run time.

use super::neuron::{lifb_step, Fixed};
use crate::ir::Reset;

/// Code compiled for every instruction set [`simd`] chooses from. `run` is `#[inline(always)]`
/// in every implementation, so its body and the `#[inline(always)]` functions it calls are
/// compiled with the chosen CPU features.
pub trait Simd {
    type Out;
    fn run(self) -> Self::Out;
}

/// Runs `k` in its AVX-512 (F, BW, VL) build, its AVX2 build or its portable build, the best
/// the CPU has: the simulator's one run-time dispatch point.
#[inline]
pub fn simd<K: Simd>(k: K) -> K::Out {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            // SAFETY: the CPU has AVX-512 F, BW and VL (checked above).
            return unsafe { simd_avx512(k) };
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked above).
            return unsafe { simd_avx2(k) };
        }
    }
    k.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn simd_avx512<K: Simd>(k: K) -> K::Out {
    k.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn simd_avx2<K: Simd>(k: K) -> K::Out {
    k.run()
}

/// Whether the CPU runs the AVX-512 builds (F, BW and VL).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl")
}

/// Runs `$body` with the const `$B` equal to the burst `$b` (1 to 8; anything else runs as 8).
macro_rules! with_burst {
    ($b:expr, $B:ident, $body:block) => {
        $crate::golden::kernels::with_burst!(@arms $b, $B, $body, 1 2 3 4 5 6 7)
    };
    (@arms $b:expr, $B:ident, $body:block, $($n:literal)*) => {
        match $b {
            $($n => {
                const $B: i32 = $n;
                $body
            })*
            _ => {
                const $B: i32 = 8;
                $body
            }
        }
    };
}
pub(crate) use with_burst;

/// Output columns handled per pass over the events: 128 i16 accumulators are 4 AVX-512 or
/// 8 AVX2 registers, so they stay in registers while the events stream through.
const WIDE: usize = 128;
/// As [`WIDE`] with AVX-512: 256 i16 accumulators are 8 of its 32 registers.
const WIDE_512: usize = 256;
/// Weight rows are padded to a multiple of this many columns (one AVX2 register of i16).
pub const LANE: usize = 16;

/// The padded row length (stride) of a transposed weight matrix with `n_out` columns.
pub fn padded(n_out: usize) -> usize {
    n_out.div_ceil(LANE) * LANE
}

/// `acc[o] = bias[o] + sum over events j of val[j] * wt[idx[j] * stride + o]`, for o < stride
/// (the padding columns of `wt` are zero). `w_abs_max` bounds |w| over the matrix.
///
/// Exactness: products and partial sums are kept in i16 for blocks of events short enough
/// that no partial sum can leave the i16 range (block * max|c| * max|w| <= 32767), then added
/// to the i32 accumulators. Integer addition is associative, so the result is the same sum as
/// adding the rows one by one (wrapping, as the scalar loop does in release builds).
pub fn dense_i32(
    acc: &mut Vec<i32>,
    bias: &[i32],
    wt: &[i16],
    stride: usize,
    idx: &[u32],
    val: &[i32],
    w_abs_max: i32,
) {
    struct K<'a> {
        acc: &'a mut Vec<i32>,
        bias: &'a [i32],
        wt: &'a [i16],
        stride: usize,
        idx: &'a [u32],
        val: &'a [i32],
        w_abs_max: i32,
    }
    impl Simd for K<'_> {
        type Out = ();
        #[inline(always)]
        fn run(self) {
            dense_i32_in(
                self.acc,
                self.bias,
                self.wt,
                self.stride,
                self.idx,
                self.val,
                self.w_abs_max,
            )
        }
    }
    simd(K {
        acc,
        bias,
        wt,
        stride,
        idx,
        val,
        w_abs_max,
    })
}

/// [`dense_i32`] in the caller's build (for code already inside [`simd`]).
#[inline(always)]
pub(crate) fn dense_i32_in(
    acc: &mut Vec<i32>,
    bias: &[i32],
    wt: &[i16],
    stride: usize,
    idx: &[u32],
    val: &[i32],
    w_abs_max: i32,
) {
    acc.clear();
    acc.extend_from_slice(bias);
    acc.resize(stride, 0);
    let c_max = val.iter().fold(0, |m, &c| m.max(c.unsigned_abs())) as i64;
    let bound = c_max * w_abs_max.max(1) as i64;
    if bound > i16::MAX as i64 || !stride.is_multiple_of(LANE) {
        // Wide inputs or weights: one i16 -> i32 row add per event.
        for (&i, &c) in idx.iter().zip(val) {
            let row = &wt[i as usize * stride..][..stride];
            acc.iter_mut()
                .zip(row)
                .for_each(|(a, &w)| *a = a.wrapping_add(c.wrapping_mul(w as i32)));
        }
        return;
    }
    let block = (i16::MAX as i64 / bound.max(1)) as usize;
    // AVX-512 has registers for 256 i16 accumulators: one pass over the events per 256
    // columns (the choice changes the order of the additions only, never the sums).
    #[cfg(target_arch = "x86_64")]
    let wide = stride >= WIDE_512 && has_avx512();
    #[cfg(not(target_arch = "x86_64"))]
    let wide = false;
    for (i, c) in idx.chunks(block).zip(val.chunks(block)) {
        match (wide, c_max == 1) {
            (true, true) => dense_columns::<WIDE_512, true>(acc, wt, stride, i, c),
            (true, false) => dense_columns::<WIDE_512, false>(acc, wt, stride, i, c),
            (false, true) => dense_columns::<WIDE, true>(acc, wt, stride, i, c),
            (false, false) => dense_columns::<WIDE, false>(acc, wt, stride, i, c),
        }
    }
}

/// One block of events whose i16 partial sums cannot overflow, column chunk by column chunk;
/// `ONES`: every value is 1 (binary spikes or inputs), no multiplication.
#[inline(always)]
fn dense_columns<const WIDTH: usize, const ONES: bool>(
    acc: &mut [i32],
    wt: &[i16],
    stride: usize,
    idx: &[u32],
    val: &[i32],
) {
    let mut col = 0;
    while col + WIDTH <= stride {
        chunk::<WIDTH, ONES>(&mut acc[col..col + WIDTH], wt, stride, col, idx, val);
        col += WIDTH;
    }
    while col + WIDE <= stride {
        chunk::<WIDE, ONES>(&mut acc[col..col + WIDE], wt, stride, col, idx, val);
        col += WIDE;
    }
    while col < stride {
        chunk::<LANE, ONES>(&mut acc[col..col + LANE], wt, stride, col, idx, val);
        col += LANE;
    }
}

#[inline(always)]
fn chunk<const W: usize, const ONES: bool>(
    acc: &mut [i32],
    wt: &[i16],
    stride: usize,
    col: usize,
    idx: &[u32],
    val: &[i32],
) {
    let mut part = [0i16; W];
    for (&i, &c) in idx.iter().zip(val) {
        let row: &[i16; W] = wt[i as usize * stride + col..][..W]
            .try_into()
            .expect("W columns");
        let c = c as i16;
        for k in 0..W {
            let w = if ONES { row[k] } else { c.wrapping_mul(row[k]) };
            part[k] = part[k].wrapping_add(w);
        }
    }
    let acc: &mut [i32; W] = acc.try_into().expect("W columns");
    for k in 0..W {
        acc[k] = acc[k].wrapping_add(part[k] as i32);
    }
}

/// The widest layer [`dense_counts_i32`] takes (padded output columns).
pub const NARROW: usize = 32;
/// Column length multiple of [`columns`]: whole AVX-512 registers of i16.
pub const COLUMN_PAD: usize = 32;

/// Column-major copy of a transposed weight matrix (`stride` columns, `wt[i * stride + o]`) for
/// [`dense_counts_i32`]: `out[o * n + i] = wt[i * stride + o]` with n the number of inputs
/// rounded up to [`COLUMN_PAD`] (zeros past the last input).
pub fn columns<W: Copy + Default>(wt: &[W], stride: usize) -> Vec<W> {
    let rows = wt.len() / stride.max(1);
    let n = rows.div_ceil(COLUMN_PAD) * COLUMN_PAD;
    let mut out = vec![W::default(); n * stride];
    for (i, row) in wt.chunks(stride).enumerate() {
        for (o, &w) in row.iter().enumerate() {
            out[o * n + i] = w;
        }
    }
    out
}

/// As [`dense_i32`] for a narrow layer (at most [`NARROW`] columns) fed by the spike counts of
/// every input, zero or not: one i16 x i16 -> i32 dot product per column over [`columns`]
/// (exact for counts up to 32767, sums wrapping like the row adds). Cheaper than the events
/// once more than about a quarter of the inputs are active; returns false (nothing done)
/// otherwise.
pub fn dense_counts_i32(
    acc: &mut Vec<i32>,
    bias: &[i32],
    cols: &[i16],
    stride: usize,
    counts: &[u32],
) -> bool {
    let n = counts.len().div_ceil(COLUMN_PAD) * COLUMN_PAD;
    if stride > NARROW || cols.len() != n * stride {
        return false;
    }
    let active = counts.iter().map(|&c| (c != 0) as usize).sum::<usize>();
    let c_max = counts.iter().fold(0, |m, &c| m.max(c));
    if active * 4 < counts.len() || c_max > i16::MAX as u32 {
        return false;
    }
    struct K<'a> {
        acc: &'a mut Vec<i32>,
        bias: &'a [i32],
        cols: &'a [i16],
        stride: usize,
        counts: &'a [u32],
    }
    impl Simd for K<'_> {
        type Out = ();
        #[inline(always)]
        fn run(self) {
            let n = self.cols.len() / self.stride;
            self.acc.clear();
            self.acc.extend_from_slice(self.bias);
            self.acc.resize(self.stride, 0);
            for (a, col) in self.acc.iter_mut().zip(self.cols.chunks_exact(n)) {
                *a = a.wrapping_add(dot(self.counts, col, |c| c as i32));
            }
        }
    }
    simd(K {
        acc,
        bias,
        cols,
        stride,
        counts,
    });
    true
}

/// sum over i of conv(c[i]) * w[i] in wrapping i32 (products fit: |c|, |w| <= 2^15).
#[inline(always)]
pub(crate) fn dot<C: Copy>(c: &[C], w: &[i16], conv: impl Fn(C) -> i32) -> i32 {
    c.iter()
        .zip(w)
        .fold(0i32, |s, (&c, &w)| s.wrapping_add(conv(c) * w as i32))
}

/// The LIFB update of one layer, `neuron::lifb_step` for every neuron, in 32-bit lanes where
/// that is exact (see [`lifb_fits_i32`]) and for B <= 8; otherwise the scalar update.
#[allow(clippy::too_many_arguments)]
pub fn lifb_layer_i32(
    fx: &Fixed,
    v: &mut [i64],
    x: &[i32],
    theta: &[i64],
    spacing: &[i64],
    b: u32,
    reset: Reset,
    out: &mut Vec<u32>,
) {
    let n = v.len();
    out.resize(n, 0); // every count is written below
    let (x, theta, spacing) = (&x[..n], &theta[..n], &spacing[..n]);
    if !lifb_fits_i32(fx) || b > 8 {
        for i in 0..n {
            out[i] = lifb_step(fx, &mut v[i], x[i] as i64, theta[i], spacing[i], b, reset);
        }
        return;
    }
    struct K<'a> {
        p: LaneConsts,
        b: u32,
        v: &'a mut [i64],
        x: &'a [i32],
        theta: &'a [i64],
        spacing: &'a [i64],
        out: &'a mut [u32],
    }
    impl Simd for K<'_> {
        type Out = ();
        #[inline(always)]
        fn run(self) {
            let K {
                p,
                b,
                v,
                x,
                theta,
                spacing,
                out,
            } = self;
            with_burst!(b, B, {
                for i in 0..v.len() {
                    let (vv, c) =
                        lane_step::<B>(&p, v[i] as i32, x[i], theta[i] as i32, spacing[i] as i32);
                    v[i] = vv as i64;
                    out[i] = c as u32;
                }
            })
        }
    }
    simd(K {
        p: LaneConsts::new(fx, reset),
        b,
        v,
        x,
        theta,
        spacing,
        out,
    })
}

/// Whether the integer neuron update can run in i32 lanes without changing a result: V * d
/// must fit (|V| <= 2^(m-1), d <= 2^f), and the current is clamped to [v_min - 2^(m-1),
/// v_max + 2^(m-1)] first, which leaves sat(leak(V) + X) unchanged because |leak(V)| <= |V|.
pub fn lifb_fits_i32(fx: &Fixed) -> bool {
    let m = 64 - (fx.v_max.max(-fx.v_min - 1) as u64).leading_zeros(); // membrane bits - 1
    fx.leak_d <= 1 << fx.leak_frac && m + fx.leak_frac <= 30 && m <= 29
}

/// The constants of [`lane_step`] (valid where [`lifb_fits_i32`] holds).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LaneConsts {
    v_min: i32,
    v_max: i32,
    x_min: i32,
    x_max: i32,
    d: i32,
    f: u32,
    zero_reset: bool,
}

impl LaneConsts {
    pub(crate) fn new(fx: &Fixed, reset: Reset) -> Self {
        let half = fx.v_max.max(-fx.v_min) + 1; // 2^(m-1) or more: |leak(V)| stays below it
        LaneConsts {
            v_min: fx.v_min as i32,
            v_max: fx.v_max as i32,
            x_min: (fx.v_min - half) as i32,
            x_max: (fx.v_max + half) as i32,
            d: fx.leak_d as i32,
            f: fx.leak_frac,
            zero_reset: matches!(reset, Reset::Zero),
        }
    }
}

/// Branch-free `lifb_step` of one neuron for B = `B` in i32: the new membrane and the spike
/// count, the number of burst thresholds theta + k*D (k < B) that H reaches, which is
/// min(B, 1 + floor((H - theta) / D)) without a division (theta + (B-1)*D fits the membrane:
/// the network was validated).
#[inline(always)]
pub(crate) fn lane_step<const B: i32>(
    p: &LaneConsts,
    v: i32,
    x: i32,
    th: i32,
    sp: i32,
) -> (i32, i32) {
    let leaked = v - ((v * p.d) >> p.f);
    let h = (leaked + x.clamp(p.x_min, p.x_max)).clamp(p.v_min, p.v_max);
    let excess = h - th;
    let mut c = 0i32;
    let mut level = 0i32;
    for _ in 0..B {
        c += (excess >= level) as i32;
        level += sp;
    }
    let fired = h - th - (c - 1) * sp;
    let after = if p.zero_reset { 0 } else { fired };
    (if c == 0 { h } else { after }, c)
}
