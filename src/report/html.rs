//! The report page: one HTML file with inline CSS and inline SVG, no script and no external
//! resource. The page is the askama template `templates/report/report.html`; this module turns
//! the data into what the template shows (formatted numbers, table rows, figures).

use super::svg::{self, group};
use super::{training, Derived, ReportData, Reproducibility};
use crate::synth::{ModuleUsage, SynthResult, Usage};
use askama::Template;

/// Escapes text for the page exactly as the SVG figures do ([`svg::esc`]), so one rule holds for
/// everything on the page (askama.toml names this escaper for `.html` templates).
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlEscaper;

impl askama::filters::Escaper for HtmlEscaper {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        dest.write_str(&svg::esc(text))
    }
}

/// A figure shown on the page: plain text where the template escapes it, `text: None` for n/a.
#[derive(Debug, Clone, Default)]
struct Value {
    text: Option<String>,
    unit: String,
    /// A CSS class for the text ("ok", "bad", "na"), or empty.
    class: &'static str,
}

impl Value {
    fn plain(text: impl Into<String>) -> Value {
        Value {
            text: Some(text.into()),
            ..Value::default()
        }
    }
    fn with_unit(text: Option<String>, unit: impl Into<String>) -> Value {
        Value {
            text,
            unit: unit.into(),
            class: "",
        }
    }
    fn classed(text: &str, class: &'static str) -> Value {
        Value {
            text: Some(text.into()),
            unit: String::new(),
            class,
        }
    }
}

fn pct(v: Option<f64>) -> Value {
    Value::with_unit(v.map(|v| format!("{:.2} %", 100.0 * v)), "")
}

fn num(v: Option<f64>, decimals: usize, unit: &str) -> Value {
    Value::with_unit(v.map(|v| format!("{v:.decimals$}")), unit)
}

/// A count-like figure rounded to a whole number, with thousands separators.
fn whole(v: Option<f64>, unit: &str) -> Value {
    Value::with_unit(v.map(|v| group(v.max(0.0).round() as u64)), unit)
}

struct Card {
    key: &'static str,
    value: Value,
}

struct AccuracyRow {
    name: &'static str,
    accuracy: Value,
    images: Value,
}

struct VerificationView {
    spike_exact: bool,
    inputs: String,
    detail: String,
}

/// A section with a figure, its caption and an optional table under it. A table without a
/// header is a list of (what, value) rows.
struct Figure {
    heading: String,
    svg: String,
    caption: String,
    header: Vec<&'static str>,
    table: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "report/report.html", syntax = "default")]
struct Page<'a> {
    title: &'a str,
    model: Option<&'a str>,
    cards: Vec<Card>,
    flags: Vec<String>,
    accuracy: Vec<AccuracyRow>,
    verification: Option<VerificationView>,
    timing: Vec<(&'static str, Value)>,
    training: Option<String>,
    training_note: String,
    figures: Vec<Figure>,
    energy: Option<String>,
    notes: &'a [String],
    repro: Option<&'a Reproducibility>,
}

pub fn page(d: &ReportData, x: &Derived) -> String {
    let training = d.training.as_deref().and_then(training::figure);
    let training_note = d.training_note.clone().unwrap_or_else(|| {
        "No training curve: the model records no training history (the meta \"train_history\" that \
         lifb-hdl train writes; imported and hand-made models have none)."
            .into()
    });
    Page {
        title: &d.title,
        model: d.model.as_deref(),
        cards: cards(d, x),
        flags: d.synth.as_ref().map(summary_flags).unwrap_or_default(),
        accuracy: accuracy_rows(d),
        verification: d.verification.as_ref().map(|v| VerificationView {
            spike_exact: v.spike_exact,
            inputs: group(v.inputs_checked),
            detail: v.detail.clone(),
        }),
        timing: timing_rows(d, x),
        training,
        training_note,
        figures: figures(d),
        energy: x.energy_uj_per_image.map(|e| {
            let m = &d.energy_model;
            format!(
                "{e:.3} µJ per image = {} synaptic operations × {} pJ + {} neuron updates × {} pJ. \
                 Constants: {}. These are ASIC per-operation figures: an FPGA spends more per operation, so \
                 this is a floor for comparing designs, not the energy this device draws.",
                group(d.synaptic_ops_per_image.unwrap_or(0.0).round() as u64),
                m.pj_per_synaptic_op,
                group(d.neuron_updates_per_image.unwrap_or(0.0).round() as u64),
                m.pj_per_neuron_update,
                m.source
            )
        }),
        notes: &d.notes,
        repro: d.reproducibility.as_ref(),
    }
    .render()
    .expect("the report template renders (its values are plain strings and numbers)")
}

