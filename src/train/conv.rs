//! Convolution (stride 1, zero padding) and non-overlapping average pooling for training, on
//! **channel-major** maps [C, N, H, W] (channel first, then image): the convolution is an unfold
//! (im2col) custom op followed by one matrix product, so the forward pass and both gradients are
//! single large matrix products, and per-channel parameters (bias, theta, D) broadcast over the
//! trailing dimensions, whose gradient is a fast contiguous row sum:
//!
//!   cols = unfold(x)          [C*k*k, N*Ho*Wo]   (row (c, ky, kx), column (n, oy, ox))
//!   y    = W[Cout, C*k*k] @ cols + b   -> [Cout, N, Ho, Wo]
//!   dW   = dy @ cols^T,  dcols = W^T @ dy,  dx = fold(dcols)   (fold: the adjoint of unfold)
//!
//! candle's own CPU `conv2d` is fast forward, but its backward uses a direct `conv_transpose2d`
//! (one short dot product per output pixel and tap), which made a c8k5-p2-c16k5-p2-10 epoch take
//! about 15 minutes here. The values are those of `conv2d` up to float summation order (a test
//! checks forward and both gradients against candle's `conv2d`).
//!
//! With candle's NCHW `conv2d`, the per-channel broadcasts (bias, theta, D) reduced their
//! gradients over dimensions 0, 2 and 3, candle's generic strided reduction: a quarter of the
//! time. Pooling is a custom op too (window sums forward, the gradient spread over each window
//! backward; rows and columns beyond the last whole window are dropped, as `avg_pool2d` does).

use super::spike::f32_slice;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// im2col for stride 1 and zero padding `pad` with a k x k kernel: x [C, N, H, W] ->
/// [C*k*k, N*Ho*Wo], Ho = H + 2 pad - k + 1.
#[derive(Debug, Clone, Copy)]
struct Unfold {
    k: usize,
    pad: usize,
}

/// The adjoint of `Unfold` (col2im, overlapping taps summed): [C*k*k, N*Ho*Wo] -> [C, N, H, W].
#[derive(Debug, Clone, Copy)]
struct Fold(Geom);

/// Geometry shared by unfold and fold.
#[derive(Debug, Clone, Copy)]
struct Geom {
    k: usize,
    pad: usize,
    n: usize,
    c: usize,
    h: usize,
    w: usize,
}

impl Unfold {
    /// The geometry of this unfold on an input of dimensions (C, N, H, W).
    fn geom(&self, (c, n, h, w): (usize, usize, usize, usize)) -> Geom {
        Geom {
            k: self.k,
            pad: self.pad,
            n,
            c,
            h,
            w,
        }
    }
}

impl Geom {
    fn out_h(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.k
    }
    fn out_w(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.k
    }

    /// Calls f(col_offset, x_offset, len) for every contiguous run of columns of every row that
    /// reads the image (the other entries are padding and stay zero), row by row.
    fn for_each_run(&self, mut f: impl FnMut(usize, usize, usize, usize)) {
        let (k, p) = (self.k, self.pad);
        let (ho, wo) = (self.out_h(), self.out_w());
        let cols = self.n * ho * wo;
        for c in 0..self.c {
            for ky in 0..k {
                for kx in 0..k {
                    let row = (c * k + ky) * k + kx;
                    // ox with 0 <= ox + kx - p < w
                    let ox_lo = p.saturating_sub(kx);
                    let ox_hi = (self.w + p).saturating_sub(kx).min(wo);
                    if ox_lo >= ox_hi {
                        continue;
                    }
                    let len = ox_hi - ox_lo;
                    for n in 0..self.n {
                        for oy in 0..ho {
                            let iy = oy + ky;
                            if iy < p || iy - p >= self.h {
                                continue;
                            }
                            let iy = iy - p;
                            let col = row * cols + (n * ho + oy) * wo + ox_lo;
                            let xi = ((c * self.n + n) * self.h + iy) * self.w + ox_lo + kx - p;
                            f(row, col, xi, len);
                        }
                    }
                }
            }
        }
    }
}

impl CustomOp1 for Unfold {
    fn name(&self) -> &'static str {
        "lifb-unfold"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, self.name())?;
        let g = self.geom(l.shape().dims4()?);
        let (c, n, h, w) = (g.c, g.n, g.h, g.w);
        if h + 2 * self.pad < self.k || w + 2 * self.pad < self.k {
            candle_core::bail!("unfold: kernel {} larger than the padded input", self.k)
        }
        let rows = c * self.k * self.k;
        let cols = n * g.out_h() * g.out_w();
        let mut out = vec![0f32; rows * cols];
        g.for_each_run(|_, col, xi, len| {
            out[col..col + len].copy_from_slice(&x[xi..xi + len]);
        });
        Ok((CpuStorage::F32(out), Shape::from((rows, cols))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let fold = Fold(self.geom(arg.dims4()?));
        Ok(Some(grad.contiguous()?.apply_op1_no_bwd(&fold)?))
    }
}

