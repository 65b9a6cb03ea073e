//! report.json and report.html: content, determinism, and rendering in headless Chromium.

use crate::common;

use crate::common::{eda_required, fixture, read_json, skip, Scratch};
use lifb_hdl::error::ErrorKind;
use lifb_hdl::report::{
    self, CyclePart, EpochPoint, LayerReport, ModeCounts, Raster, RasterLayer, ReportData,
    Reproducibility, SpikeEvent, ToolVersion, Verification,
};
use lifb_hdl::synth::{ModuleUsage, SynthResult};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A synth.json from a real run (Debian yosys 0.23 + nextpnr-ice40 on tests/fixtures/synth/lif_layer).
fn synth_result() -> SynthResult {
    serde_json::from_slice(&std::fs::read(fixture(&["report", "synth.json"])).unwrap()).unwrap()
}

/// Report data shaped like a small network's run: a deterministic pseudo-random raster with bursts.
fn sample_data() -> ReportData {
    let steps = 16u32;
    let mut seed = 12345u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let shapes = [
        ("input", 64u32, 25u32),
        ("hidden", 128, 12),
        ("output", 10, 30),
    ];
    let mut raster_layers = Vec::new();
    let mut layers = Vec::new();
    for (name, neurons, rate) in shapes {
        let mut events = Vec::new();
        let mut modes = ModeCounts::default();
        for step in 0..steps {
            for neuron in 0..neurons {
                let r = next() % 100;
                let count = if r < rate / 4 {
                    2 + next() % 3
                } else if r < rate {
                    1
                } else {
                    0
                };
                modes.add(count);
                if count > 0 {
                    events.push(SpikeEvent {
                        step,
                        neuron,
                        count,
                    });
                }
            }
        }
        raster_layers.push(RasterLayer {
            name: name.into(),
            neurons,
            events,
        });
        let accumulate = neurons as u64 * steps as u64 * 3;
        layers.push(LayerReport {
            name: name.into(),
            kind: if name == "input" {
                "encoder".into()
            } else {
                "lifb".into()
            },
            neurons: neurons as u64,
            modes: Some(modes),
            cycles: vec![
                CyclePart {
                    phase: "accumulate".into(),
                    cycles: accumulate,
                },
                CyclePart {
                    phase: "leak and fire".into(),
                    cycles: steps as u64 * 4,
                },
            ],
            engine_module: match name {
                "hidden" => Some("lifb_engine0".into()),
                "output" => Some("lifb_engine1".into()),
                _ => None,
            },
        });
    }
    let mut d = ReportData::new("Test network 64-128-10 <LIFB>");
    d.model = Some("tests/fixtures/model.json".into());
    d.accuracy.images = Some(1000);
    d.accuracy.float = Some(0.9812);
    d.accuracy.integer = Some(0.9801);
    d.accuracy.decoupled = Some(0.9801);
    d.accuracy.rtl = Some(0.9801);
    d.verification = Some(Verification {
        spike_exact: true,
        inputs_checked: 1000,
        detail: "every spike of every layer at every step".into(),
    });
    d.steps = Some(steps);
    d.cycles_per_image = Some(
        layers
            .iter()
            .flat_map(|l| l.cycles.iter())
            .map(|p| p.cycles)
            .sum(),
    );
    d.lower_bound_cycles = Some(3000);
    d.lower_bound_note = Some("one accumulate per input spike per clock".into());
    d.layers = layers;
    d.raster = Some(Raster {
        input: "test image 0 (label 7)".into(),
        steps,
        layers: raster_layers,
        note: None,
    });
    let mut synth = synth_result();
    synth.modules = sample_modules();
    d.synth = Some(synth);
    d.training = Some(sample_training());
    d.reproducibility = Some(Reproducibility {
        command: "lifb-hdl flow --model 'my model.json' --out out".into(),
        version: "0.1.0".into(),
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        tools: vec![
            ToolVersion {
                tool: "verilator".into(),
                version: "Verilator 5.006 2023-01-22".into(),
            },
            ToolVersion {
                tool: "yosys".into(),
                version: "Yosys 0.23".into(),
            },
        ],
    });
    d.synaptic_ops_per_image = Some(52_000.0);
    d.neuron_updates_per_image = Some(2_208.0);
    d.notes
        .push("Energy is an estimate from per-operation constants.".into());
    d
}

