//! The index arithmetic of the convolution engines and of event routing (docs/hardware.md,
//! "Convolution engines"): exact reciprocal division, the decode of a flat CHW event index into
//! (channel, row, column), non-overlapping sum pooling as a routing of events, and the per-row
//! (per-column) tap tables the conv engine's tap walker reads. The RTL computes the same numbers
//! from the constants chosen here; this module is the written form both share.

use crate::error::{Error, Result};
use crate::ir::Shape;

/// Division by a constant `d` as `(i * m) >> s`, exact for every `i < bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recip {
    pub d: usize,
    pub m: u64,
    pub s: u32,
    pub bound: usize,
}

impl Recip {
    pub fn div(&self, i: usize) -> usize {
        ((i as u128 * self.m as u128) >> self.s) as usize
    }
    /// Bits of the product `i * m` for `i < bound`.
    pub fn product_bits(&self) -> usize {
        super::plan::bits_u(self.bound.saturating_sub(1) as u64) + super::plan::bits_u(self.m)
    }
}

/// The smallest shift `s` (and `m = ceil(2^s / d)`) for which `(i * m) >> s == i / d` for every
/// `i < bound`, checked exhaustively (bounds are map sizes, at most a few million).
pub fn reciprocal(d: usize, bound: usize) -> Result<Recip> {
    if d == 0 {
        return Err(Error::bad_input("division by zero in the index arithmetic"));
    }
    for s in 0..48u32 {
        let m = (1u64 << s).div_ceil(d as u64);
        let r = Recip { d, m, s, bound };
        if (0..bound).all(|i| r.div(i) == i / d) {
            return Ok(r);
        }
    }
    Err(Error::bad_input(format!(
        "no exact reciprocal of {d} below 2^48 for indices below {bound}"
    )))
}

/// Where an engine's input events come from and how their indices map onto its input map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePlan {
    /// The index space of the arriving events (the previous layer's output or the input).
    pub src: Shape,
    /// Non-overlapping sum pool window (= stride) folded into the routing; [1, 1] without one.
    pub pool: [usize; 2],
    /// The engine's input map: `src` pooled (floor; the remainder rows/columns are dropped).
    pub dst: Shape,
    /// Exact divisions by src.h*src.w, src.w, pool[0], pool[1].
    pub div_hw: Recip,
    pub div_w: Recip,
    pub div_py: Recip,
    pub div_px: Recip,
}

impl RoutePlan {
    pub fn new(src: Shape, pool: [usize; 2]) -> Result<RoutePlan> {
        let dst = Shape::chw(src.c, src.h / pool[0], src.w / pool[1]);
        Ok(RoutePlan {
            src,
            pool,
            dst,
            div_hw: reciprocal(src.h * src.w, src.len())?,
            div_w: reciprocal(src.w, src.h * src.w)?,
            div_py: reciprocal(pool[0], src.h)?,
            div_px: reciprocal(pool[1], src.w)?,
        })
    }

    /// (c, y, x) of a source index in the engine's input map, or None when pooling drops it
    /// (a row or column beyond the last whole window), as the RTL computes it.
    pub fn route(&self, i: usize) -> Option<(usize, usize, usize)> {
        let c = self.div_hw.div(i);
        let r = i - c * self.src.h * self.src.w;
        let y = self.div_w.div(r);
        let x = r - y * self.src.w;
        let (yp, xp) = (self.div_py.div(y), self.div_px.div(x));
        (yp < self.dst.h && xp < self.dst.w).then_some((c, yp, xp))
    }

    /// The flat index of a routed event in the input map.
    pub fn flat(&self, i: usize) -> Option<usize> {
        self.route(i)
            .map(|(c, y, x)| (c * self.dst.h + y) * self.dst.w + x)
    }
}

/// One axis of a convolution: input length, kernel, stride, padding, output length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    pub len: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
    pub out: usize,
}

/// The taps of input coordinate `y` on one axis: output coordinates `lo .. lo + n` with kernel
/// offsets `k0, k0 - s, ...` (ky = y + p - oy * s, 0 <= ky < k).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisTaps {
    pub lo: usize,
    pub n: usize,
    pub k0: usize,
}

impl Axis {
    pub fn taps(&self, y: usize) -> AxisTaps {
        let (k, s) = (self.kernel, self.stride);
        let yp = y + self.pad;
        // oy * s <= yp  and  oy * s > yp - k
        let hi = (yp / s).min(self.out.saturating_sub(1));
        let lo = if yp + 1 > k {
            (yp + 1 - k).div_ceil(s)
        } else {
            0
        };
        if lo > hi || lo >= self.out || yp < lo * s {
            return AxisTaps { lo: 0, n: 0, k0: 0 };
        }
        AxisTaps {
            lo,
            n: hi - lo + 1,
            k0: yp - lo * s,
        }
    }
    /// The largest tap count of any coordinate.
    pub fn max_taps(&self) -> usize {
        (0..self.len).map(|y| self.taps(y).n).max().unwrap_or(0)
    }
}

