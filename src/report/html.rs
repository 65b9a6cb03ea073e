//! The report page: one HTML file with inline CSS and inline SVG, no script and no external resource.

use super::svg::{self, esc, group};
use super::{Derived, ReportData};
use crate::synth::{SynthResult, Usage};
use std::fmt::Write as _;

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;background:#f1f5f9;color:#0f172a}
main{max-width:940px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:26px;margin:8px 0 2px}h2{font-size:19px;margin:30px 0 8px;border-bottom:1px solid #cbd5e1;padding-bottom:4px}
.model{color:#475569;margin:0 0 16px;font-size:14px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 12px}
.card .k{font-size:12px;color:#64748b;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:600;margin-top:2px}.card .u{font-size:13px;color:#475569;font-weight:400}
.ok{color:#15803d}.bad{color:#b91c1c}.na{color:#94a3b8}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:6px 0}
td,th{border:1px solid #e2e8f0;padding:4px 10px;text-align:left}th{background:#f8fafc;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{background:#fff;border:1px solid #e2e8f0;border-radius:8px;margin:10px 0;padding:10px;overflow-x:auto}
figcaption{font-size:13px;color:#475569;margin-top:6px}
svg text{font-family:inherit}svg .lab{font-size:13px;fill:#0f172a}svg .sub,svg .lg{font-size:12px;fill:#475569}
svg .tick{font-size:11px;fill:#64748b}svg .in{font-size:11px;fill:#0f172a}svg .in.light{fill:#fff}
.notes li{font-size:14px;margin:3px 0}.flags{margin:10px 0 0;padding:8px 12px 8px 28px;background:#fef2f2;border:1px solid #fecaca;border-radius:8px}.flags li{font-size:14px;margin:2px 0}code{font-size:13px}
";

fn pct(v: Option<f64>) -> String {
    v.map_or_else(
        || "<span class=\"na\">n/a</span>".into(),
        |v| format!("{:.2} %", 100.0 * v),
    )
}

fn num(v: Option<f64>, decimals: usize, unit: &str) -> String {
    v.map_or_else(
        || "<span class=\"na\">n/a</span>".into(),
        |v| format!("{v:.decimals$}<span class=\"u\"> {unit}</span>"),
    )
}

/// A count-like figure rounded to a whole number, with thousands separators.
fn whole(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(
        || "<span class=\"na\">n/a</span>".into(),
        |v| {
            format!(
                "{}<span class=\"u\"> {unit}</span>",
                group(v.max(0.0).round() as u64)
            )
        },
    )
}

fn card(s: &mut String, key: &str, value: &str) {
    let _ = writeln!(
        s,
        "<div class=\"card\"><div class=\"k\">{key}</div><div class=\"v\">{value}</div></div>"
    );
}

pub fn page(d: &ReportData, x: &Derived) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t} · lifb-hdl report</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{t}</h1>\n",
        t = esc(&d.title)
    );
    if let Some(m) = &d.model {
        let _ = writeln!(s, "<p class=\"model\">model: <code>{}</code></p>", esc(m));
    }

    // Headline figures.
    s.push_str("<section class=\"cards\">\n");
    // The headline is the integer model on the whole evaluation set: the RTL figure covers only
    // the co-simulated images, and where it is spike-exact it equals the integer model there.
    let best_acc = d.accuracy.integer.or(d.accuracy.rtl).or(d.accuracy.float);
    card(&mut s, "accuracy", &pct(best_acc));
    let verdict = match &d.verification {
        Some(v) if v.spike_exact => "<span class=\"ok\">spike-exact</span>".to_string(),
        Some(_) => "<span class=\"bad\">MISMATCH</span>".to_string(),
        None => "<span class=\"na\">not run</span>".to_string(),
    };
    card(&mut s, "RTL vs golden", &verdict);
    card(&mut s, "latency", &num(x.latency_us, 2, "µs/image"));
    card(&mut s, "throughput", &whole(x.images_per_s, "images/s"));
    card(&mut s, "fmax", &num(x.fmax_mhz, 1, "MHz"));
    // used / available of one synthesized resource, or n/a without synthesis
    let usage = |u: Option<Usage>| {
        u.map_or_else(
            || "<span class=\"na\">n/a</span>".into(),
            |u| {
                format!(
                    "{}<span class=\"u\"> / {}</span>",
                    group(u.used),
                    group(u.available)
                )
            },
        )
    };
    let res = |f: fn(&SynthResult) -> Usage| d.synth.as_ref().map(f);
    card(
        &mut s,
        "logic cells",
        &usage(res(|r| r.resources.logic_cells)),
    );
    card(&mut s, "block RAM", &usage(res(|r| r.resources.block_ram)));
    card(
        &mut s,
        "energy (ASIC-constant estimate)",
        &num(x.energy_uj_per_image, 3, "µJ/image"),
    );
    s.push_str("</section>\n");
    if let Some(r) = &d.synth {
        summary_flags(&mut s, r);
    }

    // Accuracy and verification.
    let a = &d.accuracy;
    if a.float.is_some() || a.integer.is_some() || a.decoupled.is_some() || a.rtl.is_some() {
        // Each row states its own image count: the RTL is co-simulated on fewer images than the
        // golden models are evaluated on, so one caption count would misstate some rows.
        let count =
            |n: Option<u64>| n.map_or_else(|| "<span class=\"na\">n/a</span>".into(), group);
        let _ = writeln!(
            s,
            "<h2>Accuracy</h2>\n<table><tr><th>model</th><th>accuracy</th><th>images</th></tr>\n\
             <tr><td>float</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n\
             <tr><td>integer (quantized)</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n\
             <tr><td>decoupled (LIF only)</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n\
             <tr><td>RTL (co-simulated)</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n</table>",
            pct(a.float),
            count(a.float.and(a.images)),
            pct(a.integer),
            count(a.integer.and(a.images)),
            pct(a.decoupled),
            count(a.decoupled.and(a.images)),
            pct(a.rtl),
            count(a.rtl.and(a.rtl_images))
        );
    }
    if let Some(v) = &d.verification {
        let _ = writeln!(
            s,
            "<h2>Verification</h2>\n<p>{} after comparing {} inputs spike for spike: {}</p>",
            if v.spike_exact {
                "<strong class=\"ok\">Spike-exact</strong>"
            } else {
                "<strong class=\"bad\">Mismatch</strong>"
            },
            group(v.inputs_checked),
            esc(&v.detail)
        );
    }

    // Timing.
    if d.cycles_per_image.is_some() || x.fmax_mhz.is_some() {
        s.push_str("<h2>Timing</h2>\n<table>\n");
        let row = |s: &mut String, k: &str, v: String| {
            let _ = writeln!(s, "<tr><th>{k}</th><td class=\"n\">{v}</td></tr>");
        };
        if let Some(t) = d.steps {
            row(&mut s, "time steps per image", group(t as u64));
        }
        if let Some(c) = d.cycles_per_image {
            row(&mut s, "clock cycles per image", group(c));
        }
        if let Some(lb) = d.lower_bound_cycles {
            row(
                &mut s,
                "lower bound (cycles)",
                format!(
                    "{}{}",
                    group(lb),
                    x.cycles_over_lower_bound
                        .map_or(String::new(), |r| format!(" (measured = {r:.2} × bound)"))
                ),
            );
        }
        if let Some(note) = &d.lower_bound_note {
            row(&mut s, "bound assumes", esc(note));
        }
        row(&mut s, "fmax (slowest clock)", num(x.fmax_mhz, 2, "MHz"));
        row(&mut s, "latency at fmax", num(x.latency_us, 3, "µs/image"));
        row(
            &mut s,
            "throughput at fmax",
            whole(x.images_per_s, "images/s"),
        );
        s.push_str("</table>\n");
    }

    // Figures.
    if let Some(r) = &d.raster {
        let _ = writeln!(
            s,
            "<h2>Spikes of one input</h2>\n<figure>\n{}<figcaption>{}: spikes per neuron and time step in every layer. \
             Blue marks one spike, orange a burst of several. Steps are numbered from 0.{}</figcaption>\n</figure>",
            svg::raster(r),
            esc(&r.input),
            r.note
                .as_ref()
                .map_or(String::new(), |n| format!(" {}", esc(n)))
        );
    }
    if let Some(f) = svg::mode_shares(&d.layers) {
        let _ = writeln!(
            s,
            "<h2>Neuron modes per layer</h2>\n<figure>\n{f}<figcaption>Each neuron at each time step rests (no spike), \
             fires regularly (one spike) or bursts (several spikes); shares over all evaluated inputs.</figcaption>\n</figure>"
        );
    }
    if let Some(f) = svg::cycle_breakdown(&d.layers) {
        let _ = writeln!(
            s,
            "<h2>Cycles per layer</h2>\n<figure>\n{f}<figcaption>Clock cycles per image each engine is busy, by phase. The engines run at the same time \
             (pipelined), so the bars overlap in time and do not add up to the cycles per image.</figcaption>\n</figure>"
        );
    }
    if let Some(r) = &d.synth {
        let _ = writeln!(
            s,
            "<h2>Resources on {} ({} {})</h2>\n<figure>\n{}<figcaption>Used against available after place and route \
             ({} back end).</figcaption>\n</figure>",
            esc(r.target.name()),
            esc(&r.part),
            esc(&r.package),
            svg::resources(r),
            r.backend
        );
        synth_details(&mut s, r);
    }

    // Energy.
    if let Some(e) = x.energy_uj_per_image {
        let m = &d.energy_model;
        let _ = writeln!(
            s,
            "<h2>Energy estimate (45 nm ASIC constants, not an FPGA measurement)</h2>\n<p>{e:.3} µJ per image = {} synaptic operations × {} pJ + {} neuron updates × {} pJ. \
             Constants: {}. These are ASIC per-operation figures: an FPGA spends more per operation, so \
             this is a floor for comparing designs, not the energy this device draws.</p>",
            group(d.synaptic_ops_per_image.unwrap_or(0.0).round() as u64),
            m.pj_per_synaptic_op,
            group(d.neuron_updates_per_image.unwrap_or(0.0).round() as u64),
            m.pj_per_neuron_update,
            esc(&m.source)
        );
    }
    if !d.notes.is_empty() {
        s.push_str("<h2>Notes</h2>\n<ul class=\"notes\">\n");
        for n in &d.notes {
            let _ = writeln!(s, "<li>{}</li>", esc(n));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</main>\n</body>\n</html>\n");
    s
}

/// Facts that qualify the headline figures, shown right under them: a clock that missed its
/// target (the fmax card alone reads as a success) and resources that include the scan wrapper.
fn summary_flags(s: &mut String, r: &SynthResult) {
    let mut flags = Vec::new();
    for c in r.fmax.iter().filter(|c| !c.met) {
        flags.push(format!(
            "fmax target missed: clock {} reaches {:.1} MHz of the {:.1} MHz target",
            esc(&c.clock),
            c.achieved_mhz,
            c.constraint_mhz
        ));
    }
    if let Some(w) = &r.io_wrapper {
        flags.push(format!(
            "resources include the I/O scan wrapper (+{} flip-flops): the design's {} port bits exceed \
             the package's {} pins",
            group(w.added_flip_flops),
            group(w.core_port_bits),
            group(w.package_pins)
        ));
    }
    if flags.is_empty() {
        return;
    }
    s.push_str("<ul class=\"flags\">\n");
    for f in flags {
        let _ = writeln!(s, "<li class=\"bad\">{f}</li>");
    }
    s.push_str("</ul>\n");
}

fn synth_details(s: &mut String, r: &crate::synth::SynthResult) {
    let _ = writeln!(
        s,
        "<table>\n<tr><th>top module</th><td>{}</td></tr>\n<tr><th>Yosys</th><td>{}</td></tr>\n\
         <tr><th>nextpnr</th><td>{}</td></tr>",
        esc(&r.top),
        esc(&r.tools.yosys),
        esc(&r.tools.nextpnr),
    );
    let res = &r.resources;
    let _ = writeln!(
        s,
        "<tr><th>LUT4 / carry (Yosys)</th><td>{} / {}</td></tr>",
        group(res.lut4),
        group(res.carry)
    );
    if let Some(w) = &r.io_wrapper {
        let _ = writeln!(
            s,
            "<tr><th>I/O wrapper</th><td>{} port bits &gt; {} pins: measured inside a scan wrapper \
             (+{} flip-flops, included above)</td></tr>",
            w.core_port_bits, w.package_pins, w.added_flip_flops
        );
    }
    for c in &r.fmax {
        let _ = writeln!(
            s,
            "<tr><th>fmax {}</th><td>{:.2} MHz (target {:.1} MHz, {})</td></tr>",
            esc(&c.clock),
            c.achieved_mhz,
            c.constraint_mhz,
            if c.met { "met" } else { "missed" }
        );
    }
    s.push_str("</table>\n");
}