/// Rows per module shaped like a two-engine design's.
fn sample_modules() -> Vec<ModuleUsage> {
    let row = |module: &str, instances, top_level_logic, lut4, ff, bram| ModuleUsage {
        module: module.into(),
        instances,
        top_level_logic,
        cells: lut4 + ff + bram,
        lut4,
        flip_flops: ff,
        carry: lut4 / 4,
        block_ram: bram,
        dsp: 0,
    };
    vec![
        row("lifb_engine0", 1, false, 412, 198, 6),
        row("lifb_engine1", 1, false, 133, 97, 2),
        row("lifb_fifo", 2, false, 40, 30, 2),
        row("lifb_top", 1, true, 61, 25, 0),
    ]
}

/// A training history like `lifb-hdl train` records: 12 epochs, the last 4 quantization-aware.
fn sample_training() -> Vec<EpochPoint> {
    (1..=12u32)
        .map(|e| {
            let x = e as f64;
            EpochPoint {
                epoch: e,
                loss: 1.6 / x,
                train_accuracy: 1.0 - 0.5 / (x + 1.0),
                test_accuracy: 1.0 - 0.45 / (x + 1.0),
                qat: e > 8,
            }
        })
        .collect()
}

/// report.json follows the published schema (docs/report.schema.json), which lists every field
/// (no others allowed); the validator itself rejects what breaks the schema.
#[test]
fn report_json_follows_the_published_schema() {
    let schema = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json"));
    let validate = |v: &Value| common::json_schema::validate(&schema, &schema, v, "report");
    let dir = Scratch::new("report_schema");
    let mut full = sample_data();
    full.step_seconds = vec![report::StepTime {
        step: "cosim".into(),
        seconds: 1.5,
    }];
    full.training_note = Some("why".into());
    let mut wrapped = synth_result();
    wrapped.io_wrapper = Some(lifb_hdl::synth::IoWrapper {
        core_port_bits: 100,
        package_pins: 39,
        input_bits: 90,
        output_bits: 10,
        clock_ports: vec!["clk".into()],
        added_flip_flops: 190,
    });
    let mut wrapped_data = sample_data();
    wrapped_data.synth = Some(wrapped);
    for (name, d) in [
        ("full", full),
        ("wrapped", wrapped_data),
        ("title only", ReportData::new("t")),
    ] {
        let files = report::write(&d, &dir).unwrap();
        let v = read_json(&files.json);
        assert_eq!(v["format_version"], report::FORMAT_VERSION);
        let errors = validate(&v);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    let good = read_json(&report::write(&sample_data(), &dir).unwrap().json);
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        validate(&v)
    };
    let e = broken(&|v| {
        v.as_object_mut().unwrap().remove("format_version");
    });
    assert!(
        e.iter()
            .any(|e| e.contains("\"format_version\" is missing")),
        "{e:?}"
    );
    let e = broken(&|v| v["accuracy"]["rtl"] = 98.0.into());
    assert!(e.iter().any(|e| e.contains("report.accuracy.rtl")), "{e:?}");
    let e = broken(&|v| v["synth"]["modules"][0]["lut4"] = "many".into());
    assert!(e.iter().any(|e| e.contains("report.synth")), "{e:?}");
    let e = broken(&|v| v["surprise"] = 1.into());
    assert!(
        e.iter()
            .any(|e| e.contains("report.surprise: field not in the schema")),
        "{e:?}"
    );
}