impl CustomOp1 for Fold {
    fn name(&self) -> &'static str {
        "lifb-fold"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let cols = f32_slice(s, l, self.name())?;
        let g = self.0;
        let want = g.c * g.k * g.k * g.n * g.out_h() * g.out_w();
        if cols.len() != want {
            candle_core::bail!("fold: {} values, expected {want}", cols.len())
        }
        let mut x = vec![0f32; g.n * g.c * g.h * g.w];
        g.for_each_run(|_, col, xi, len| {
            for (d, s) in x[xi..xi + len].iter_mut().zip(&cols[col..col + len]) {
                *d += s;
            }
        });
        Ok((CpuStorage::F32(x), Shape::from((g.c, g.n, g.h, g.w))))
    }
}

/// Convolution of the channel-major x [C, N, H, W] with w [Cout, C, k, k] (square kernel) plus
/// bias b [Cout], stride 1, zero padding `pad`: [Cout, N, Ho, Wo]. Differentiable in x, w, b.
pub fn conv2d(x: &Tensor, w: &Tensor, b: &Tensor, pad: usize) -> Result<Tensor> {
    let (_, n, h, wd) = x.dims4()?;
    let (co, ci, k, k2) = w.dims4()?;
    if k != k2 {
        candle_core::bail!("conv2d: square kernels only, got {k}x{k2}")
    }
    let cols = x.contiguous()?.apply_op1(Unfold { k, pad })?;
    let (ho, wo) = (h + 2 * pad + 1 - k, wd + 2 * pad + 1 - k);
    w.reshape((co, ci * k * k))?
        .matmul(&cols)?
        .broadcast_add(&b.reshape((co, 1))?)?
        .reshape((co, n, ho, wo))
}

/// Window sums of non-overlapping k x k windows: [.., H, W] -> [.., H/k, W/k] (any leading
/// dimensions; trailing rows and columns that fill no window are dropped).
#[derive(Debug, Clone, Copy)]
struct SumPool {
    k: usize,
}

/// The adjoint of `SumPool`: each window's value copied to its k x k inputs, zeros elsewhere.
#[derive(Debug, Clone, Copy)]
struct Spread {
    k: usize,
    h: usize,
    w: usize,
}

fn lead_hw(l: &Layout) -> Result<(usize, usize, usize)> {
    let d = l.shape().dims();
    if d.len() < 2 {
        candle_core::bail!("pooling needs [.., H, W], got {:?}", d)
    }
    let (h, w) = (d[d.len() - 2], d[d.len() - 1]);
    Ok((d[..d.len() - 2].iter().product(), h, w))
}

impl CustomOp1 for SumPool {
    fn name(&self) -> &'static str {
        "lifb-sum-pool"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, self.name())?;
        let (m, h, w) = lead_hw(l)?;
        let k = self.k;
        let (ho, wo) = (h / k, w / k);
        let mut out = vec![0f32; m * ho * wo];
        for p in 0..m {
            for oy in 0..ho {
                let o = &mut out[(p * ho + oy) * wo..(p * ho + oy + 1) * wo];
                for dy in 0..k {
                    let row = &x[(p * h + oy * k + dy) * w..][..wo * k];
                    for (ox, v) in o.iter_mut().enumerate() {
                        *v += row[ox * k..ox * k + k].iter().sum::<f32>();
                    }
                }
            }
        }
        let mut dims = l.shape().dims().to_vec();
        let r = dims.len();
        dims[r - 2] = ho;
        dims[r - 1] = wo;
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let d = arg.dims();
        let spread = Spread {
            k: self.k,
            h: d[d.len() - 2],
            w: d[d.len() - 1],
        };
        Ok(Some(grad.contiguous()?.apply_op1_no_bwd(&spread)?))
    }
}

impl CustomOp1 for Spread {
    fn name(&self) -> &'static str {
        "lifb-spread"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let g = f32_slice(s, l, self.name())?;
        let (m, ho, wo) = lead_hw(l)?;
        let (k, h, w) = (self.k, self.h, self.w);
        if ho != h / k || wo != w / k {
            candle_core::bail!("spread: {ho}x{wo} windows do not match {h}x{w} / {k}")
        }
        let mut out = vec![0f32; m * h * w];
        for p in 0..m {
            for oy in 0..ho {
                let gi = &g[(p * ho + oy) * wo..(p * ho + oy + 1) * wo];
                for dy in 0..k {
                    let row = &mut out[(p * h + oy * k + dy) * w..][..wo * k];
                    for (ox, &v) in gi.iter().enumerate() {
                        row[ox * k..ox * k + k].fill(v);
                    }
                }
            }
        }
        let mut dims = l.shape().dims().to_vec();
        let r = dims.len();
        dims[r - 2] = h;
        dims[r - 1] = w;
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

/// Average pooling over non-overlapping k x k windows of the last two dimensions (trailing rows
/// and columns that do not fill a window are dropped, as in candle's `avg_pool2d`).
pub fn avg_pool2d(x: &Tensor, k: usize) -> Result<Tensor> {
    x.contiguous()?
        .apply_op1(SumPool { k })?
        .affine(1.0 / (k * k) as f64, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn rand_tensor(rng: &mut ChaCha8Rng, shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn close(a: &Tensor, b: &Tensor, what: &str) {
        let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + x.abs().max(y.abs())),
                "{what}[{i}]: {x} vs candle {y}"
            );
        }
    }

