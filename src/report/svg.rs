//! Inline SVG figures for the HTML report. Plain strings, no script, fixed number formatting: the same data
//! gives the same bytes.

use super::{LayerReport, Raster};
use crate::synth::{SynthResult, Usage};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub const COLOR_RESTING: &str = "#cbd5e1";
pub const COLOR_REGULAR: &str = "#2563eb";
pub const COLOR_BURST: &str = "#ea580c";
const PHASE_COLORS: [&str; 6] = [
    "#0f766e", "#7c3aed", "#ca8a04", "#db2777", "#0369a1", "#65a30d",
];
pub(super) const WIDTH: f64 = 880.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 90.0;

/// Escape text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// 12345 -> "12,345".
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn open(id: &str, height: f64, title: &str) -> String {
    format!(
        "<svg id=\"{id}\" class=\"figure\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {WIDTH:.0} {height:.0}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>\n",
        t = esc(title)
    )
}

pub(super) fn legend(s: &mut String, x: f64, y: f64, items: &[(&str, &str)]) {
    let mut x = x;
    for (color, label) in items {
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\" class=\"lg\">{}</text>",
            y - 10.0,
            x + 16.0,
            esc(label)
        );
        x += 28.0 + 7.0 * label.chars().count() as f64;
    }
}

/// Spike raster: one panel per layer, time steps left to right, neurons top to bottom. Large layers are
/// drawn with several neurons per pixel row (the mark shows the largest count among them).
pub fn raster(r: &Raster) -> String {
    let plot_w = WIDTH - LEFT - 30.0;
    let steps = r.steps.max(1);
    let step_w = plot_w / steps as f64;
    let heights: Vec<f64> = r
        .layers
        .iter()
        .map(|l| (l.neurons as f64 * 3.0).clamp(24.0, 150.0))
        .collect();
    let gap = 16.0;
    let top = 34.0;
    let total_h = top + heights.iter().sum::<f64>() + gap * r.layers.len() as f64 + 34.0;
    let mut s = open(
        "fig-raster",
        total_h,
        &format!("Spike raster of {} through every layer", r.input),
    );
    legend(
        &mut s,
        LEFT,
        18.0,
        &[
            (COLOR_REGULAR, "1 spike (regular)"),
            (COLOR_BURST, "2+ spikes (burst; darker = more)"),
        ],
    );
    let mut y = top;
    for (layer, &h) in r.layers.iter().zip(&heights) {
        let neurons = layer.neurons.max(1) as u64;
        let bins = neurons.min(h as u64).max(1);
        let bin_h = h / bins as f64;
        let _ = write!(
            s,
            "<rect x=\"{LEFT:.1}\" y=\"{y:.1}\" width=\"{plot_w:.1}\" height=\"{h:.1}\" fill=\"#f8fafc\" stroke=\"#cbd5e1\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"lab\" text-anchor=\"end\">{}</text>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\" text-anchor=\"end\">{} neurons</text>\n",
            LEFT - 8.0,
            y + 14.0,
            esc(&layer.name),
            LEFT - 8.0,
            y + 28.0,
            group(layer.neurons as u64)
        );
        // Largest count per (step, pixel row): bounds the number of marks by steps x rows.
        let mut cells: BTreeMap<(u32, u64), u32> = BTreeMap::new();
        for e in &layer.events {
            let bin = e.neuron as u64 * bins / neurons;
            let c = cells.entry((e.step, bin)).or_insert(0);
            *c = (*c).max(e.count);
        }
        let max_count = cells.values().copied().max().unwrap_or(1).max(2);
        let mark_w = (step_w * 0.85).max(1.0);
        for ((step, bin), count) in cells {
            let (color, opacity) = if count <= 1 {
                (COLOR_REGULAR, 0.9)
            } else {
                (
                    COLOR_BURST,
                    0.55 + 0.45 * (count - 1) as f64 / (max_count - 1) as f64,
                )
            };
            let _ = writeln!(
                s,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{mark_w:.2}\" height=\"{:.2}\" fill=\"{color}\" fill-opacity=\"{opacity:.2}\"/>",
                LEFT + step as f64 * step_w,
                y + bin as f64 * bin_h,
                bin_h.max(1.0)
            );
        }
        y += h + gap;
    }
    // Time axis under the last panel: steps are 0..T-1 and step t's mark spans
    // [t, t+1) step widths, so a tick sits at its mark's centre and no tick names step T.
    let ticks = tick_values((steps - 1) as f64, 10, true);
    for t in ticks {
        let x = LEFT + (t + 0.5) * step_w;
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#64748b\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{t:.0}</text>",
            y - gap,
            y - gap + 4.0,
            y + 2.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\" text-anchor=\"middle\">time step</text>\n</svg>",
        LEFT + plot_w / 2.0,
        y + 18.0
    );
    s
}