#[test]
fn report_json_holds_data_and_derived_figures() {
    let d = sample_data();
    let dir = Scratch::new("report_json");
    let files = report::write(&d, &dir).unwrap();
    let v: Value = serde_json::from_slice(&std::fs::read(&files.json).unwrap()).unwrap();
    let fmax = d.synth.as_ref().unwrap().min_fmax_mhz().unwrap();
    let cycles = d.cycles_per_image.unwrap() as f64;
    assert_eq!(v["derived"]["fmax_mhz"].as_f64().unwrap(), fmax);
    assert!((v["derived"]["latency_us"].as_f64().unwrap() - cycles / fmax).abs() < 1e-9);
    assert!((v["derived"]["images_per_s"].as_f64().unwrap() - 1e6 * fmax / cycles).abs() < 1e-6);
    let e = v["derived"]["energy_uj_per_image"].as_f64().unwrap();
    assert!((e - (52_000.0 * 5.1 + 2_208.0 * 0.3) * 1e-6).abs() < 1e-12);
    assert_eq!(v["accuracy"]["rtl"].as_f64(), Some(0.9801));
    assert_eq!(v["verification"]["spike_exact"], Value::Bool(true));
    assert_eq!(
        v["synth"]["resources"]["logic_cells"]["used"],
        d.synth.as_ref().unwrap().resources.logic_cells.used
    );
    assert!(v["energy_model"]["source"]
        .as_str()
        .unwrap()
        .contains("Horowitz"));
}

#[test]
fn report_is_deterministic_and_escapes_names() {
    let d = sample_data();
    let a = Scratch::new("report_det_a");
    let b = Scratch::new("report_det_b");
    report::write(&d, &a).unwrap();
    report::write(&d, &b).unwrap();
    for f in ["report.json", "report.html"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(html.contains("Test network 64-128-10 &lt;LIFB&gt;"));
    assert!(!html.contains("<LIFB>"));
    for id in [
        "fig-training",
        "fig-raster",
        "fig-modes",
        "fig-cycles",
        "fig-resources",
        "fig-modules",
    ] {
        assert!(html.contains(&format!("<svg id=\"{id}\"")), "{id}");
    }
    assert!(!html.contains("<script"), "the report needs no script");
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "no external resources"
    );
}

#[test]
fn partial_data_still_makes_a_page() {
    let d = ReportData::new("only a title");
    let dir = Scratch::new("report_partial");
    report::write(&d, &dir).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("only a title") && html.contains("not run"));
    assert!(
        html.contains("<p class=\"note\" id=\"no-training-curve\">No training curve: the model records no training history"),
        "a missing training curve is explained"
    );
    assert!(
        !html.contains("Reproducibility"),
        "no block without its data"
    );
    assert!(!html.contains("<svg"));
}

#[test]
fn impossible_values_are_refused() {
    let mut d = sample_data();
    d.accuracy.rtl = Some(98.0);
    let dir = Scratch::new("report_bad");
    let err = report::write(&d, &dir).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadInput);
    assert!(err.to_string().contains("rtl accuracy 98"), "{err}");
    let mut d = sample_data();
    d.raster.as_mut().unwrap().layers[2]
        .events
        .push(SpikeEvent {
            step: 3,
            neuron: 10,
            count: 1,
        });
    let err = report::write(&d, &dir).unwrap_err();
    assert!(err.to_string().contains("neuron 10"), "{err}");
    assert!(
        !dir.join("report.html").exists(),
        "nothing written for refused data"
    );
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LIFB_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|n| lifb_hdl::synth::tools::find_on_path(n))
}

/// Run headless Chromium with the given extra arguments; kill it after `limit`.
fn chromium(
    bin: &Path,
    profile: &Path,
    args: &[String],
    limit: Duration,
) -> (bool, String, String) {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Drain the pipes on threads so a chatty Chromium cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut so, &mut s).ok();
        s
    });
    let te = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut se, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (out, err) = (to.join().unwrap(), te.join().unwrap());
    (status.is_some_and(|s| s.success()), out, err)
}

