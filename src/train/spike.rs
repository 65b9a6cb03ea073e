//! The spike function as a candle custom op: the exact LIFB staircase forward and a smooth
//! surrogate backward.
//!
//! The op works on the normalized drive u = (H - theta) / D (for LIF, B = 1, u = H - theta):
//!
//!   forward:   c(u) = clamp(floor(u) + 1, 0, B)  == number of k in 0..B with u >= k
//!              (0 below threshold, 1 + floor((H - theta) / D) above, capped at B: the LIFB count of
//!              src/golden/neuron.rs)
//!   stand-in:  s(u) = sum_{k=0}^{B-1} sigmoid(alpha * (u - k))   (a smoothed staircase)
//!   backward:  dc/du := s'(u) = sum_k alpha * sigmoid(alpha (u-k)) * (1 - sigmoid(alpha (u-k)))
//!
//! Each step of the staircase gets the usual sigmoid surrogate of snnTorch/SpikingJelly, centered
//! on the step, so B = 1 is the standard LIF surrogate.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

#[derive(Debug, Clone, Copy)]
pub struct SpikeCount {
    pub max_burst: u32,
    /// Surrogate sharpness (per unit of u).
    pub alpha: f32,
}

impl SpikeCount {
    /// The exact forward: the LIFB spike count of a normalized drive.
    #[inline]
    pub fn count(&self, u: f32) -> f32 {
        (u.floor() + 1.0).clamp(0.0, self.max_burst as f32)
    }

    /// The smooth stand-in whose derivative is the surrogate gradient.
    pub fn smooth(&self, u: f32) -> f32 {
        (0..self.max_burst)
            .map(|k| sigmoid(self.alpha * (u - k as f32)))
            .sum()
    }

    /// d smooth / du: the surrogate gradient.
    #[inline]
    pub fn surrogate(&self, u: f32) -> f32 {
        let mut g = 0.0;
        for k in 0..self.max_burst {
            let z = self.alpha * (u - k as f32);
            // Far from a step the sigmoid is flat; skipping it also avoids exp overflow.
            if z.abs() < 30.0 {
                let s = sigmoid(z);
                g += self.alpha * s * (1.0 - s);
            }
        }
        g
    }

    /// Apply to a tensor of normalized drives, with the surrogate backward.
    pub fn apply(&self, u: &Tensor) -> candle_core::Result<Tensor> {
        u.contiguous()?.apply_op1(*self)
    }
}

#[inline]
fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// The values of a contiguous f32 tensor (the CPU storage a custom op gets); other tensors are
/// an error of the op `op`.
pub(super) fn f32_slice<'a>(
    s: &'a CpuStorage,
    l: &Layout,
    op: &str,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        candle_core::bail!("{op}: only f32 tensors are supported")
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("{op}: input must be contiguous"),
    }
}

impl CustomOp1 for SpikeCount {
    fn name(&self) -> &'static str {
        "lifb-spike-count"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let u = f32_slice(s, l, self.name())?;
        let out: Vec<f32> = u.iter().map(|&x| self.count(x)).collect();
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let u = arg.flatten_all()?.to_vec1::<f32>()?;
        let g: Vec<f32> = u.iter().map(|&x| self.surrogate(x)).collect();
        let g = Tensor::from_vec(g, arg.shape(), arg.device())?;
        Ok(Some(grad.mul(&g)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn forward_is_the_lifb_count() {
        let op = SpikeCount {
            max_burst: 3,
            alpha: 4.0,
        };
        for (u, c) in [
            (-0.01, 0.0),
            (-5.0, 0.0),
            (0.0, 1.0),
            (0.99, 1.0),
            (1.0, 2.0),
            (2.0, 3.0),
            (7.5, 3.0),
        ] {
            assert_eq!(op.count(u), c, "u = {u}");
        }
        // Same as the golden float neuron on (H - theta) / D.
        for (h, theta, d) in [(1.3f32, 1.0f32, 0.1f32), (0.5, 0.7, 0.2), (2.0, 0.5, 0.5)] {
            let mut v = 0.0;
            let want = crate::golden::neuron::lifb_step_float(
                1.0,
                &mut v,
                h,
                theta,
                d,
                3,
                crate::ir::Reset::Subtract,
            );
            assert_eq!(op.count((h - theta) / d), want as f32, "h={h}");
        }
    }

    /// The op's backward equals central finite differences of its smooth stand-in.
    #[test]
    fn surrogate_gradient_matches_finite_differences() {
        for b in [1u32, 2, 4] {
            let op = SpikeCount {
                max_burst: b,
                alpha: 3.0,
            };
            let us: Vec<f32> = (0..61).map(|i| -1.5 + i as f32 * 0.1 + 0.013).collect();
            let var = Var::new(us.as_slice(), &Device::Cpu).unwrap();
            // Weight each output so the check covers the chain rule, not just ones.
            let wts: Vec<f32> = (0..us.len()).map(|i| 1.0 + (i % 3) as f32).collect();
            let w = Tensor::new(wts.as_slice(), &Device::Cpu).unwrap();
            let loss = op
                .apply(var.as_tensor())
                .unwrap()
                .mul(&w)
                .unwrap()
                .sum_all()
                .unwrap();
            let grads = loss.backward().unwrap();
            let g = grads
                .get(var.as_tensor())
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            for (i, &u) in us.iter().enumerate() {
                let h = 1e-3f64;
                let f = |x: f64| {
                    (0..b)
                        .map(|k| 1.0 / (1.0 + (-3.0 * (x - k as f64)).exp()))
                        .sum::<f64>()
                };
                let fd = (f(u as f64 + h) - f(u as f64 - h)) / (2.0 * h) * wts[i] as f64;
                assert!(
                    (g[i] as f64 - fd).abs() < 1e-4 * (1.0 + fd.abs()),
                    "B={b} u={u}: backward {} vs finite difference {fd}",
                    g[i]
                );
                // and the f32 stand-in agrees with the f64 one used above
                assert!((op.smooth(u) as f64 - f(u as f64)).abs() < 1e-5);
            }
        }
    }
}