/// Round tick positions from 0 to `max` (at most about `n` of them; whole numbers when `integer`).
pub(super) fn tick_values(max: f64, n: usize, integer: bool) -> Vec<f64> {
    if max <= 0.0 {
        return vec![0.0];
    }
    let raw = max / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(if integer { 1.0 } else { 1e-12 });
    let mut v = Vec::new();
    let mut t = 0.0;
    while t <= max + 1e-9 {
        v.push(t);
        t += step;
    }
    v
}

/// Share of resting / regular / burst neuron-steps per layer (layers without counts are left out).
pub fn mode_shares(layers: &[LayerReport]) -> Option<String> {
    let rows: Vec<(&LayerReport, super::ModeCounts)> = layers
        .iter()
        .filter_map(|l| l.modes.filter(|m| m.total() > 0).map(|m| (l, m)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let row_h = 30.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let top = 34.0;
    let h = top + rows.len() as f64 * row_h + 12.0;
    let mut s = open(
        "fig-modes",
        h,
        "Share of resting, regular and burst neuron-steps per layer",
    );
    legend(
        &mut s,
        LEFT,
        18.0,
        &[
            (COLOR_RESTING, "resting (0 spikes)"),
            (COLOR_REGULAR, "regular (1)"),
            (COLOR_BURST, "burst (2+)"),
        ],
    );
    for (i, (layer, m)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let total = m.total() as f64;
        row_label(&mut s, y, &layer.name);
        let mut x = LEFT;
        for (count, color, light) in [
            (m.resting, COLOR_RESTING, false),
            (m.regular, COLOR_REGULAR, true),
            (m.burst, COLOR_BURST, true),
        ] {
            let w = plot_w * count as f64 / total;
            if w <= 0.0 {
                continue;
            }
            let pct = 100.0 * count as f64 / total;
            let _ = writeln!(
                s,
                "<rect x=\"{x:.2}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{color}\"><title>{pct:.1} %</title></rect>",
                row_h - 8.0
            );
            if w > 44.0 {
                let _ = writeln!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"in{}\" text-anchor=\"middle\">{pct:.1} %</text>",
                    x + w / 2.0,
                    y + 15.5,
                    if light { " light" } else { "" }
                );
            }
            x += w;
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\">{} steps</text>",
            LEFT + plot_w + 6.0,
            y + 15.5,
            group(m.total())
        );
    }
    s.push_str("</svg>\n");
    Some(s)
}

/// Cycles per image per layer, stacked by phase.
pub fn cycle_breakdown(layers: &[LayerReport]) -> Option<String> {
    let rows: Vec<&LayerReport> = layers.iter().filter(|l| !l.cycles.is_empty()).collect();
    if rows.is_empty() {
        return None;
    }
    let mut phases: Vec<&str> = Vec::new();
    for l in &rows {
        for p in &l.cycles {
            if !phases.contains(&p.phase.as_str()) {
                phases.push(&p.phase);
            }
        }
    }
    let color = |phase: &str| {
        let i = phases.iter().position(|p| *p == phase).unwrap_or(0);
        PHASE_COLORS[i % PHASE_COLORS.len()]
    };
    let max_total = rows
        .iter()
        .map(|l| l.cycles.iter().map(|p| p.cycles).sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let row_h = 30.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let top = 34.0;
    let h = top + rows.len() as f64 * row_h + 12.0;
    let mut s = open("fig-cycles", h, "Clock cycles per image by layer and phase");
    let items: Vec<(&str, &str)> = phases.iter().map(|p| (color(p), *p)).collect();
    legend(&mut s, LEFT, 18.0, &items);
    for (i, layer) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        row_label(&mut s, y, &layer.name);
        let mut x = LEFT;
        let mut total = 0;
        for part in &layer.cycles {
            let w = plot_w * part.cycles as f64 / max_total;
            total += part.cycles;
            let _ = writeln!(
                s,
                "<rect x=\"{x:.2}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {} cycles</title></rect>",
                row_h - 8.0,
                color(&part.phase),
                esc(&part.phase),
                group(part.cycles)
            );
            x += w;
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\">{}</text>",
            x + 6.0,
            y + 15.5,
            group(total)
        );
    }
    s.push_str("</svg>\n");
    Some(s)
}

/// Resource use against what the device has.
pub fn resources(r: &SynthResult) -> String {
    let res = &r.resources;
    let rows: [(&str, Usage); 5] = [
        ("logic cells", res.logic_cells),
        ("flip-flops", res.flip_flops),
        ("block RAM", res.block_ram),
        ("DSP", res.dsp),
        ("I/O pins", res.io),
    ];
    let row_h = 30.0;
    let plot_w = WIDTH - LEFT - 150.0;
    let top = 14.0;
    let h = top + rows.len() as f64 * row_h + 8.0;
    let mut s = open(
        "fig-resources",
        h,
        &format!("Resources used on {} ({})", r.target, r.part),
    );
    for (i, (name, u)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"lab\" text-anchor=\"end\">{name}</text>\n\
             <rect x=\"{LEFT:.1}\" y=\"{y:.1}\" width=\"{plot_w:.1}\" height=\"{:.1}\" fill=\"#e2e8f0\"/>",
            LEFT - 8.0,
            y + 16.0,
            row_h - 8.0
        );
        if u.available == 0 {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\">none on this device{}</text>",
                LEFT + 8.0,
                y + 15.5,
                if u.used > 0 { " (but needed)" } else { "" }
            );
            continue;
        }
        let pct = u.percent();
        let w = plot_w * (pct / 100.0).min(1.0);
        let color = if pct >= 90.0 {
            "#dc2626"
        } else if pct >= 70.0 {
            "#d97706"
        } else {
            "#16a34a"
        };
        let _ = writeln!(
            s,
            "<rect x=\"{LEFT:.1}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{color}\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\">{} / {} ({pct:.1} %)</text>",
            row_h - 8.0,
            LEFT + plot_w + 8.0,
            y + 15.5,
            group(u.used),
            group(u.available)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// LUT4 per module of the top level (each with its submodules), bars scaled to the largest, each
/// row named by `names`; the label names every resource of the row.
pub fn module_resources(modules: &[crate::synth::ModuleUsage], names: &[String]) -> Option<String> {
    if modules.is_empty() {
        return None;
    }
    let row_h = 30.0;
    let left = 300.0;
    let plot_w = WIDTH - left - 250.0;
    let top = 14.0;
    let h = top + modules.len() as f64 * row_h + 8.0;
    let max = modules.iter().map(|m| m.lut4).max().unwrap_or(1).max(1) as f64;
    let mut s = open("fig-modules", h, "LUT4 per module of the top level");
    for (i, m) in modules.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let name = match names.get(i) {
            Some(n) if m.instances > 1 => format!("{n} ×{}", m.instances),
            Some(n) => n.clone(),
            None => m.module.clone(),
        };
        let w = (plot_w * m.lut4 as f64 / max).max(1.0);
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"lab\" text-anchor=\"end\">{}</text>\n\
             <rect x=\"{left:.1}\" y=\"{y:.1}\" width=\"{plot_w:.1}\" height=\"{:.1}\" fill=\"#f1f5f9\"/>\n\
             <rect x=\"{left:.1}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{}\"><title>{} LUT4</title></rect>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\">{} LUT4 · {} FF · {} BRAM · {} DSP</text>",
            left - 8.0,
            y + 16.0,
            esc(&name),
            row_h - 8.0,
            row_h - 8.0,
            if m.top_level_logic { COLOR_RESTING } else { COLOR_REGULAR },
            group(m.lut4),
            left + w + 6.0,
            y + 15.5,
            group(m.lut4),
            group(m.flip_flops),
            group(m.block_ram),
            group(m.dsp)
        );
    }
    s.push_str("</svg>\n");
    Some(s)
}