/// Load `html` with the `probe` script added in headless Chromium; the probe writes a JSON
/// object into `<pre id="render-check">`, which is returned.
fn probe_in_chromium(bin: &Path, dir: &Path, html: &str, probe: &str) -> Value {
    let probed = dir.join("probed.html");
    std::fs::write(
        &probed,
        html.replace("</body>", &format!("{probe}\n</body>")),
    )
    .unwrap();
    let url = format!("file://{}", probed.display());
    let (ok, dom, err) = chromium(
        bin,
        &dir.join("profile"),
        &[
            "--virtual-time-budget=2000".into(),
            "--dump-dom".into(),
            url,
        ],
        Duration::from_secs(90),
    );
    assert!(ok, "chromium --dump-dom failed: {err}");
    let start = dom.find("<pre id=\"render-check\">").expect("probe ran")
        + "<pre id=\"render-check\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// The sweep page in a real browser: the Pareto plot shows every fitting design left of the
/// device's capacity line, which spans the plot.
#[test]
fn sweep_pareto_with_capacity_line_renders_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        skip(
            "sweep_pareto_with_capacity_line_renders_in_headless_chromium",
            "chromium not found",
        );
        return;
    };
    let dir = Scratch::new("sweep_chromium");
    let sweep = sample_sweep();
    sweep.write(&dir).unwrap();
    let html = std::fs::read_to_string(dir.join("sweep.html")).unwrap();
    let probe = r#"<script>
addEventListener('load', () => {
  const svg = document.getElementById('fig-pareto');
  const box = svg.getBoundingClientRect();
  const line = document.getElementById('capacity-line').getBoundingClientRect();
  const points = [...svg.querySelectorAll('circle')].map(c => {
    const r = c.getBoundingClientRect(); return {x: r.x + r.width / 2, w: r.width}; });
  const pre = document.createElement('pre'); pre.id = 'render-check';
  pre.textContent = JSON.stringify({w: box.width, h: box.height, lineX: line.x, lineTop: line.top - box.top,
    lineH: line.height, points, caption: document.querySelector('figcaption').innerText});
  document.body.appendChild(pre);
});
</script>"#;
    let check = probe_in_chromium(&bin, &dir, &html, probe);
    eprintln!("sweep render check: {check}");
    assert!(check["w"].as_f64().unwrap() >= 600.0 && check["h"].as_f64().unwrap() >= 300.0);
    let line_x = check["lineX"].as_f64().unwrap();
    assert!(
        check["lineH"].as_f64().unwrap() > 250.0,
        "the line spans the plot: {check}"
    );
    let points = check["points"].as_array().unwrap();
    assert_eq!(points.len(), 3, "the three fitting designs");
    for p in points {
        assert!(p["w"].as_f64().unwrap() > 5.0, "{p}");
        assert!(
            p["x"].as_f64().unwrap() < line_x,
            "a fitting design is left of the capacity: {p}"
        );
    }
    assert!(check["caption"]
        .as_str()
        .unwrap()
        .contains("iCE40UP5K's 5,280 logic cells"));
}

/// Three fitting designs and one that does not fit, on the iCE40 UP5K.
fn sample_sweep() -> lifb_hdl::report::sweep::Sweep {
    use lifb_hdl::report::sweep::{Sweep, SweepRow};
    let fits = |label: &str, cells, latency| SweepRow {
        label: label.into(),
        hdl: format!("rtl-{label}"),
        fits: Some(true),
        logic_cells: Some(cells),
        block_ram: Some(4),
        fmax_mhz: Some(40.0),
        cycles_per_image: Some((latency * 40.0) as u64),
        latency_us: Some(latency),
        spike_exact: Some(true),
        ..SweepRow::default()
    };
    let mut big = fits("native-all", 0, 0.0);
    big.fits = Some(false);
    big.logic_cells = None;
    big.latency_us = None;
    big.shortfalls = vec!["logic cells 7,100/5,280".into()];
    let mut sweep = Sweep {
        title: "Sweep of test on ice40-up5k".into(),
        rows: vec![
            fits("native-1-1", 1800, 90.0),
            fits("native-2-2", 2600, 52.0),
            fits("native-4-4", 3900, 60.0),
            big,
        ],
        synthesized: true,
        target: Some(lifb_hdl::synth::Target::Ice40Up5k),
    };
    sweep.mark_pareto();
    sweep
}