    /// Forward values and the gradients of x, w and b equal candle's conv2d plus bias (up to rounding), for
    /// odd and even kernels, every padding 0..k-1, one and several channels, non-square maps.
    #[test]
    fn conv_matches_candle_conv2d_and_its_gradients() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for &(n, ci, co, h, w, k) in &[
            (2, 1, 3, 6, 5, 3),
            (3, 2, 4, 7, 7, 5),
            (1, 3, 2, 5, 6, 2),
            (2, 4, 5, 4, 4, 1),
        ] {
            for pad in 0..k {
                let x = Var::from_tensor(&rand_tensor(&mut rng, &[n, ci, h, w])).unwrap();
                let wt = Var::from_tensor(&rand_tensor(&mut rng, &[co, ci, k, k])).unwrap();
                let b = Var::from_tensor(&rand_tensor(&mut rng, &[co])).unwrap();
                // ours runs channel-major: [C, N, H, W] in, [Cout, N, Ho, Wo] out
                let xc = x.as_tensor().transpose(0, 1).unwrap();
                let ours = conv2d(&xc, wt.as_tensor(), b.as_tensor(), pad)
                    .unwrap()
                    .transpose(0, 1)
                    .unwrap();
                let theirs = x
                    .as_tensor()
                    .conv2d(wt.as_tensor(), pad, 1, 1, 1)
                    .unwrap()
                    .broadcast_add(&b.as_tensor().reshape((co, 1, 1)).unwrap())
                    .unwrap();
                let what = format!("n{n} ci{ci} co{co} {h}x{w} k{k} pad{pad}");
                close(&ours, &theirs, &format!("{what} forward"));
                // A weighted sum so every output's gradient differs.
                let g = rand_tensor(&mut rng, theirs.dims());
                let ga = ours.mul(&g).unwrap().sum_all().unwrap().backward().unwrap();
                let gb = theirs
                    .mul(&g)
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .backward()
                    .unwrap();
                for (v, name) in [(&x, "dx"), (&wt, "dw"), (&b, "db")] {
                    close(
                        ga.get(v.as_tensor()).unwrap(),
                        gb.get(v.as_tensor()).unwrap(),
                        &format!("{what} {name}"),
                    );
                }
            }
        }
    }

    /// Forward equals candle's avg_pool2d; the gradient is g / k^2 on every input of a whole
    /// window and 0 on the dropped trailing rows and columns. candle's own avg_pool2d backward
    /// (nearest-neighbour upsampling) agrees only when k divides the map: for 7 -> 3 it sends
    /// input column 2 to window 0 (floor(2 * 3 / 7)) although it belongs to window 1.
    #[test]
    fn pooling_matches_candle_avg_pool2d_and_has_the_exact_gradient() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for &(h, w, k) in &[(4, 4, 2), (7, 7, 2), (6, 5, 3), (5, 5, 1), (14, 14, 2)] {
            let x = Var::from_tensor(&rand_tensor(&mut rng, &[2, 3, h, w])).unwrap();
            let ours = avg_pool2d(x.as_tensor(), k).unwrap();
            let theirs = x.as_tensor().avg_pool2d(k).unwrap();
            close(&ours, &theirs, &format!("{h}x{w} k{k} forward"));
            let g = rand_tensor(&mut rng, theirs.dims());
            let ga = ours.mul(&g).unwrap().sum_all().unwrap().backward().unwrap();
            let dx = ga.get(x.as_tensor()).unwrap();
            let (ho, wo) = (h / k, w / k);
            let gv = g.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let mut want = vec![0f32; 2 * 3 * h * w];
            for p in 0..6 {
                for y in 0..ho * k {
                    for x in 0..wo * k {
                        want[(p * h + y) * w + x] =
                            gv[(p * ho + y / k) * wo + x / k] / (k * k) as f32;
                    }
                }
            }
            let want = Tensor::from_vec(want, (2, 3, h, w), &Device::Cpu).unwrap();
            close(dx, &want, &format!("{h}x{w} k{k} dx"));
            if h % k == 0 && w % k == 0 {
                let gb = theirs
                    .mul(&g)
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .backward()
                    .unwrap();
                close(
                    dx,
                    gb.get(x.as_tensor()).unwrap(),
                    &format!("{h}x{w} k{k} candle dx"),
                );
            }
        }
    }
}
