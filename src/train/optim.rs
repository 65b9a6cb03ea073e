//! AdamW (decoupled weight decay) with a cosine learning-rate schedule, on candle variables.

use candle_core::{Result, Tensor, Var};

#[derive(Debug, Clone, Copy)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// One parameter with its moment estimates; `decay` says whether weight decay applies (weights
/// yes; biases, thresholds and spacings no).
pub struct Slot {
    pub var: Var,
    pub m: Tensor,
    pub v: Tensor,
    pub decay: bool,
}

pub struct AdamW {
    pub cfg: AdamWConfig,
    pub slots: Vec<Slot>,
    /// Number of updates done so far (for bias correction and the schedule).
    pub step: u64,
}

/// lr at `step` of `total`: lr * (1 + cos(pi * step / total)) / 2.
pub fn cosine_lr(lr: f64, step: u64, total: u64) -> f64 {
    if total == 0 {
        return lr;
    }
    let p = (step.min(total) as f64) / total as f64;
    lr * 0.5 * (1.0 + (std::f64::consts::PI * p).cos())
}

impl AdamW {
    pub fn new(cfg: AdamWConfig, params: Vec<(Var, bool)>) -> Result<Self> {
        let slots = params
            .into_iter()
            .map(|(var, decay)| {
                let z = var.as_tensor().zeros_like()?;
                Ok(Slot {
                    m: z.clone(),
                    v: z,
                    var,
                    decay,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(AdamW {
            cfg,
            slots,
            step: 0,
        })
    }

    /// One update with learning rate `lr` from the gradients in `grads`.
    pub fn update(&mut self, grads: &candle_core::backprop::GradStore, lr: f64) -> Result<()> {
        self.step += 1;
        let c = self.cfg;
        let bc1 = 1.0 - c.beta1.powi(self.step as i32);
        let bc2 = 1.0 - c.beta2.powi(self.step as i32);
        for s in &mut self.slots {
            let Some(g) = grads.get(s.var.as_tensor()) else {
                continue;
            };
            let g = g.detach();
            s.m = (s.m.affine(c.beta1, 0.0)? + g.affine(1.0 - c.beta1, 0.0)?)?;
            s.v = (s.v.affine(c.beta2, 0.0)? + g.sqr()?.affine(1.0 - c.beta2, 0.0)?)?;
            let mhat = s.m.affine(1.0 / bc1, 0.0)?;
            let vhat = s.v.affine(1.0 / bc2, 0.0)?;
            let p = s.var.as_tensor().detach();
            let mut upd = mhat.div(&vhat.sqrt()?.affine(1.0, c.eps)?)?;
            if s.decay && c.weight_decay > 0.0 {
                upd = (upd + p.affine(c.weight_decay, 0.0)?)?;
            }
            s.var.set(&(p - upd.affine(lr, 0.0)?)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn adamw_minimizes_a_quadratic() {
        let x = Var::new(&[3.0f32, -2.0], &Device::Cpu).unwrap();
        let mut opt = AdamW::new(
            AdamWConfig {
                lr: 0.1,
                ..Default::default()
            },
            vec![(x.clone(), false)],
        )
        .unwrap();
        for _ in 0..300 {
            let loss = x.as_tensor().sqr().unwrap().sum_all().unwrap();
            let g = loss.backward().unwrap();
            opt.update(&g, 0.1).unwrap();
        }
        let v = x.as_tensor().to_vec1::<f32>().unwrap();
        assert!(v.iter().all(|a| a.abs() < 0.05), "{v:?}");
    }

    #[test]
    fn cosine_schedule_ends_at_zero() {
        assert_eq!(cosine_lr(1.0, 0, 10), 1.0);
        assert!((cosine_lr(1.0, 5, 10) - 0.5).abs() < 1e-12);
        assert!(cosine_lr(1.0, 10, 10).abs() < 1e-12);
    }
}
