//! The training curve: loss and accuracy per epoch, as `lifb-hdl train` records them in the
//! model's meta (`train_history`), and its figure.

use super::svg::{esc, legend, open, tick_values, COLOR_BURST, COLOR_REGULAR, WIDTH};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One epoch of training (accuracies are fractions 0..1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochPoint {
    pub epoch: u32,
    pub loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    /// Trained with quantization-aware (fake-quantized) weights.
    #[serde(default)]
    pub qat: bool,
}

/// Most epochs a figure draws; a longer history is refused rather than drawn unreadably.
const MAX_EPOCHS: usize = 100_000;

/// The training history in a model's meta: `Ok(None)` when the model records none, an error
/// text (for a note on the page) when it records one that cannot be shown honestly.
pub fn from_meta(
    meta: &BTreeMap<String, serde_json::Value>,
) -> std::result::Result<Option<Vec<EpochPoint>>, String> {
    let Some(v) = meta.get("train_history") else {
        return Ok(None);
    };
    let points: Vec<EpochPoint> = serde_json::from_value(v.clone()).map_err(|e| {
        format!("the model's meta \"train_history\" is not a list of epochs with loss and accuracies ({e})")
    })?;
    check(&points)?;
    Ok((!points.is_empty()).then_some(points))
}

/// Finite values, fractions within 0..1, epochs in increasing order.
pub fn check(points: &[EpochPoint]) -> std::result::Result<(), String> {
    if points.len() > MAX_EPOCHS {
        return Err(format!(
            "the training history has {} epochs, more than the {MAX_EPOCHS} a figure shows",
            points.len()
        ));
    }
    for (k, p) in points.iter().enumerate() {
        let fraction = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if !p.loss.is_finite() || !fraction(p.train_accuracy) || !fraction(p.test_accuracy) {
            return Err(format!(
                "training history epoch {}: loss {} and accuracies {} / {} must be finite, accuracies fractions 0..1",
                p.epoch, p.loss, p.train_accuracy, p.test_accuracy
            ));
        }
        if k > 0 && p.epoch <= points[k - 1].epoch {
            return Err(format!(
                "training history: epoch {} follows epoch {} (epochs must increase)",
                p.epoch,
                points[k - 1].epoch
            ));
        }
    }
    Ok(())
}

const COLOR_LOSS: &str = "#0f766e";

/// One line of a panel: its colour, the value it draws and its name.
type Series = (&'static str, fn(&EpochPoint) -> f64, &'static str);
const COLOR_QAT: &str = "#fef3c7";

/// Two panels over the epochs: the loss, and the train and test accuracy. Epochs trained
/// quantization-aware are shaded.
pub fn figure(points: &[EpochPoint]) -> Option<String> {
    let first = points.first()?.epoch as f64;
    let last = points.last()?.epoch as f64;
    let (l, r) = (80.0, 30.0);
    let plot_w = WIDTH - l - r;
    let panel_h = 150.0;
    let top = 34.0;
    let gap = 34.0;
    let h = top + 2.0 * panel_h + gap + 40.0;
    let span = (last - first).max(1.0);
    // Each epoch owns a slot of width plot_w / epochs; its point sits at the slot's centre.
    let slot = plot_w / (span + 1.0);
    let px = |e: f64| l + slot * (e - first + 0.5);
    let mut s = open(
        "fig-training",
        h,
        "Training curve: loss and accuracy per epoch",
    );
    let mut items = vec![
        (COLOR_LOSS, "loss"),
        (COLOR_REGULAR, "train accuracy"),
        (COLOR_BURST, "test accuracy"),
    ];
    if points.iter().any(|p| p.qat) {
        items.push((COLOR_QAT, "quantization-aware epochs"));
    }
    legend(&mut s, l, 18.0, &items);
    let max_loss = points.iter().map(|p| p.loss).fold(0.0, f64::max).max(1e-9) * 1.1;
    let min_loss = points.iter().map(|p| p.loss).fold(0.0, f64::min);
    let min_acc = points
        .iter()
        .map(|p| p.train_accuracy.min(p.test_accuracy))
        .fold(1.0, f64::min);
    // Accuracy axis from a round tenth below the lowest value to 100 %.
    let acc_lo = (min_acc * 10.0).floor() / 10.0;
    let panels: [(f64, f64, f64, &str); 2] = [
        (top, min_loss, max_loss, "loss"),
        (top + panel_h + gap, acc_lo, 1.0, "accuracy (%)"),
    ];
    for (y0, lo, hi, name) in panels {
        let _ = writeln!(
            s,
            "<rect x=\"{l:.1}\" y=\"{y0:.1}\" width=\"{plot_w:.1}\" height=\"{panel_h:.1}\" fill=\"#f8fafc\" stroke=\"#cbd5e1\"/>"
        );
        for p in points.iter().filter(|p| p.qat) {
            let _ = writeln!(
                s,
                "<rect x=\"{:.2}\" y=\"{y0:.1}\" width=\"{slot:.2}\" height=\"{panel_h:.1}\" fill=\"{COLOR_QAT}\"/>",
                px(p.epoch as f64) - slot / 2.0
            );
        }
        let py = |v: f64| y0 + panel_h * (1.0 - (v - lo) / (hi - lo).max(1e-12));
        let pct = name.starts_with("accuracy");
        for v in tick_values(hi - lo, 4, false) {
            let v = lo + v;
            let label = if pct {
                format!("{:.0}", 100.0 * v)
            } else {
                format!("{v:.2}")
            };
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{label}</text>",
                l - 6.0,
                py(v) + 4.0
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"16\" y=\"{:.1}\" class=\"sub\" transform=\"rotate(-90 16 {:.1})\" text-anchor=\"middle\">{}</text>",
            y0 + panel_h / 2.0,
            y0 + panel_h / 2.0,
            esc(name)
        );
        let series: Vec<Series> = if pct {
            vec![
                (COLOR_REGULAR, |p| p.train_accuracy, "train accuracy"),
                (COLOR_BURST, |p| p.test_accuracy, "test accuracy"),
            ]
        } else {
            vec![(COLOR_LOSS, |p| p.loss, "loss")]
        };
        for (color, value, what) in series {
            let path: Vec<String> = points
                .iter()
                .map(|p| format!("{:.1},{:.1}", px(p.epoch as f64), py(value(p))))
                .collect();
            let _ = writeln!(
                s,
                "<polyline class=\"series\" points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"><title>{what}</title></polyline>",
                path.join(" ")
            );
            for p in points {
                let shown = if pct {
                    format!("{:.2} %", 100.0 * value(p))
                } else {
                    format!("{:.4}", value(p))
                };
                let _ = writeln!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"><title>epoch {}: {what} {shown}</title></circle>",
                    px(p.epoch as f64),
                    py(value(p)),
                    p.epoch
                );
            }
        }
    }
    let axis_y = top + 2.0 * panel_h + gap;
    for t in tick_values(span, 10, true) {
        let e = first + t;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{e:.0}</text>",
            px(e),
            axis_y + 16.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\" text-anchor=\"middle\">epoch</text>\n</svg>",
        l + plot_w / 2.0,
        axis_y + 34.0
    );
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(history: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        [("train_history".to_string(), history)].into()
    }

    #[test]
    fn history_from_meta() {
        assert_eq!(from_meta(&BTreeMap::new()), Ok(None));
        let m = meta(serde_json::json!([
            {"epoch": 1, "loss": 0.5, "train_accuracy": 0.8, "test_accuracy": 0.82, "qat": false},
            {"epoch": 2, "loss": 0.3, "train_accuracy": 0.9, "test_accuracy": 0.91, "qat": true}
        ]));
        let h = from_meta(&m).unwrap().unwrap();
        assert_eq!(h.len(), 2);
        assert!(h[1].qat && !h[0].qat);
        let fig = figure(&h).unwrap();
        assert!(fig.starts_with("<svg id=\"fig-training\""));
        assert_eq!(fig.matches("<polyline").count(), 3, "loss, train and test");
        assert_eq!(fig.matches("<circle").count(), 6);
        assert!(fig.contains("epoch 2: test accuracy 91.00 %"));
    }

    #[test]
    fn unreadable_histories_are_explained() {
        let e = from_meta(&meta(serde_json::json!("none"))).unwrap_err();
        assert!(e.contains("train_history"), "{e}");
        let e = from_meta(&meta(serde_json::json!([
            {"epoch": 1, "loss": 0.5, "train_accuracy": 80.0, "test_accuracy": 0.8}
        ])))
        .unwrap_err();
        assert!(e.contains("fractions"), "{e}");
        let e = from_meta(&meta(serde_json::json!([
            {"epoch": 2, "loss": 0.5, "train_accuracy": 0.8, "test_accuracy": 0.8},
            {"epoch": 1, "loss": 0.5, "train_accuracy": 0.8, "test_accuracy": 0.8}
        ])))
        .unwrap_err();
        assert!(e.contains("increase"), "{e}");
        assert_eq!(from_meta(&meta(serde_json::json!([]))), Ok(None));
    }
}