/// A convolution engine's geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvPlan {
    pub in_channels: usize,
    pub out_channels: usize,
    pub y: Axis,
    pub x: Axis,
    /// Channel groups ceil(out_channels / lanes); channels in the last group.
    pub channel_groups: usize,
    pub last_group_channels: usize,
    /// Neuron parameters shared per channel (or per layer): the neuron ROM holds one word per
    /// (channel group, unit group); else one word per fire word.
    pub per_channel: bool,
}

impl ConvPlan {
    pub fn positions(&self) -> usize {
        self.y.out * self.x.out
    }
    /// Accumulator words (taps x channel groups) one input event at (y, x) costs.
    pub fn event_words(&self, y: usize, x: usize) -> usize {
        self.y.taps(y).n * self.x.taps(x).n * self.channel_groups
    }
    /// Synapses (valid taps x output channels) one input event at (y, x) updates.
    pub fn event_synapses(&self, y: usize, x: usize) -> usize {
        self.y.taps(y).n * self.x.taps(x).n * self.out_channels
    }
    /// Every (output position, kernel row, kernel column) an input event at (y, x) reaches, in
    /// the walker's order (rows, then columns).
    pub fn walk(&self, y: usize, x: usize) -> Vec<(usize, usize, usize, usize)> {
        let (ty, tx) = (self.y.taps(y), self.x.taps(x));
        let mut v = Vec::with_capacity(ty.n * tx.n);
        for a in 0..ty.n {
            for b in 0..tx.n {
                v.push((
                    ty.lo + a,
                    tx.lo + b,
                    ty.k0 - a * self.y.stride,
                    tx.k0 - b * self.x.stride,
                ));
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reciprocal_is_exact_and_small() {
        for d in 1..=64 {
            let r = reciprocal(d, 5000).unwrap();
            assert!((0..5000).all(|i| r.div(i) == i / d));
        }
        let r = reciprocal(1, 10).unwrap();
        assert_eq!((r.m, r.s), (1, 0));
    }

    proptest! {
        #[test]
        fn reciprocal_exact_for_every_index(d in 1usize..1000, bound in 1usize..20000) {
            let r = reciprocal(d, bound).unwrap();
            for i in 0..bound {
                prop_assert_eq!(r.div(i), i / d);
            }
        }

        /// Every (event, tap) pair is enumerated exactly once and is exactly the golden
        /// convolution's index math: out(oy, ox) += w[ky][kx] * in(y, x) with
        /// y = oy*s + ky - p (zero padding outside).
        #[test]
        fn walker_enumerates_every_tap_once(h in 1usize..12, w in 1usize..12, k in 1usize..8,
                                            s in 1usize..4, pad in 0usize..7,
                                            oc in 1usize..7, lanes in 1usize..4) {
            prop_assume!(pad < k && h + 2 * pad >= k && w + 2 * pad >= k);
            let ax = |len| Axis { len, kernel: k, stride: s, pad, out: (len + 2 * pad - k) / s + 1 };
            let groups = oc.div_ceil(lanes);
            let c = ConvPlan { in_channels: 1, out_channels: oc, y: ax(h), x: ax(w), channel_groups: groups, last_group_channels: oc - (groups - 1) * lanes, per_channel: true };
            let mut seen = std::collections::BTreeSet::new();
            for y in 0..h {
                for x in 0..w {
                    for t in c.walk(y, x) {
                        prop_assert!(seen.insert((y, x, t)), "tap twice");
                    }
                    prop_assert_eq!(c.walk(y, x).len() * c.channel_groups, c.event_words(y, x));
                    prop_assert_eq!(c.walk(y, x).len() * c.out_channels, c.event_synapses(y, x));
                }
            }
            // the golden direction: for every output and kernel offset inside the map
            let mut want = std::collections::BTreeSet::new();
            for oy in 0..c.y.out {
                for ox in 0..c.x.out {
                    for ky in 0..k {
                        for kx in 0..k {
                            let (yy, xx) = ((oy * s + ky) as i64 - pad as i64, (ox * s + kx) as i64 - pad as i64);
                            if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                                want.insert((yy as usize, xx as usize, (oy, ox, ky, kx)));
                            }
                        }
                    }
                }
            }
            // every (event, tap) reaches every output channel once
            let synapses: usize = (0..h).flat_map(|y| (0..w).map(move |x| (y, x))).map(|(y, x)| c.event_synapses(y, x)).sum();
            prop_assert_eq!(synapses, want.len() * oc);
            prop_assert_eq!(seen, want);
        }

        #[test]
        fn route_matches_pooled_index(c in 1usize..5, h in 1usize..30, w in 1usize..30,
                                      py in 1usize..5, px in 1usize..5) {
            prop_assume!(py <= h && px <= w);
            let r = RoutePlan::new(Shape::chw(c, h, w), [py, px]).unwrap();
            for i in 0..c * h * w {
                let (cc, y, x) = (i / (h * w), (i / w) % h, i % w);
                let want = (y / py < h / py && x / px < w / px)
                    .then(|| (cc * (h / py) + y / py) * (w / px) + x / px);
                prop_assert_eq!(r.flat(i), want);
            }
        }
    }
}
