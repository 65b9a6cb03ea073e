use super::{Layer, PoolKind};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A tensor shape (channels, height, width). Flat vectors are (n, 1, 1); neuron n of a layer
/// is element c*h*w... in row-major (C, H, W) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

/// Nothing in this tool needs more elements than this; larger shapes are a corrupt file.
pub const MAX_ELEMENTS: usize = 1 << 26;

impl Shape {
    pub fn flat(n: usize) -> Self {
        Shape { c: n, h: 1, w: 1 }
    }
    pub fn chw(c: usize, h: usize, w: usize) -> Self {
        Shape { c, h, w }
    }
    /// Number of elements. Shapes come from [`Shape::validate`]d networks (at most
    /// [`MAX_ELEMENTS`]); an unvalidated shape whose product overflows gives usize::MAX.
    pub fn len(&self) -> usize {
        self.c
            .checked_mul(self.h)
            .and_then(|x| x.checked_mul(self.w))
            .unwrap_or(usize::MAX)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn is_flat(&self) -> bool {
        self.h == 1 && self.w == 1
    }
    pub fn validate(&self) -> Result<()> {
        let n = self
            .c
            .checked_mul(self.h)
            .and_then(|x| x.checked_mul(self.w));
        match n {
            Some(n) if n > 0 && n <= MAX_ELEMENTS => Ok(()),
            _ => Err(Error::bad_input(format!(
                "shape {self} is empty or larger than {MAX_ELEMENTS} elements"
            ))),
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_flat() {
            write!(f, "({})", self.c)
        } else {
            write!(f, "({}, {}, {})", self.c, self.h, self.w)
        }
    }
}

/// Largest kernel, stride or padding of a convolution or pooling layer: no real layer comes near
/// it, and every position the simulators and back ends compute from these stays far from overflow.
pub const MAX_WINDOW: usize = 1 << 16;

/// Output length of a window sliding over `len` (plus `p` zeros each side) in steps of `s`;
/// None when it does not fit or a number is out of range (checked arithmetic throughout).
fn conv_out(len: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    if s == 0 || k == 0 || k > MAX_WINDOW || s > MAX_WINDOW || p > MAX_WINDOW {
        return None;
    }
    let padded = p.checked_mul(2)?.checked_add(len)?;
    Some(padded.checked_sub(k)? / s + 1)
}

pub(super) fn output_shape<T>(layer: &Layer<T>, input: Shape) -> Result<Shape> {
    let out = match layer {
        Layer::Dense(d) => {
            if input.len() != d.in_features {
                return Err(Error::bad_input(format!(
                    "dense expects {} inputs but receives {} from shape {input}{}",
                    d.in_features,
                    input.len(),
                    if input.is_flat() {
                        ""
                    } else {
                        " (add a flatten layer?)"
                    }
                )));
            }
            Shape::flat(d.out_features)
        }
        Layer::Conv2d(c) => {
            if input.c != c.in_channels {
                return Err(Error::bad_input(format!(
                    "conv2d expects {} input channels but receives shape {input}",
                    c.in_channels
                )));
            }
            let h = conv_out(input.h, c.kernel[0], c.stride[0], c.padding[0]);
            let w = conv_out(input.w, c.kernel[1], c.stride[1], c.padding[1]);
            match (h, w) {
                (Some(h), Some(w)) => Shape::chw(c.out_channels, h, w),
                _ => {
                    return Err(Error::bad_input(format!(
                        "conv2d kernel {:?} stride {:?} padding {:?} does not fit input {input} \
                         (kernel and stride must be 1..={MAX_WINDOW}, padding 0..={MAX_WINDOW}, and \
                         the kernel at most the padded input)",
                        c.kernel, c.stride, c.padding
                    )))
                }
            }
        }
        Layer::Pool(p) => {
            let h = conv_out(input.h, p.kernel[0], p.stride[0], 0);
            let w = conv_out(input.w, p.kernel[1], p.stride[1], 0);
            match (h, w) {
                (Some(h), Some(w)) => Shape::chw(input.c, h, w),
                _ => {
                    return Err(Error::bad_input(format!(
                        "{} kernel {:?} stride {:?} does not fit input {input} (kernel and stride \
                         must be 1..={MAX_WINDOW}, the kernel at most the input)",
                        if p.kind == PoolKind::Sum {
                            "sum_pool2d"
                        } else {
                            "avg_pool2d"
                        },
                        p.kernel,
                        p.stride
                    )))
                }
            }
        }
        Layer::Flatten => Shape::flat(input.len()),
        Layer::Lifb(_) | Layer::LifRecurrent(_) => input,
        Layer::LifGroup(g) => Shape {
            c: input.c.saturating_mul(g.group as usize),
            ..input
        },
    };
    out.validate()?;
    Ok(out)
}