#[test]
fn sweep_page_draws_the_capacity_line_and_marks_the_front() {
    let html = sample_sweep().html();
    assert!(html.contains("<line id=\"capacity-line\""), "{html}");
    assert!(html.contains("iCE40UP5K: 5,280 logic cells"));
    assert_eq!(html.matches("<circle").count(), 3);
    assert_eq!(
        html.matches("<tr class=\"front\">").count(),
        2,
        "1-1 and 2-2 are on the front"
    );
    assert!(html.contains("does not fit: logic cells 7,100/5,280"));
    let mut no_target = sample_sweep();
    no_target.target = None;
    assert!(!no_target.html().contains("capacity-line"));
}

/// The page renders in a real browser: every figure has a size on screen and visible marks.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        skip("report_renders_in_headless_chromium", "chromium not found");
        return;
    };
    let dir = Scratch::new("report_chromium");
    let files = report::write(&sample_data(), &dir).unwrap();
    // Measure the figures in the browser: a copy of the page with a probe that writes what it finds into the DOM.
    let html = std::fs::read_to_string(&files.html).unwrap();
    let probe = r#"<script>
addEventListener('load', () => {
  const figs = [...document.querySelectorAll('svg.figure')].map(s => {
    const b = s.getBoundingClientRect();
    const marks = [...s.querySelectorAll('rect,circle,polyline')].filter(m => {
      const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length;
    return {id: s.id, w: Math.round(b.width), h: Math.round(b.height), marks};
  });
  const pre = document.createElement('pre'); pre.id = 'render-check';
  const rb = document.getElementById('reproducibility');
  const r = rb.getBoundingClientRect();
  const repro = {h: Math.round(r.height), text: rb.innerText};
  const mod = document.getElementById('fig-modules').closest('figure').nextElementSibling;
  const moduleRows = mod && mod.tagName === 'TABLE' ? mod.querySelectorAll('tr').length : 0;
  pre.textContent = JSON.stringify({title: document.title, figs, repro, moduleRows, bodyHeight: document.body.scrollHeight});
  document.body.appendChild(pre);
});
</script>"#;
    let check = probe_in_chromium(&bin, &dir, &html, probe);
    eprintln!("render check: {check}");
    assert!(check["title"].as_str().unwrap().contains("Test network"));
    let figs = check["figs"].as_array().unwrap();
    let ids: Vec<&str> = figs.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "fig-training",
            "fig-raster",
            "fig-modes",
            "fig-cycles",
            "fig-resources",
            "fig-modules"
        ]
    );
    for f in figs {
        assert!(
            f["w"].as_u64().unwrap() >= 600 && f["h"].as_u64().unwrap() >= 100,
            "figure too small: {f}"
        );
        assert!(
            f["marks"].as_u64().unwrap() >= 5,
            "figure has no visible marks: {f}"
        );
    }
    let fig = |id: &str| figs.iter().find(|f| f["id"] == id).unwrap();
    // The raster has a mark per (step, row) with spikes: hundreds.
    assert!(
        fig("fig-raster")["marks"].as_u64().unwrap() > 300,
        "{}",
        fig("fig-raster")
    );
    // Training: 3 series lines, 36 epoch points, 4 shaded QAT epochs in each of 2 panels.
    assert!(
        fig("fig-training")["marks"].as_u64().unwrap() >= 3 + 36 + 8,
        "{}",
        fig("fig-training")
    );
    // A track and a bar per module row.
    assert_eq!(
        fig("fig-modules")["marks"].as_u64().unwrap(),
        8,
        "{}",
        fig("fig-modules")
    );
    // The per-module table and the reproducibility block are on screen with their content.
    let repro = &check["repro"];
    assert!(repro["h"].as_u64().unwrap() > 50, "{repro}");
    let text = repro["text"].as_str().unwrap();
    for part in [
        "lifb-hdl flow --model 'my model.json' --out out",
        "0123456789abcdef0123456789abcdef01234567",
        "Verilator 5.006",
        "Yosys 0.23",
    ] {
        assert!(text.contains(part), "{part:?} not in {text:?}");
    }
    assert_eq!(
        check["moduleRows"].as_u64(),
        Some(5),
        "header + 4 module rows"
    );

    // A screenshot of the unmodified page, for people to look at: kept as
    // target/tmp/report_chromium.png when the scratch folder goes.
    let png = dir.join("report.png");
    let (ok, _, err) = chromium(
        &bin,
        &dir.join("profile2"),
        &[
            "--window-size=1000,4200".into(),
            format!("--screenshot={}", png.display()),
            format!("file://{}", files.html.display()),
        ],
        Duration::from_secs(90),
    );
    assert!(ok, "chromium --screenshot failed: {err}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        bytes.len() > 20_000,
        "screenshot suspiciously small: {} bytes",
        bytes.len()
    );
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_chromium.png");
    std::fs::write(&kept, &bytes).unwrap();
    if eda_required() {
        eprintln!("screenshot: {}", kept.display());
    }
}

