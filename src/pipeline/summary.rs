//! The flow's summary table: (what, value) rows from a run's artifacts.

use super::{Artifacts, FlowOptions, SynthVerdict};
use std::time::Duration;

/// The rows of the summary table, for whatever steps ran.
pub fn rows(a: &Artifacts, o: &FlowOptions, elapsed: Duration) -> Vec<(String, String)> {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.2} %", v * 100.0));
    let mut rows: Vec<(String, String)> = vec![("model".into(), o.model.display().to_string())];
    if let Some(t) = a.time_steps {
        rows.push(("time steps".into(), t.to_string()));
    }
    let d = a.report.as_ref();
    match &a.evaluation {
        Some(e) if e.labelled => {
            rows.push((
                "evaluation samples".into(),
                format!("{} {}", e.images, e.data),
            ));
            rows.push(("accuracy float".into(), pct(e.float)));
            rows.push(("accuracy integer".into(), pct(e.integer)));
            rows.push(("accuracy decoupled (LIF only)".into(), pct(e.decoupled)));
        }
        Some(e) => {
            rows.push((
                "evaluation samples".into(),
                format!("{} {} (no labels: no accuracy)", e.images, e.data),
            ));
            rows.push((
                "float = integer class".into(),
                format!("{} of the samples", pct(e.float_agrees)),
            ));
            rows.push((
                "decoupled = integer class".into(),
                format!("{} of the samples", pct(e.decoupled_agrees)),
            ));
        }
        None => {}
    }
    if let Some(d) = d.filter(|d| d.accuracy.rtl.is_some()) {
        rows.push((
            "accuracy RTL (co-simulated images)".into(),
            pct(d.accuracy.rtl),
        ));
    }
    if let Some(cs) = &a.cosim {
        let n = cs.samples;
        rows.push((
            "RTL vs golden".into(),
            match &cs.divergence {
                None => format!("spike-exact on {n} samples"),
                Some(detail) => format!("MISMATCH: {detail}"),
            },
        ));
    }
    if a.design.is_some() {
        rows.push((
            "hardware form, lanes".into(),
            format!("{}, {}", o.codegen.form.name(), o.lanes_text),
        ));
    }
    let cycles = a.cosim.as_ref().map(|cs| cs.cycles_per_sample());
    if let Some(cs) = &a.cosim {
        let lb = cs.chain_bounds.iter().sum::<u64>() / cs.samples.max(1) as u64;
        rows.push((
            "cycles per image".into(),
            cs.cycles_per_sample().to_string(),
        ));
        rows.push((
            "lower bound (ratio)".into(),
            format!("{lb} ({:.3}x)", cs.ratio()),
        ));
    }
    match &a.synth {
        Some(SynthVerdict::Fits(r)) => {
            rows.push((
                "device".into(),
                format!("{} ({} back end)", r.part, r.backend),
            ));
            let res = &r.resources;
            rows.push((
                "logic cells".into(),
                format!("{} of {}", res.logic_cells.used, res.logic_cells.available),
            ));
            rows.push(("flip-flops".into(), res.flip_flops.used.to_string()));
            rows.push((
                "block RAM".into(),
                format!("{} of {}", res.block_ram.used, res.block_ram.available),
            ));
            rows.push(("DSP".into(), res.dsp.used.to_string()));
            if let Some(u) = r.utilisation.get("ICESTORM_SPRAM").filter(|u| u.used > 0) {
                rows.push(("SPRAM".into(), format!("{} of {}", u.used, u.available)));
            }
            if let Some(f) = r.min_fmax_mhz() {
                rows.push(("fmax".into(), format!("{f:.1} MHz")));
                if let Some(c) = cycles {
                    rows.push((
                        "latency".into(),
                        format!("{:.2} us per image", c as f64 / f),
                    ));
                    rows.push((
                        "throughput".into(),
                        format!("{:.0} images/s", f * 1e6 / c.max(1) as f64),
                    ));
                }
            }
        }
        Some(v) => rows.push(("synthesis".into(), v.describe(o.target))),
        None => {}
    }
    if d.is_some() {
        rows.push((
            "report".into(),
            o.out.join("report.html").display().to_string(),
        ));
    }
    rows.push((
        "flow time".into(),
        format!("{:.1} s", elapsed.as_secs_f64()),
    ));
    rows
}