/// The headline figures.
fn cards(d: &ReportData, x: &Derived) -> Vec<Card> {
    // The headline is the integer model on the whole evaluation set: the RTL figure covers only
    // the co-simulated images, and where it is spike-exact it equals the integer model there.
    let best_acc = d.accuracy.integer.or(d.accuracy.rtl).or(d.accuracy.float);
    let verdict = match &d.verification {
        Some(v) if v.spike_exact => Value::classed("spike-exact", "ok"),
        Some(_) => Value::classed("MISMATCH", "bad"),
        None => Value::classed("not run", "na"),
    };
    // used / available of one synthesized resource, or n/a without synthesis
    let usage = |f: fn(&SynthResult) -> Usage| {
        let u = d.synth.as_ref().map(f);
        Value::with_unit(
            u.map(|u| group(u.used)),
            u.map_or(String::new(), |u| format!("/ {}", group(u.available))),
        )
    };
    vec![
        Card {
            key: "accuracy",
            value: pct(best_acc),
        },
        Card {
            key: "RTL vs golden",
            value: verdict,
        },
        Card {
            key: "latency",
            value: num(x.latency_us, 2, "µs/image"),
        },
        Card {
            key: "throughput",
            value: whole(x.images_per_s, "images/s"),
        },
        Card {
            key: "fmax",
            value: num(x.fmax_mhz, 1, "MHz"),
        },
        Card {
            key: "logic cells",
            value: usage(|r| r.resources.logic_cells),
        },
        Card {
            key: "block RAM",
            value: usage(|r| r.resources.block_ram),
        },
        Card {
            key: "energy (ASIC-constant estimate)",
            value: num(x.energy_uj_per_image, 3, "µJ/image"),
        },
    ]
}

/// Each row states its own image count: the RTL is co-simulated on fewer images than the golden
/// models are evaluated on, so one caption count would misstate some rows.
fn accuracy_rows(d: &ReportData) -> Vec<AccuracyRow> {
    let a = &d.accuracy;
    if a.float.is_none() && a.integer.is_none() && a.decoupled.is_none() && a.rtl.is_none() {
        return Vec::new();
    }
    let count = |n: Option<u64>| Value::with_unit(n.map(group), "");
    [
        ("float", a.float, a.images),
        ("integer (quantized)", a.integer, a.images),
        ("decoupled (LIF only)", a.decoupled, a.images),
        ("RTL (co-simulated)", a.rtl, a.rtl_images),
    ]
    .into_iter()
    .map(|(name, acc, images)| AccuracyRow {
        name,
        accuracy: pct(acc),
        images: count(acc.and(images)),
    })
    .collect()
}

fn timing_rows(d: &ReportData, x: &Derived) -> Vec<(&'static str, Value)> {
    if d.cycles_per_image.is_none() && x.fmax_mhz.is_none() {
        return Vec::new();
    }
    let mut rows = Vec::new();
    if let Some(t) = d.steps {
        rows.push(("time steps per image", Value::plain(group(t as u64))));
    }
    if let Some(c) = d.cycles_per_image {
        rows.push(("clock cycles per image", Value::plain(group(c))));
    }
    if let Some(lb) = d.lower_bound_cycles {
        let ratio = x
            .cycles_over_lower_bound
            .map_or(String::new(), |r| format!(" (measured = {r:.2} × bound)"));
        rows.push((
            "lower bound (cycles)",
            Value::plain(format!("{}{ratio}", group(lb))),
        ));
    }
    if let Some(note) = &d.lower_bound_note {
        rows.push(("bound assumes", Value::plain(note.clone())));
    }
    rows.push(("fmax (slowest clock)", num(x.fmax_mhz, 2, "MHz")));
    rows.push(("latency at fmax", num(x.latency_us, 3, "µs/image")));
    rows.push(("throughput at fmax", whole(x.images_per_s, "images/s")));
    rows
}

fn figure(heading: impl Into<String>, svg: String, caption: impl Into<String>) -> Figure {
    Figure {
        heading: heading.into(),
        svg,
        caption: caption.into(),
        header: Vec::new(),
        table: Vec::new(),
    }
}

/// The figures after the training curve, in page order.
fn figures(d: &ReportData) -> Vec<Figure> {
    let mut out = Vec::new();
    if let Some(r) = &d.raster {
        out.push(figure(
            "Spikes of one input",
            svg::raster(r),
            format!(
                "{}: spikes per neuron and time step in every layer. Blue marks one spike, orange a burst of \
                 several. Steps are numbered from 0.{}",
                r.input,
                r.note.as_ref().map_or(String::new(), |n| format!(" {n}"))
            ),
        ));
    }
    if let Some(f) = svg::mode_shares(&d.layers) {
        out.push(figure(
            "Neuron modes per layer",
            f,
            "Each neuron at each time step rests (no spike), fires regularly (one spike) or bursts \
             (several spikes); shares over all evaluated inputs.",
        ));
    }
    if let Some(f) = svg::cycle_breakdown(&d.layers) {
        out.push(figure(
            "Cycles per layer",
            f,
            "Clock cycles per image each engine is busy, by phase. The engines run at the same time \
             (pipelined), so the bars overlap in time and do not add up to the cycles per image.",
        ));
    }
    if let Some(r) = &d.synth {
        let mut f = figure(
            format!(
                "Resources on {} ({} {})",
                r.target.name(),
                r.part,
                r.package
            ),
            svg::resources(r),
            format!(
                "Used against available after place and route ({} back end).",
                r.backend
            ),
        );
        f.table = synth_details(r);
        out.push(f);
        if let Some(m) = module_figure(r, &d.layers) {
            out.push(m);
        }
    }
    out
}