/// One design point of a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DesignPoint {
    pub label: String,
    pub logic_cells: u64,
    pub latency_us: f64,
}

/// Indices of the points no other point beats in both logic cells and latency.
pub fn pareto_front(points: &[DesignPoint]) -> Vec<usize> {
    (0..points.len())
        .filter(|&i| {
            let p = &points[i];
            !points.iter().any(|q| {
                q.logic_cells <= p.logic_cells
                    && q.latency_us <= p.latency_us
                    && (q.logic_cells < p.logic_cells || q.latency_us < p.latency_us)
            })
        })
        .collect()
}

/// The logic cells a device has, drawn as a line on the Pareto plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// The device, as the line's label names it (e.g. "iCE40UP5K").
    pub device: String,
    pub logic_cells: u64,
}

/// Latency against logic cells, Pareto-optimal points joined by a line; with `capacity`, a
/// vertical line at the device's logic cells (the x axis reaches it).
pub fn pareto(points: &[DesignPoint], capacity: Option<&Capacity>) -> String {
    let h = 380.0;
    let (l, r, t, b) = (80.0, 40.0, 20.0, 50.0);
    let plot_w = WIDTH - l - r;
    let plot_h = h - t - b;
    let max_x = points
        .iter()
        .map(|p| p.logic_cells)
        .chain(capacity.map(|c| c.logic_cells))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let max_y = points
        .iter()
        .map(|p| p.latency_us)
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1;
    let px = |x: f64| l + plot_w * x / max_x;
    let py = |y: f64| t + plot_h * (1.0 - y / max_y);
    let mut s = open("fig-pareto", h, "Latency versus logic cells");
    let _ = writeln!(
        s,
        "<rect x=\"{l}\" y=\"{t}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"#f8fafc\" stroke=\"#cbd5e1\"/>"
    );
    for v in tick_values(max_x, 6, true) {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            px(v),
            t + plot_h + 16.0,
            group(v as u64)
        );
    }
    for v in tick_values(max_y, 5, false) {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{v:.1}</text>",
            l - 6.0,
            py(v) + 4.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\" text-anchor=\"middle\">logic cells</text>\
         <text x=\"16\" y=\"{:.1}\" class=\"sub\" transform=\"rotate(-90 16 {:.1})\" text-anchor=\"middle\">latency (µs/image)</text>",
        l + plot_w / 2.0,
        h - 10.0,
        t + plot_h / 2.0,
        t + plot_h / 2.0
    );
    if let Some(c) = capacity {
        let x = px(c.logic_cells as f64);
        let _ = writeln!(
            s,
            "<line id=\"capacity-line\" x1=\"{x:.1}\" y1=\"{t:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#b91c1c\" stroke-width=\"2\" stroke-dasharray=\"6 4\"><title>{} has {} logic cells</title></line>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}: {} logic cells</text>",
            t + plot_h,
            esc(&c.device),
            group(c.logic_cells),
            x - 4.0,
            t + 14.0,
            esc(&c.device),
            group(c.logic_cells)
        );
    }
    let mut front = pareto_front(points);
    front.sort_by_key(|&i| points[i].logic_cells);
    let path: Vec<String> = front
        .iter()
        .map(|&i| {
            format!(
                "{:.1},{:.1}",
                px(points[i].logic_cells as f64),
                py(points[i].latency_us)
            )
        })
        .collect();
    if path.len() > 1 {
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{COLOR_BURST}\" stroke-width=\"2\"/>",
            path.join(" ")
        );
    }
    for (i, p) in points.iter().enumerate() {
        let on = front.contains(&i);
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\"><title>{}</title></circle>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">{}</text>",
            px(p.logic_cells as f64),
            py(p.latency_us),
            if on { COLOR_BURST } else { COLOR_REGULAR },
            esc(&p.label),
            px(p.logic_cells as f64) + 7.0,
            py(p.latency_us) - 6.0,
            esc(&p.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A row's name, right-aligned left of the bars.
fn row_label(s: &mut String, y: f64, name: &str) {
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"lab\" text-anchor=\"end\">{}</text>",
        LEFT - 8.0,
        y + 16.0,
        esc(name)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_escaping() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(7_612_000), "7,612,000");
        assert_eq!(esc("<a&\"b'>"), "&lt;a&amp;&quot;b&#39;&gt;");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            tick_values(100.0, 10, true),
            (0..=10).map(|i| i as f64 * 10.0).collect::<Vec<_>>()
        );
        assert_eq!(tick_values(4.0, 10, true).len(), 5);
        assert_eq!(
            tick_values(1.0, 5, false),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
    }

    #[test]
    fn pareto_front_drops_dominated_points() {
        let p = |c, l| DesignPoint {
            label: String::new(),
            logic_cells: c,
            latency_us: l,
        };
        let pts = vec![
            p(100, 10.0),
            p(200, 5.0),
            p(250, 6.0),
            p(300, 1.0),
            p(100, 12.0),
        ];
        assert_eq!(pareto_front(&pts), vec![0, 1, 3]);
    }
}