/// Each accuracy row states the images it was measured on (the RTL runs on fewer images).
#[test]
fn accuracy_rows_carry_their_own_image_counts() {
    let mut d = sample_data();
    d.accuracy.images = Some(500);
    d.accuracy.rtl = Some(1.0);
    d.accuracy.rtl_images = Some(100);
    let html = report::to_html(&d);
    assert!(html.contains("<th>images</th>"), "an images column");
    assert!(html.contains(
        "<td>integer (quantized)</td><td class=\"n\">98.01 %</td><td class=\"n\">500</td>"
    ));
    assert!(html.contains(
        "<td>RTL (co-simulated)</td><td class=\"n\">100.00 %</td><td class=\"n\">100</td>"
    ));
    assert!(
        !html.contains("test images</p>"),
        "no caption claims one count for every row"
    );
}

/// A missed clock target and a scan-wrapped measurement are flagged under the headline figures.
#[test]
fn summary_flags_missed_fmax_and_scan_wrapper() {
    let mut d = sample_data();
    // The fixture's clock missed its 48 MHz target.
    let html = report::to_html(&d);
    assert!(
        html.contains("<li class=\"bad\">fmax target missed: clock clk reaches 22.1 MHz of the 48.0 MHz target</li>"),
        "missed fmax flagged"
    );
    assert!(!html.contains("scan wrapper (+"), "no wrapper, no flag");
    let r = d.synth.as_mut().unwrap();
    for c in &mut r.fmax {
        c.met = true;
        c.constraint_mhz = 12.0;
    }
    r.io_wrapper = Some(lifb_hdl::synth::IoWrapper {
        core_port_bits: 1234,
        package_pins: 96,
        input_bits: 1200,
        output_bits: 34,
        clock_ports: vec!["clk".into()],
        added_flip_flops: 1240,
    });
    let html = report::to_html(&d);
    assert!(
        !html.contains("fmax target missed"),
        "a met target is not flagged"
    );
    assert!(html.contains(
        "resources include the I/O scan wrapper (+1,240 flip-flops): the design&#39;s 1,234 port bits \
         exceed the package&#39;s 96 pins"
    ));
}

/// The per-engine cycle bars overlap in time; the caption says they do not add up.
#[test]
fn cycle_caption_says_engines_overlap() {
    let html = report::to_html(&sample_data());
    let fig = &html[html.find("<svg id=\"fig-cycles\"").unwrap()..];
    let caption = &fig[fig.find("<figcaption>").unwrap()..fig.find("</figcaption>").unwrap()];
    assert!(caption.contains("overlap in time"), "{caption}");
    assert!(
        caption.contains("do not add up to the cycles per image"),
        "{caption}"
    );
}

