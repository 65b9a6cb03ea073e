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
    pub fn len(&self) -> usize {
        self.c * self.h * self.w
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

fn conv_out(len: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    if s == 0 || k == 0 || len + 2 * p < k {
        return None;
    }
    Some((len + 2 * p - k) / s + 1)
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
                        "conv2d kernel {:?} stride {:?} padding {:?} does not fit input {input}",
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
                        "{} kernel {:?} stride {:?} does not fit input {input}",
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
            c: input.c * g.group as usize,
            ..input
        },
    };
    out.validate()?;
    Ok(out)
}
