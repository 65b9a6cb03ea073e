//! The integer simulator's two hot loops in vector form: the event-driven dense layer and the
//! LIFB update of a whole layer. Both compute exactly what the scalar definitions compute
//! (`add_row_i16` per event, `neuron::lifb_step` per neuron; tests/golden_kernels.rs compares
//! them on random inputs) and are built for AVX-512 and AVX2, chosen at run time, besides the
//! portable build.

use super::neuron::{lifb_step, Fixed};
use crate::ir::Reset;

/// Output columns handled per pass over the events: 128 i16 accumulators are 4 AVX-512 or
/// 8 AVX2 registers, so they stay in registers while the events stream through.
const WIDE: usize = 128;
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
    for (i, c) in idx.chunks(block).zip(val.chunks(block)) {
        dispatch_dense(acc, wt, stride, i, c, c_max == 1);
    }
}

/// Pair-interleaved copy of a transposed weight matrix for [`dense_counts_i32`]:
/// `out[p * stride + o] = [wt[2p][o], wt[2p+1][o]]` (zero past the last input).
pub fn pair_rows<W: Copy + Default>(wt: &[W], stride: usize) -> Vec<[W; 2]> {
    let rows = wt.len() / stride.max(1);
    let mut out = vec![[W::default(); 2]; rows.div_ceil(2) * stride];
    for (i, row) in wt.chunks(stride).enumerate() {
        for (o, &w) in row.iter().enumerate() {
            out[(i / 2) * stride + o][i % 2] = w;
        }
    }
    out
}

/// As [`dense_i32`] for a narrow layer (at most [`PAIR_MAX_STRIDE`] columns) fed by the spike
/// counts of every input, zero or not: two inputs per multiply-add step (i16 x i16 products
/// summed in i32, exact for counts up to 32767). Cheaper than the events once more than about
/// a quarter of the inputs are active; returns false (nothing done) otherwise.
pub fn dense_counts_i32(
    acc: &mut Vec<i32>,
    bias: &[i32],
    wp: &[[i16; 2]],
    stride: usize,
    counts: &[u32],
) -> bool {
    if stride > PAIR_MAX_STRIDE
        || !stride.is_multiple_of(LANE)
        || wp.len() < counts.len().div_ceil(2) * stride
    {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            // SAFETY: the CPU has AVX-512 F, BW and VL (checked above).
            return unsafe { counts_avx512(acc, bias, wp, stride, counts) };
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked above).
            return unsafe { counts_avx2(acc, bias, wp, stride, counts) };
        }
    }
    counts_body(acc, bias, stride, counts, |acc| {
        pairs(acc, wp, stride, counts)
    })
}

/// The widest layer [`dense_counts_i32`] takes: its i32 accumulators stay in registers.
pub const PAIR_MAX_STRIDE: usize = 32;