/// The energy figure uses ASIC constants on an FPGA design: card and section say so.
#[test]
fn energy_is_labelled_as_an_asic_constant_estimate() {
    let html = report::to_html(&sample_data());
    assert!(html.contains("<div class=\"k\">energy (ASIC-constant estimate)</div>"));
    assert!(
        html.contains("<h2>Energy estimate (45 nm ASIC constants, not an FPGA measurement)</h2>")
    );
    assert!(html.contains("not the energy this device draws"));
}

/// Raster ticks name steps 0..T-1 at their marks' centres; a note on the counts reaches the caption.
#[test]
fn raster_ticks_name_real_steps_and_note_reaches_caption() {
    let mut d = sample_data();
    let steps = d.raster.as_ref().unwrap().steps;
    let html = report::to_html(&d);
    let fig = &html[html.find("<svg id=\"fig-raster\"").unwrap()..];
    let fig = &fig[..fig.find("</svg>").unwrap()];
    let labels: Vec<u32> = fig
        .split("class=\"tick\" text-anchor=\"middle\">")
        .skip(1)
        .map(|t| t[..t.find('<').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(labels.first(), Some(&0));
    assert!(
        labels.iter().all(|&t| t < steps),
        "{labels:?} within 0..{steps}"
    );
    assert!(!html.contains("LIFB-equivalent"));
    d.raster.as_mut().unwrap().note = Some("shows LIFB-equivalent counts".into());
    let html = report::to_html(&d);
    assert!(html.contains("Steps are numbered from 0. shows LIFB-equivalent counts</figcaption>"));
}

/// The training curve, the resources per module (with how they relate to the placed design) and
/// the reproducibility block are on the page.
#[test]
fn training_modules_and_reproducibility_are_shown() {
    let d = sample_data();
    let html = report::to_html(&d);
    let training = &html[html.find("<h2>Training</h2>").unwrap()..];
    assert!(training[..training.find("</figure>").unwrap()].contains("<svg id=\"fig-training\""));
    assert_eq!(
        html.matches("<title>epoch 12: test accuracy").count(),
        1,
        "one point per epoch and series"
    );
    let modules = &html[html.find("<h2>Resources per module</h2>").unwrap()..];
    let modules = &modules[..modules.find("</table>").unwrap()];
    assert!(modules.contains(
        "<tr><td>lifb_engine0: hidden</td><td class=\"n\">1</td><td class=\"n\">412</td><td class=\"n\">103</td>"
    ));
    assert!(modules.contains("<td>lifb_top (top level&#39;s own logic)</td>"));
    // The rows' sum is stated next to the flat synthesis's figures.
    let lut4: u64 = sample_modules().iter().map(|m| m.lut4).sum();
    assert!(
        modules.contains(&format!("the rows add up to {lut4} LUT4")),
        "{modules}"
    );
    let flat = d.synth.as_ref().unwrap().resources.lut4;
    assert!(modules.contains(&format!(
        "the flat synthesis that was placed has {flat} LUT4"
    )));
    let repro = &html[html.find("<h2>Reproducibility</h2>").unwrap()..];
    assert!(repro.contains("<pre>lifb-hdl flow --model &#39;my model.json&#39; --out out</pre>"));
    assert!(repro.contains("<tr><th>yosys</th><td>Yosys 0.23</td></tr>"));
    let mut d = sample_data();
    d.reproducibility.as_mut().unwrap().git_commit = None;
    d.synth.as_mut().unwrap().modules.clear();
    d.training = None;
    d.training_note = Some("No training curve: the history is unreadable.".into());
    let html = report::to_html(&d);
    assert!(html.contains("unknown (not built in a git checkout)"));
    assert!(!html.contains("Resources per module") && !html.contains("fig-modules"));
    assert!(html.contains("No training curve: the history is unreadable.</p>"));
}
