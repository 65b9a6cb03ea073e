//! The study's figures, from results.json alone: per data set and architecture, the integer
//! model's test accuracy (what the hardware computes) against T and against the cycle model's
//! cycles per image, one line per neuron, error bars mean ± std over the seeds. Plain SVG with
//! fixed number formatting: the same results give the same bytes.

use super::summary::{Group, Results};
use crate::report::svg::{esc, COLOR_BURST, COLOR_REGULAR};
use std::fmt::Write as _;

const OTHER_COLORS: [&str; 4] = ["#0f766e", "#7c3aed", "#ca8a04", "#db2777"];
const W: f64 = 640.0;
const H: f64 = 400.0;
/// Plot margins: left, right (legend), top (title), bottom.
const L: f64 = 70.0;
const R: f64 = 150.0;
const T: f64 = 36.0;
const B: f64 = 50.0;

struct Point {
    x: f64,
    x_err: f64,
    y: f64,
    y_err: f64,
    label: String,
}

struct Series {
    name: String,
    color: &'static str,
    points: Vec<Point>,
}

/// (file name, SVG) for every figure: acc-vs-T_<data>_<arch>.svg, acc-vs-cycles_<data>_<arch>.svg.
pub fn all(r: &Results) -> Vec<(String, String)> {
    let mut keys: Vec<(&str, &str)> = r
        .groups
        .iter()
        .map(|g| (g.data.as_str(), g.arch.as_str()))
        .collect();
    keys.dedup();
    let mut out = Vec::new();
    for (data, arch) in keys {
        let groups: Vec<&Group> = r
            .groups
            .iter()
            .filter(|g| g.data == data && g.arch == arch)
            .collect();
        let series = |x: &dyn Fn(&Group) -> (f64, f64), label: &dyn Fn(&Group) -> String| {
            let mut bursts: Vec<u32> = groups.iter().map(|g| g.burst).collect();
            bursts.sort_unstable();
            bursts.dedup();
            let mut others = OTHER_COLORS.iter();
            bursts
                .iter()
                .map(|&b| Series {
                    name: format!("{} B={b}", super::neuron_name(b)),
                    color: match b {
                        1 => COLOR_REGULAR,
                        3 => COLOR_BURST,
                        _ => others.next().copied().unwrap_or("#334155"),
                    },
                    points: groups
                        .iter()
                        .filter(|g| g.burst == b)
                        .map(|g| {
                            let (x, x_err) = x(g);
                            Point {
                                x,
                                x_err,
                                y: g.integer_accuracy.mean,
                                y_err: g.integer_accuracy.std,
                                label: label(g),
                            }
                        })
                        .collect(),
                })
                .collect::<Vec<_>>()
        };
        let what = format!("{data}, {arch}: 4-bit integer test accuracy");
        out.push((
            format!("acc-vs-T_{data}_{arch}.svg"),
            plot(
                &format!("{what} against time steps T"),
                "time steps T (log scale)",
                &series(&|g| ((g.steps as f64).log2(), 0.0), &|_| String::new()),
                |x| format!("{}", 2f64.powf(x).round()),
                true,
            ),
        ));
        out.push((
            format!("acc-vs-cycles_{data}_{arch}.svg"),
            plot(
                &format!("{what} against cycles per image"),
                "cycles per image (cycle model, default lanes)",
                &series(&|g| (g.cycles.mean, g.cycles.std), &|g| {
                    format!("T={}", g.steps)
                }),
                |x| crate::report::svg::group(x.round() as u64),
                false,
            ),
        ));
    }
    out
}

