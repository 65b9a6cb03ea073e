//! The integer neuron update, written once. docs/semantics.md ("Integer model") is the contract;
//! the RTL implements exactly these functions.

use crate::ir::Reset;

/// The fixed-point constants every integer neuron shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    pub v_min: i64,
    pub v_max: i64,
    pub leak_d: i64,
    pub leak_frac: u32,
}

impl Fixed {
    /// leak(V) = V - ((V * d) >> f), arithmetic (floor) shift.
    #[inline]
    pub fn leak(&self, v: i64) -> i64 {
        v - ((v * self.leak_d) >> self.leak_frac)
    }

    #[inline]
    pub fn saturate(&self, x: i64) -> i64 {
        x.clamp(self.v_min, self.v_max)
    }

    /// H = sat(leak(V) + X): the pre-fire membrane.
    #[inline]
    pub fn integrate(&self, v: i64, x: i64) -> i64 {
        self.saturate(self.leak(v) + x)
    }
}

/// LIFB: c = 0 if H < theta, else min(B, 1 + floor((H - theta) / D)).
/// Reset subtract: V = H - theta - (c - 1) * D when c >= 1; zero: V = 0 when c >= 1.
/// Returns the spike count c; `v` becomes the post-reset membrane.
#[inline]
pub fn lifb_step(
    fx: &Fixed,
    v: &mut i64,
    x: i64,
    theta: i64,
    spacing: i64,
    b: u32,
    reset: Reset,
) -> u32 {
    let h = fx.integrate(*v, x);
    if h < theta {
        *v = h;
        return 0;
    }
    let excess = h - theta;
    // Most spikes are single: skip the division unless a burst is possible.
    let c = if b == 1 || excess < spacing {
        1
    } else {
        (excess / spacing + 1).min(b as i64)
    };
    *v = match reset {
        Reset::Subtract => h - theta - (c - 1) * spacing,
        Reset::Zero => 0,
    };
    c as u32
}

/// Group form: `thresholds.len()` binary sub-units share the membrane. Sub-unit k fires on
/// H >= thresholds[k]; reset subtract removes sum_k s_k * rho[k], zero clears V if any fired.
/// Writes each sub-unit's spike (0/1) to `spikes` and returns how many fired.
#[inline]
pub fn group_step(
    fx: &Fixed,
    v: &mut i64,
    x: i64,
    thresholds: &[i64],
    rho: &[i64],
    reset: Reset,
    spikes: &mut [u32],
) -> u32 {
    group_fire(fx.integrate(*v, x), v, thresholds, rho, reset, spikes)
}

/// The float neuron update (docs/semantics.md, "Float model"): H = lam * V + X, no saturation.
#[inline]
pub fn lifb_step_float(
    lam: f32,
    v: &mut f32,
    x: f32,
    theta: f32,
    spacing: f32,
    b: u32,
    reset: Reset,
) -> u32 {
    let h = lam * *v + x;
    if h < theta {
        *v = h;
        return 0;
    }
    let c = (((h - theta) / spacing).floor() + 1.0).min(b as f32);
    *v = match reset {
        Reset::Subtract => h - theta - (c - 1.0) * spacing,
        Reset::Zero => 0.0,
    };
    c as u32
}

/// Float group form, as `group_step`.
#[inline]
pub fn group_step_float(
    lam: f32,
    v: &mut f32,
    x: f32,
    thresholds: &[f32],
    rho: &[f32],
    reset: Reset,
    spikes: &mut [u32],
) -> u32 {
    group_fire(lam * *v + x, v, thresholds, rho, reset, spikes)
}

/// The group form's firing and reset after integration (H = `h`), in either number type:
/// sub-unit k fires on H >= thresholds[k]; subtract removes the rho of every fired sub-unit,
/// zero clears V if any fired. Integer H is already saturated, float H never is.
#[inline]
fn group_fire<M>(
    h: M,
    v: &mut M,
    thresholds: &[M],
    rho: &[M],
    reset: Reset,
    spikes: &mut [u32],
) -> u32
where
    M: Copy + Default + PartialOrd + std::ops::AddAssign + std::ops::Sub<Output = M>,
{
    let mut fired = 0;
    let mut removed = M::default();
    for k in 0..thresholds.len() {
        let s = (h >= thresholds[k]) as u32;
        spikes[k] = s;
        fired += s;
        if s != 0 {
            removed += rho[k];
        }
    }
    *v = match reset {
        Reset::Subtract => h - removed,
        Reset::Zero if fired > 0 => M::default(),
        Reset::Zero => h,
    };
    fired
}