/// Resources per module, with how they were measured and how they relate to the headline.
fn module_figure(r: &SynthResult, layers: &[super::LayerReport]) -> Option<Figure> {
    // An engine's row names the layer it computes, as the other figures name it.
    let name = |m: &ModuleUsage| {
        let layer = layers
            .iter()
            .find(|l| l.engine_module.as_deref() == Some(m.module.as_str()));
        match layer {
            _ if m.top_level_logic => format!("{} (top level's own logic)", m.module),
            Some(l) => format!("{}: {}", m.module, l.name),
            None => m.module.clone(),
        }
    };
    let names: Vec<String> = r.modules.iter().map(name).collect();
    let svg = svg::module_resources(&r.modules, &names)?;
    let sum = |f: fn(&ModuleUsage) -> u64| r.modules.iter().map(f).sum::<u64>();
    let (lut4, ff, bram) = (sum(|m| m.lut4), sum(|m| m.flip_flops), sum(|m| m.block_ram));
    let mut f = figure(
        "Resources per module",
        svg,
        format!(
            "LUT4 per module of the top level, each with everything instantiated inside it; the top \
             level's own logic (readout, glue) is a row of its own. Measured by synthesizing the design \
             a second time without flattening (Yosys synth -noflatten, stat per module), so no \
             optimisation crosses a module boundary: the rows add up to {} LUT4, {} flip-flops and {} \
             block RAM, where the flat synthesis that was placed has {} LUT4, {} flip-flops and {} block \
             RAM{}.",
            group(lut4),
            group(ff),
            group(bram),
            group(r.resources.lut4),
            group(r.resources.flip_flops.used),
            group(r.resources.block_ram.used),
            if r.io_wrapper.is_some() {
                " (the flat figures include the I/O scan wrapper; the rows do not)"
            } else {
                ""
            }
        ),
    );
    f.header = vec![
        "module",
        "instances",
        "LUT4",
        "carry",
        "flip-flops",
        "block RAM",
        "DSP",
        "cells",
    ];
    f.table = r
        .modules
        .iter()
        .zip(names)
        .map(|(m, name)| {
            let mut row = vec![name];
            row.extend(
                [
                    m.instances,
                    m.lut4,
                    m.carry,
                    m.flip_flops,
                    m.block_ram,
                    m.dsp,
                    m.cells,
                ]
                .map(group),
            );
            row
        })
        .collect();
    Some(f)
}

/// Facts that qualify the headline figures, shown right under them: a clock that missed its
/// target (the fmax card alone reads as a success) and resources that include the scan wrapper.
fn summary_flags(r: &SynthResult) -> Vec<String> {
    let mut flags: Vec<String> = r
        .fmax
        .iter()
        .filter(|c| !c.met)
        .map(|c| {
            format!(
                "fmax target missed: clock {} reaches {:.1} MHz of the {:.1} MHz target",
                c.clock, c.achieved_mhz, c.constraint_mhz
            )
        })
        .collect();
    if let Some(w) = &r.io_wrapper {
        flags.push(format!(
            "resources include the I/O scan wrapper (+{} flip-flops): the design's {} port bits exceed \
             the package's {} pins",
            group(w.added_flip_flops),
            group(w.core_port_bits),
            group(w.package_pins)
        ));
    }
    flags
}

fn synth_details(r: &SynthResult) -> Vec<Vec<String>> {
    let mut rows = vec![
        vec!["top module".to_string(), r.top.clone()],
        vec!["Yosys".into(), r.tools.yosys.clone()],
        vec!["nextpnr".into(), r.tools.nextpnr.clone()],
        vec![
            "LUT4 / carry (Yosys)".into(),
            format!("{} / {}", group(r.resources.lut4), group(r.resources.carry)),
        ],
    ];
    if let Some(w) = &r.io_wrapper {
        rows.push(vec![
            "I/O wrapper".into(),
            format!(
                "{} port bits > {} pins: measured inside a scan wrapper (+{} flip-flops, included above)",
                w.core_port_bits, w.package_pins, w.added_flip_flops
            ),
        ]);
    }
    for c in &r.fmax {
        rows.push(vec![
            format!("fmax {}", c.clock),
            format!(
                "{:.2} MHz (target {:.1} MHz, {})",
                c.achieved_mhz,
                c.constraint_mhz,
                if c.met { "met" } else { "missed" }
            ),
        ]);
    }
    rows
}