/// Nice ticks covering [lo, hi].
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let raw = (hi - lo).max(1e-9) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // A relative tolerance: (0.9 - 0.3) / 3 is 0.20000000000000004 in f64, and 0.2 must do.
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    // Integer multiples of the step (no drift from repeated addition).
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn plot(
    title: &str,
    xlabel: &str,
    series: &[Series],
    xfmt: impl Fn(f64) -> String,
    x_is_log2_steps: bool,
) -> String {
    let pts = || series.iter().flat_map(|s| s.points.iter());
    let fold = |f: &dyn Fn(&Point) -> f64, min: bool| {
        pts().map(f).fold(
            if min {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            },
            |a, b| {
                if min {
                    a.min(b)
                } else {
                    a.max(b)
                }
            },
        )
    };
    let (mut x0, mut x1) = (
        fold(&|p| p.x - p.x_err, true),
        fold(&|p| p.x + p.x_err, false),
    );
    let (mut y0, mut y1) = (
        fold(&|p| p.y - p.y_err, true),
        fold(&|p| p.y + p.y_err, false),
    );
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 100.0);
    }
    let pad = |a: &mut f64, b: &mut f64, frac: f64, min_span: f64| {
        let span = (*b - *a).max(min_span);
        let mid = (*a + *b) / 2.0;
        *a = mid - span * (0.5 + frac);
        *b = mid + span * (0.5 + frac);
    };
    pad(&mut x0, &mut x1, 0.08, 1.0);
    pad(&mut y0, &mut y1, 0.1, 0.2);
    y1 = y1.min(100.0);
    let pw = W - L - R;
    let ph = H - T - B;
    let px = |x: f64| L + pw * (x - x0) / (x1 - x0);
    let py = |y: f64| T + ph * (1.0 - (y - y0) / (y1 - y0));
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W:.0}\" height=\"{H:.0}\" \
         viewBox=\"0 0 {W:.0} {H:.0}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>\n",
        t = esc(title)
    );
    let _ = writeln!(
        s,
        "<style>text{{font:12px sans-serif;fill:#0f172a}} .tick{{font-size:11px;fill:#475569}}</style>\n\
         <text x=\"{L}\" y=\"20\" font-weight=\"bold\">{}</text>\n\
         <rect x=\"{L}\" y=\"{T}\" width=\"{pw:.1}\" height=\"{ph:.1}\" fill=\"#f8fafc\" stroke=\"#cbd5e1\"/>",
        esc(title)
    );
    let xt: Vec<f64> = if x_is_log2_steps {
        (x0.ceil() as i64..=x1.floor() as i64)
            .map(|v| v as f64)
            .collect()
    } else {
        ticks(x0, x1, 5)
    };
    for v in xt {
        let _ = writeln!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{T}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#e2e8f0\"/>\
             <text x=\"{0:.1}\" y=\"{2:.1}\" class=\"tick\" text-anchor=\"middle\">{3}</text>",
            px(v),
            T + ph,
            T + ph + 16.0,
            esc(&xfmt(v))
        );
    }
    for v in ticks(y0, y1, 6) {
        let _ = writeln!(
            s,
            "<line x1=\"{L}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#e2e8f0\"/>\
             <text x=\"{2:.1}\" y=\"{3:.1}\" class=\"tick\" text-anchor=\"end\">{v:.1}</text>",
            py(v),
            L + pw,
            L - 6.0,
            py(v) + 4.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text x=\"16\" y=\"{:.1}\" transform=\"rotate(-90 16 {:.1})\" text-anchor=\"middle\">test accuracy (%), mean ± std over seeds</text>",
        L + pw / 2.0,
        H - 12.0,
        esc(xlabel),
        T + ph / 2.0,
        T + ph / 2.0
    );
    for (si, ser) in series.iter().enumerate() {
        let path: Vec<String> = ser
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p.x), py(p.y)))
            .collect();
        let c = ser.color;
        if path.len() > 1 {
            let _ = writeln!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>",
                path.join(" ")
            );
        }
        for p in &ser.points {
            let (x, y) = (px(p.x), py(p.y));
            let _ = writeln!(
                s,
                "<line class=\"err\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{c}\"/>\
                 <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{c}\"/>\
                 <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{c}\"/>",
                py(p.y - p.y_err),
                py(p.y + p.y_err),
                x - 4.0,
                py(p.y - p.y_err),
                x + 4.0,
                py(p.y - p.y_err),
                x - 4.0,
                py(p.y + p.y_err),
                x + 4.0,
                py(p.y + p.y_err)
            );
            if p.x_err > 0.0 {
                let _ = writeln!(
                    s,
                    "<line class=\"err\" x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{c}\"/>",
                    px(p.x - p.x_err),
                    px(p.x + p.x_err)
                );
            }
            let _ = writeln!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{c}\"><title>{}: {:.2} ± {:.2} %</title></circle>",
                esc(&format!("{} {}", ser.name, p.label)),
                p.y,
                p.y_err
            );
            if !p.label.is_empty() {
                let _ = writeln!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">{}</text>",
                    x + 6.0,
                    y - 6.0,
                    esc(&p.label)
                );
            }
        }
        let ly = T + 14.0 + 20.0 * si as f64;
        let _ = writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{c}\"/>\
             <text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
            L + pw + 14.0,
            ly - 10.0,
            L + pw + 30.0,
            esc(&ser.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_range_with_round_steps() {
        let close = |got: Vec<f64>, want: &[f64]| {
            assert_eq!(got.len(), want.len(), "{got:?} against {want:?}");
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-9, "{got:?} against {want:?}");
            }
        };
        close(ticks(96.0, 98.5, 5), &[96.0, 96.5, 97.0, 97.5, 98.0, 98.5]);
        close(ticks(0.3, 0.9, 3), &[0.4, 0.6, 0.8]);
        close(ticks(0.0, 1.0, 4), &[0.0, 0.5, 1.0]);
    }
}
