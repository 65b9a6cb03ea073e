//! Neuron nodes: the reset rule of a preset, LIF/IF parameters, recurrent weights and the
//! integrator readout.

use super::*;

pub(super) fn resolve_reset(node: &Node, cx: &mut Ctx) -> Result<ResetRule> {
    let own = own_meta(&node.tree);
    if cx.preset == Preset::LifbHdl {
        return match own
            .as_ref()
            .and_then(|m| m.get("reset"))
            .and_then(|v| v.as_str())
        {
            Some("subtract") => Ok(ResetRule::Subtract),
            Some("zero") => Ok(ResetRule::Zero),
            _ => Err(Error::bad_input(format!(
                "node '{}' ({}): lifb-hdl metadata names no reset",
                node.name, node.kind
            ))),
        };
    }
    let v_reset = opt_tensor(node, "v_reset")?;
    if let Some(r) = cx.opts.reset {
        if v_reset.is_some_and(|t| t.data.iter().any(|&x| x != 0.0)) {
            cx.warn(node, "non-zero v_reset ignored because --reset was given");
        }
        return Ok(match (r, cx.preset) {
            (Reset::Zero, _) => ResetRule::Zero,
            (Reset::Subtract, Preset::Snntorch) => ResetRule::SubtractDelayed,
            (Reset::Subtract, _) => ResetRule::Subtract,
        });
    }
    if cx.preset == Preset::Snntorch {
        return Ok(ResetRule::SubtractDelayed);
    }
    match v_reset {
        Some(t) if t.data.iter().all(|&x| x == 0.0) => Ok(ResetRule::Zero),
        Some(_) => Err(refuse(
            node,
            "reset to a non-zero v_reset is not supported (only reset to 0 or by subtraction; --reset subtract overrides)",
        )),
        None => {
            let legacy = cx.version.as_deref().map(version_before_1_0_6).unwrap_or(true);
            if legacy {
                cx.warn(
                    node,
                    &format!(
                        "no v_reset in a NIR {} file: reset by subtraction, as NIR meant before 1.0.6 (--reset overrides)",
                        cx.version.as_deref().unwrap_or("(unversioned)")
                    ),
                );
                Ok(ResetRule::Subtract)
            } else {
                cx.warn(node, "no v_reset: reset to zero, as NIR means since 1.0.6 (--reset overrides)");
                Ok(ResetRule::Zero)
            }
        }
    }
}