/// The shared part of [`dense_counts_i32`]: whether the paired kernel applies (enough active
/// inputs, counts that fit i16), then `kernel` on the bias-initialized accumulators.
#[inline(always)]
fn counts_body(
    acc: &mut Vec<i32>,
    bias: &[i32],
    stride: usize,
    counts: &[u32],
    kernel: impl FnOnce(&mut [i32]),
) -> bool {
    let active = counts.iter().map(|&c| (c != 0) as usize).sum::<usize>();
    let c_max = counts.iter().fold(0, |m, &c| m.max(c));
    if active * 4 < counts.len() || c_max > i16::MAX as u32 {
        return false;
    }
    acc.clear();
    acc.extend_from_slice(bias);
    acc.resize(stride, 0);
    kernel(acc);
    true
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn counts_avx512(
    acc: &mut Vec<i32>,
    bias: &[i32],
    wp: &[[i16; 2]],
    stride: usize,
    counts: &[u32],
) -> bool {
    use std::arch::x86_64::*;
    counts_body(acc, bias, stride, counts, |acc| {
        let load = |p: usize, col: usize| {
            let w: &[[i16; 2]; LANE] = wp[p * stride + col..][..LANE]
                .try_into()
                .expect("LANE columns");
            // SAFETY: `w` is 16 pairs of i16, 64 bytes (an unaligned load).
            unsafe { _mm512_loadu_si512(w.as_ptr().cast()) }
        };
        let mut pairs = [0u32; PAIR_BLOCK / 2];
        for (b, block) in counts.chunks(PAIR_BLOCK).enumerate() {
            let np = pack_pairs(block, &mut pairs);
            let first = b * PAIR_BLOCK / 2;
            for col in (0..stride).step_by(LANE) {
                let (mut a0, mut a1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
                let mut two = pairs[..np].chunks_exact(2);
                for (q, c) in (&mut two).enumerate() {
                    let p = first + 2 * q;
                    let m0 = _mm512_madd_epi16(load(p, col), _mm512_set1_epi32(c[0] as i32));
                    let m1 = _mm512_madd_epi16(load(p + 1, col), _mm512_set1_epi32(c[1] as i32));
                    a0 = _mm512_add_epi32(a0, m0);
                    a1 = _mm512_add_epi32(a1, m1);
                }
                if let [c] = two.remainder() {
                    let m =
                        _mm512_madd_epi16(load(first + np - 1, col), _mm512_set1_epi32(*c as i32));
                    a0 = _mm512_add_epi32(a0, m);
                }
                let out: &mut [i32; LANE] = (&mut acc[col..col + LANE]).try_into().expect("LANE");
                // SAFETY: `out` is 16 i32, 64 bytes.
                unsafe {
                    let old = _mm512_loadu_si512(out.as_ptr().cast());
                    let sum = _mm512_add_epi32(_mm512_add_epi32(a0, a1), old);
                    _mm512_storeu_si512(out.as_mut_ptr().cast(), sum);
                }
            }
        }
    })
}

/// Inputs per block of [`pack_pairs`].
const PAIR_BLOCK: usize = 256;

/// Two counts (each < 2^16) per u32, the lower one first: the i16 pairs that multiply a pair
/// of weight rows. Returns the number of pairs (the last one padded with a zero count).
#[inline(always)]
fn pack_pairs(block: &[u32], pairs: &mut [u32; PAIR_BLOCK / 2]) -> usize {
    let mut two = block.chunks_exact(2);
    for (p, c) in pairs.iter_mut().zip(&mut two) {
        *p = (c[0] & 0xffff) | (c[1] << 16);
    }
    let full = block.len() / 2;
    match two.remainder() {
        [c] => {
            pairs[full] = c & 0xffff;
            full + 1
        }
        _ => full,
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn counts_avx2(
    acc: &mut Vec<i32>,
    bias: &[i32],
    wp: &[[i16; 2]],
    stride: usize,
    counts: &[u32],
) -> bool {
    use std::arch::x86_64::*;
    counts_body(acc, bias, stride, counts, |acc| {
        for col in (0..stride).step_by(LANE) {
            let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            for (p, c) in counts.chunks(2).enumerate() {
                let pair = (c[0] & 0xffff) | (c.get(1).copied().unwrap_or(0) << 16);
                let pair = _mm256_set1_epi32(pair as i32);
                let w: &[[i16; 2]; LANE] = wp[p * stride + col..][..LANE]
                    .try_into()
                    .expect("LANE columns");
                // SAFETY: `w` is 16 pairs of i16, 64 bytes: two unaligned 32-byte loads.
                let (lo, hi) = unsafe {
                    (
                        _mm256_loadu_si256(w.as_ptr().cast()),
                        _mm256_loadu_si256(w[8..].as_ptr().cast()),
                    )
                };
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(lo, pair));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(hi, pair));
            }
            let out: &mut [i32; LANE] = (&mut acc[col..col + LANE]).try_into().expect("LANE");
            // SAFETY: `out` is 16 i32: two unaligned 32-byte loads and stores.
            unsafe {
                let lo = _mm256_add_epi32(a0, _mm256_loadu_si256(out.as_ptr().cast()));
                let hi = _mm256_add_epi32(a1, _mm256_loadu_si256(out[8..].as_ptr().cast()));
                _mm256_storeu_si256(out.as_mut_ptr().cast(), lo);
                _mm256_storeu_si256(out[8..].as_mut_ptr().cast(), hi);
            }
        }
    })
}

#[inline(always)]
fn pairs(acc: &mut [i32], wp: &[[i16; 2]], stride: usize, counts: &[u32]) {
    let mut col = 0;
    while col < stride {
        pairs_chunk::<LANE>(&mut acc[col..col + LANE], wp, stride, col, counts);
        col += LANE;
    }
}

#[inline(always)]
fn pairs_chunk<const W: usize>(
    acc: &mut [i32],
    wp: &[[i16; 2]],
    stride: usize,
    col: usize,
    counts: &[u32],
) {
    let mut a = [0i32; W];
    for (p, c) in counts.chunks(2).enumerate() {
        let (c0, c1) = (c[0] as i32, c.get(1).map_or(0, |&c| c as i32));
        let row: &[[i16; 2]; W] = wp[p * stride + col..][..W].try_into().expect("W columns");
        for o in 0..W {
            let sum = c0 * row[o][0] as i32 + c1 * row[o][1] as i32;
            a[o] = a[o].wrapping_add(sum);
        }
    }
    let acc: &mut [i32; W] = acc.try_into().expect("W columns");
    for o in 0..W {
        acc[o] = acc[o].wrapping_add(a[o]);
    }
}

/// Whether the CPU runs the AVX-512 builds (F, BW and VL).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl")
}

#[inline]
fn dispatch_dense(
    acc: &mut [i32],
    wt: &[i16],
    stride: usize,
    idx: &[u32],
    val: &[i32],
    ones: bool,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            // SAFETY: the CPU has AVX-512 F, BW and VL (checked above).
            unsafe { dense_block_avx512(acc, wt, stride, idx, val, ones) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { dense_block_avx2(acc, wt, stride, idx, val, ones) };
            return;
        }
    }
    dense_block(acc, wt, stride, idx, val, ones)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn dense_block_avx512(
    acc: &mut [i32],
    wt: &[i16],
    stride: usize,
    idx: &[u32],
    val: &[i32],
    ones: bool,
) {
    dense_block(acc, wt, stride, idx, val, ones)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dense_block_avx2(
    acc: &mut [i32],
    wt: &[i16],
    stride: usize,
    idx: &[u32],
    val: &[i32],
    ones: bool,
) {
    dense_block(acc, wt, stride, idx, val, ones)
}

/// One block of events whose i16 partial sums cannot overflow, column chunk by column chunk;
/// `ones`: every value is 1 (binary spikes or inputs), no multiplication.
#[inline(always)]
fn dense_block(acc: &mut [i32], wt: &[i16], stride: usize, idx: &[u32], val: &[i32], ones: bool) {
    if ones {
        dense_columns::<true>(acc, wt, stride, idx, val)
    } else {
        dense_columns::<false>(acc, wt, stride, idx, val)
    }
}

#[inline(always)]
fn dense_columns<const ONES: bool>(
    acc: &mut [i32],
    wt: &[i16],
    stride: usize,
    idx: &[u32],
    val: &[i32],
) {
    let mut col = 0;
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
    let p = LaneConsts::new(fx, reset);
    macro_rules! run {
        ($b:literal) => {
            dispatch_lifb::<$b>(&p, v, x, theta, spacing, out)
        };
    }
    match b {
        1 => run!(1),
        2 => run!(2),
        3 => run!(3),
        4 => run!(4),
        5 => run!(5),
        6 => run!(6),
        7 => run!(7),
        _ => run!(8),
    }
}

/// Whether the integer neuron update can run in i32 lanes without changing a result: V * d
/// must fit (|V| <= 2^(m-1), d <= 2^f), and the current is clamped to [v_min - 2^(m-1),
/// v_max + 2^(m-1)] first, which leaves sat(leak(V) + X) unchanged because |leak(V)| <= |V|.
pub fn lifb_fits_i32(fx: &Fixed) -> bool {
    let m = 64 - (fx.v_max.max(-fx.v_min - 1) as u64).leading_zeros(); // membrane bits - 1
    fx.leak_d <= 1 << fx.leak_frac && m + fx.leak_frac <= 30 && m <= 29
}

#[derive(Clone, Copy)]
struct LaneConsts {
    v_min: i32,
    v_max: i32,
    x_min: i32,
    x_max: i32,
    d: i32,
    f: u32,
    zero_reset: bool,
}

impl LaneConsts {
    fn new(fx: &Fixed, reset: Reset) -> Self {
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

#[inline]
fn dispatch_lifb<const B: i32>(
    p: &LaneConsts,
    v: &mut [i64],
    x: &[i32],
    theta: &[i64],
    spacing: &[i64],
    out: &mut [u32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            // SAFETY: the CPU has AVX-512 F, BW and VL (checked above).
            unsafe { lifb_avx512::<B>(p, v, x, theta, spacing, out) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { lifb_avx2::<B>(p, v, x, theta, spacing, out) };
            return;
        }
    }
    lifb_lanes::<B>(p, v, x, theta, spacing, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn lifb_avx512<const B: i32>(
    p: &LaneConsts,
    v: &mut [i64],
    x: &[i32],
    theta: &[i64],
    spacing: &[i64],
    out: &mut [u32],
) {
    lifb_lanes::<B>(p, v, x, theta, spacing, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lifb_avx2<const B: i32>(
    p: &LaneConsts,
    v: &mut [i64],
    x: &[i32],
    theta: &[i64],
    spacing: &[i64],
    out: &mut [u32],
) {
    lifb_lanes::<B>(p, v, x, theta, spacing, out)
}

/// Branch-free `lifb_step` for B = `B`: the spike count is the number of burst thresholds
/// theta + k*D (k < B) that H reaches, which is min(B, 1 + floor((H - theta) / D)) without
/// a division (theta + (B-1)*D fits the membrane: the network was validated).
#[inline(always)]
fn lifb_lanes<const B: i32>(
    p: &LaneConsts,
    v: &mut [i64],
    x: &[i32],
    theta: &[i64],
    spacing: &[i64],
    out: &mut [u32],
) {
    let n = v.len();
    let (x, theta, spacing, out) = (&x[..n], &theta[..n], &spacing[..n], &mut out[..n]);
    for i in 0..n {
        let vv = v[i] as i32;
        let leaked = vv - ((vv * p.d) >> p.f);
        let h = (leaked + x[i].clamp(p.x_min, p.x_max)).clamp(p.v_min, p.v_max);
        let (th, sp) = (theta[i] as i32, spacing[i] as i32);
        let excess = h - th;
        let mut c = 0i32;
        let mut level = 0i32;
        for _ in 0..B {
            c += (excess >= level) as i32;
            level += sp;
        }
        let fired = h - th - (c - 1) * sp;
        let after = if p.zero_reset { 0 } else { fired };
        v[i] = if c == 0 { h } else { after } as i64;
        out[i] = c as u32;
    }
}
