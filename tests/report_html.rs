//! report.json and report.html: content, determinism, and rendering in headless Chromium.

mod common;

use common::{eda_required, fixture, scratch, skip};
use lifb_hdl::error::ErrorKind;
use lifb_hdl::report::{
    self, CyclePart, LayerReport, ModeCounts, Raster, RasterLayer, ReportData, SpikeEvent,
    Verification,
};
use lifb_hdl::synth::SynthResult;
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
    d.synth = Some(synth_result());
    d.synaptic_ops_per_image = Some(52_000.0);
    d.neuron_updates_per_image = Some(2_208.0);
    d.notes
        .push("Energy is an estimate from per-operation constants.".into());
    d
}

#[test]
fn report_json_holds_data_and_derived_figures() {
    let d = sample_data();
    let dir = scratch("report_json");
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
    let a = scratch("report_det_a");
    let b = scratch("report_det_b");
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
    for id in ["fig-raster", "fig-modes", "fig-cycles", "fig-resources"] {
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
    let dir = scratch("report_partial");
    report::write(&d, &dir).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("only a title") && html.contains("not run"));
    assert!(!html.contains("<svg"));
}

#[test]
fn impossible_values_are_refused() {
    let mut d = sample_data();
    d.accuracy.rtl = Some(98.0);
    let dir = scratch("report_bad");
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

/// The page renders in a real browser: every figure has a size on screen and visible marks.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        skip("report_renders_in_headless_chromium", "chromium not found");
        return;
    };
    let dir = scratch("report_chromium");
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
  pre.textContent = JSON.stringify({title: document.title, figs, bodyHeight: document.body.scrollHeight});
  document.body.appendChild(pre);
});
</script>"#;
    let probed = dir.join("probed.html");
    std::fs::write(
        &probed,
        html.replace("</body>", &format!("{probe}\n</body>")),
    )
    .unwrap();
    let url = format!("file://{}", probed.display());
    let (ok, dom, err) = chromium(
        &bin,
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
    let check: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    eprintln!("render check: {check}");
    assert!(check["title"].as_str().unwrap().contains("Test network"));
    let figs = check["figs"].as_array().unwrap();
    let ids: Vec<&str> = figs.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["fig-raster", "fig-modes", "fig-cycles", "fig-resources"]
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
    // The raster has a mark per (step, row) with spikes: hundreds.
    assert!(figs[0]["marks"].as_u64().unwrap() > 300, "{}", figs[0]);

    // A screenshot of the unmodified page, for people to look at (target/tmp/report_chromium/report.png).
    let png = dir.join("report.png");
    let (ok, _, err) = chromium(
        &bin,
        &dir.join("profile2"),
        &[
            "--window-size=1000,2600".into(),
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
    if eda_required() {
        eprintln!("screenshot: {}", png.display());
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
        "resources include the I/O scan wrapper (+1,240 flip-flops): the design's 1,234 port bits \
         exceed the package's 96 pins"
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