pub(super) fn version_before_1_0_6(v: &str) -> bool {
    let nums: Vec<u64> = v
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| {
            p.chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect();
    let key = (
        nums.first().copied().unwrap_or(0),
        nums.get(1).copied().unwrap_or(0),
        nums.get(2).copied().unwrap_or(0),
    );
    key < (1, 0, 6)
}

pub(super) fn neuron(link: &Link, cur: Shape, layers: &mut [B], cx: &mut Ctx) -> Result<Neuron> {
    let node = &link.node;
    let n = cur.len();
    let dt = cx.dt;
    let thr = broadcast(
        node,
        "v_threshold",
        tensor(node, "v_threshold")?,
        n,
        Some(cur),
    )?;
    let r = broadcast(node, "r", tensor(node, "r")?, n, Some(cur))?;
    if let Some(i) = thr.iter().position(|&x| x <= 0.0) {
        return Err(refuse(
            node,
            &format!("v_threshold[{i}] = {} must be > 0", thr[i]),
        ));
    }
    let (lam, gain, leak_add) = if node.kind == "LIF" {
        let tau = broadcast(node, "tau", tensor(node, "tau")?, n, Some(cur))?;
        let v_leak = broadcast(node, "v_leak", tensor(node, "v_leak")?, n, Some(cur))?;
        if tau.iter().any(|&t| t != tau[0]) {
            return Err(refuse(
                node,
                "tau differs between neurons; the IR has one leak factor per layer",
            ));
        }
        let alpha = dt / tau[0];
        if !(alpha > 0.0 && alpha <= 1.0 + 1e-12) {
            return Err(refuse(
                node,
                &format!("tau = {} with dt = {dt} gives dt/tau = {alpha}, outside (0, 1]; check --dt and the preset's units", tau[0]),
            ));
        }
        let alpha = alpha.min(1.0);
        let gain: Vec<f64> = r.iter().map(|&ri| snap_one(dt * ri / tau[0])).collect();
        let add: Vec<f64> = v_leak.iter().map(|&v| alpha * v).collect();
        (1.0 - alpha, gain, add)
    } else {
        if cx.preset == Preset::Snntorch {
            cx.warn(
                node,
                "IF under the snntorch preset: input gain taken as dt*r (the NIR definition)",
            );
        }
        let gain: Vec<f64> = r.iter().map(|&ri| snap_one(dt * ri)).collect();
        (1.0, gain, vec![0.0; n])
    };
    if let Some(i) = gain.iter().position(|&g| g <= 0.0) {
        return Err(refuse(
            node,
            &format!(
                "input gain dt*r/tau at neuron {i} is {} (must be > 0)",
                gain[i]
            ),
        ));
    }
    let own = own_meta(&node.tree).unwrap_or(serde_json::Value::Null);
    // lifb-hdl files carry the exact f32 leak factor; check it agrees with tau.
    let lam = match own.get("lam").and_then(|v| v.as_f64()) {
        Some(l) if cx.preset == Preset::LifbHdl && (l - lam).abs() < 1e-6 => l,
        Some(l) if cx.preset == Preset::LifbHdl => {
            return Err(Error::bad_input(format!(
                "node '{}': metadata lam {l} disagrees with tau (gives {lam})",
                node.name
            )))
        }
        _ => lam,
    };
    let all_one = gain.iter().all(|&g| g == 1.0);
    let no_leak = leak_add.iter().all(|&x| x == 0.0);
    if !(all_one && no_leak) {
        let l = last_synaptic(layers, node)?;
        fold_rows(l, &gain, Some(&leak_add), node, cx)?;
    } else {
        last_synaptic(layers, node)?;
    }
    let reset = resolve_reset(node, cx)?;
    let rho = match own.get("rho") {
        Some(v) if cx.preset == Preset::LifbHdl => {
            Some(serde_json::from_value::<Vec<f64>>(v.clone()).map_err(|e| {
                Error::bad_input(format!("node '{}': metadata rho: {e}", node.name))
            })?)
        }
        _ => None,
    };
    let recurrent = match &link.recurrent {
        None => None,
        Some(rn) => {
            if reset != ResetRule::Subtract {
                return Err(refuse(
                    node,
                    "recurrent weights are supported only with reset by subtraction in the same step (the pure-LIF form); snnTorch's delayed reset and reset to zero are not",
                ));
            }
            Some(recurrent_weights(rn, cur, &gain, &own, cx)?)
        }
    };
    if reset == ResetRule::SubtractDelayed && lam == 0.0 {
        return Err(refuse(node, "beta = 0 with snnTorch's delayed subtract reset cannot be mapped (the reset would need to be undone by the leak)"));
    }
    if reset == ResetRule::SubtractDelayed {
        let l32 = lam as f32;
        if l32.to_bits() & 0x007f_ffff != 0 {
            cx.warn(
                node,
                "snnTorch's delayed reset maps to subtracting threshold/beta before the decay: exact in real arithmetic, f32 rounding may differ from snnTorch by one ulp (beta is not a power of two)",
            );
        }
    }
    if cx.opts.compare == Compare::AsGe && cx.preset != Preset::LifbHdl {
        cx.warn(node, "--compare as-ge: fires on v >= v_threshold where the exporter fires on v > v_threshold (differs on exact ties)");
    }
    Ok(Neuron {
        node: node.name.clone(),
        shape: cur,
        lam,
        thr,
        reset,
        rho,
        recurrent,
        meta: own,
    })
}

/// Float gains that are 1 up to the exporter's own rounding (snnTorch writes r = tau/dt and
/// tau = dt/(1-beta), often in f32, so dt*r/tau is 1 within a few f32 ulps) are taken as exactly 1.
pub(super) fn snap_one(g: f64) -> f64 {
    if (g - 1.0).abs() < 1e-6 {
        1.0
    } else {
        g
    }
}

/// The recurrent weights of a neuron node as lateral weights within groups of g units.
pub(super) fn recurrent_weights(
    rn: &Node,
    cur: Shape,
    gain: &[f64],
    own: &serde_json::Value,
    cx: &mut Ctx,
) -> Result<(usize, Vec<f64>)> {
    let n = cur.len();
    let hw = cur.h * cur.w;
    // Channel-to-channel weight matrix (C x C), the same at every position.
    let (rows, mat): (usize, Vec<f64>) = match rn.kind.as_str() {
        "Linear" | "Affine" => {
            if !cur.is_flat() {
                return Err(refuse(rn, "a dense recurrent weight on a (C, H, W) layer is not supported; use a 1x1 Conv2d"));
            }
            let (o, i, w) = matrix(rn, "weight")?;
            if o != n || i != n {
                return Err(refuse(
                    rn,
                    &format!("recurrent weight is {o} x {i}, the neuron layer has {n} neurons"),
                ));
            }
            if rn.kind == "Affine" && tensor(rn, "bias")?.data.iter().any(|&b| b != 0.0) {
                return Err(refuse(
                    rn,
                    "a recurrent weight with a non-zero bias is not supported",
                ));
            }
            (n, w)
        }
        "Conv2d" => {
            let t = tensor(rn, "weight")?;
            let c = cur.c;
            if t.shape != [c, c, 1, 1] {
                return Err(refuse(
                    rn,
                    &format!(
                        "a recurrent Conv2d must be 1x1 with {c} -> {c} channels, got weight {:?}",
                        t.shape
                    ),
                ));
            }
            if let Some(b) = opt_tensor(rn, "bias")? {
                if b.data.iter().any(|&x| x != 0.0) {
                    return Err(refuse(
                        rn,
                        "a recurrent weight with a non-zero bias is not supported",
                    ));
                }
            }
            (c, t.data.clone())
        }
        _ => {
            return Err(refuse(
                rn,
                "recurrent weights must be Linear, Affine or a 1x1 Conv2d",
            ))
        }
    };
    let block_ok =
        |g: usize| (0..rows).all(|u| (0..rows).all(|j| u / g == j / g || mat[u * rows + j] == 0.0));
    let g = match own.get("group").and_then(|v| v.as_u64()) {
        Some(g) if cx.preset == Preset::LifbHdl => g as usize,
        _ => (1..=rows.min(64))
            .filter(|g| rows % g == 0)
            .find(|&g| block_ok(g))
            .ok_or_else(|| {
                refuse(
                    rn,
                    "the recurrent weights do not split into independent groups of at most 64 units (the pure-LIF form's lateral groups)",
                )
            })?,
    };
    if g == 0 || rows % g != 0 || !block_ok(g) {
        return Err(refuse(
            rn,
            &format!("recurrent weights are not block-diagonal in groups of {g}"),
        ));
    }
    // lateral[u][k] for every unit u (per neuron), scaled by the unit's input gain.
    let mut lateral = Vec::with_capacity(n * g);
    for (u, &gu) in gain.iter().enumerate().take(n) {
        let ch = if cur.is_flat() { u } else { u / hw };
        let base = ch - ch % g;
        for k in 0..g {
            lateral.push(gu * mat[ch * rows + base + k]);
        }
    }
    cx.note_fold(&rn.name, &lateral);
    Ok((g, lateral))
}

/// A final I/Integrator (or LI, when allowed) becomes the sum-of-currents readout.
pub(super) fn readout(node: &Node, cur: Shape, layers: &mut [B], cx: &mut Ctx) -> Result<()> {
    let n = cur.len();
    let r = broadcast(node, "r", tensor(node, "r")?, n, Some(cur))?;
    let dt = cx.dt;
    if node.kind == "LI" {
        if !cx.opts.li_readout_sum {
            return Err(refuse(
                node,
                "a leaky integrator readout ranks classes by its leaky final membrane, not by the sum of currents over steps that the IR reads out; pass --li-readout sum to accept the sum (approximate)",
            ));
        }
        cx.warn(node, "LI readout replaced by the sum of currents over steps (approximate: the leak is dropped)");
        let tau = broadcast(node, "tau", tensor(node, "tau")?, n, Some(cur))?;
        let gain: Vec<f64> = r
            .iter()
            .zip(&tau)
            .map(|(&ri, &t)| snap_one(dt * ri / t))
            .collect();
        let l = last_synaptic(layers, node)?;
        return fold_rows(l, &gain, None, node, cx);
    }
    // v_T = sum_t dt*r*X_t exactly: fold dt*r into the last synaptic layer.
    let gain: Vec<f64> = r.iter().map(|&ri| snap_one(dt * ri)).collect();
    if let Some(i) = gain.iter().position(|&g| g <= 0.0) {
        return Err(refuse(
            node,
            &format!("gain dt*r at output {i} is {} (must be > 0)", gain[i]),
        ));
    }
    let l = last_synaptic(layers, node)?;
    if gain.iter().any(|&g| g != 1.0) {
        fold_rows(l, &gain, None, node, cx)?;
    }
    Ok(())
}
