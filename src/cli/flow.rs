//! `lifb-hdl flow`: model -> quantize -> decouple -> golden evaluation -> generate -> co-simulate
//! -> synthesize -> report, with a summary table. The README's main command.

use super::eval::meta_u32;
use crate::codegen::{self, Form};
use crate::cosim::{self, CosimOptions};
use crate::data::{self, eval, DataSetKind, Dataset, Split};
use crate::decouple;
use crate::error::{Error, Result};
use crate::format::{self, AnyNetwork};
use crate::golden::{IntSim, Trace, TraceOptions};
use crate::ir::{FloatNetwork, IntNetwork, Layer};
use crate::quant::{self, QuantOptions};
use crate::report::{self, CyclePart, LayerReport, ReportData, Verification};
use crate::synth::{self, Backend, SynthRequest, Target};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model manifest, float or integer (default: the shipped MNIST example).
    #[arg(long, default_value = "examples/mnist-lifb.json")]
    pub model: PathBuf,
    /// Device to synthesize for.
    #[arg(long, value_enum, default_value_t = Target::Ecp5_45k)]
    pub target: Target,
    /// Synthesis tools (auto: Debian's for iCE40, YoWASP for ECP5).
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Output folder (RTL, traces, synthesis, report.json, report.html).
    #[arg(long, default_value = "out/flow")]
    pub out: PathBuf,
    /// Evaluation images (default: the shipped sample of the model's data set).
    #[arg(long, value_enum)]
    pub data: Option<DataSetKind>,
    /// Folder of fetched data sets (for --data mnist or fashion).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Evaluate on at most this many images.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Co-simulate this many of the evaluation images in Verilator.
    #[arg(long, default_value_t = 100)]
    pub cosim_images: usize,
    /// Time steps (default: the model's meta "steps", else 4).
    #[arg(long)]
    pub steps: Option<u32>,
    /// Quantization for float models (defaults: what the model was trained for, from its meta).
    #[arg(long)]
    pub weight_bits: Option<u32>,
    #[arg(long)]
    pub input_bits: Option<u32>,
    /// Hardware neuron form: decoupled (LIF sub-units, the LIF-only route) or native LIFB.
    /// The native form is the default on FPGAs: one membrane and B comparators per neuron, and the
    /// next layer reads one weight per active neuron instead of one per sub-unit spike.
    #[arg(long, value_enum, default_value = "native")]
    pub form: Form,
    /// Lanes per engine: one value for all (capped at each layer's neurons) or one per engine
    /// ("32", "all", "64,10").
    #[arg(long, default_value = "32")]
    pub lanes: String,
    /// Fire units per engine, at most the lanes ("all" = one per lane; default: a quarter of the
    /// lanes, at least one).
    #[arg(long)]
    pub units: Option<String>,
    /// Skip synthesis (no fmax, resources or latency in microseconds).
    #[arg(long)]
    pub no_synth: bool,
    /// Stop a synthesis tool run after this many seconds.
    #[arg(long)]
    pub synth_timeout: Option<u64>,
}

/// One stage of the flow (or a sweep) with a spinner and its wall time.
pub(crate) struct Stage {
    bar: ProgressBar,
    start: Instant,
}

impl Stage {
    pub(crate) fn begin(n: usize, total: usize, what: &str) -> Stage {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{prefix}] {msg} ({elapsed})")
                .expect("static template"),
        );
        bar.set_prefix(format!("{n}/{total}"));
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Stage {
            bar,
            start: Instant::now(),
        }
    }
    pub(crate) fn done(self, result: String) {
        self.bar.finish_and_clear();
        errln!(
            "  [{}] {} ({:.1} s)",
            self.bar.prefix(),
            result,
            self.start.elapsed().as_secs_f64()
        );
    }
}

pub fn run(a: Args) -> Result<()> {
    const STAGES: usize = 7;
    let t0 = Instant::now();
    let st = Stage::begin(1, STAGES, "load and quantize");
    {
        use super::limits;
        // A flow that co-simulates nothing has verified nothing.
        limits::count("--cosim-images", a.cosim_images, limits::MAX_SAMPLES)?;
        if let Some(n) = a.limit {
            limits::count("--limit", n, usize::MAX)?;
        }
        if let Some(s) = a.steps {
            limits::steps("--steps", s, u16::MAX as u32)?;
        }
    }
    let (float, int, steps) = load_and_quantize(&a.model, a.steps, a.weight_bits, a.input_bits)?;
    let fx = int.fixed.clone().expect("integer network");
    st.done(format!(
        "{}: {}; integer model: weights {} bits, inputs {} bits, membrane {} bits, T = {steps}",
        a.model.display(),
        int.name,
        fx.weight_bits,
        fx.input_bits,
        fx.membrane_bits
    ));

    let st = Stage::begin(2, STAGES, "decouple LIFB into LIF groups");
    let lif = decouple::to_lif_groups(&int)?;
    let lif_units: usize = lif.layers.iter().filter(|l| l.is_neuron()).count();
    st.done(format!(
        "group form: {lif_units} LIF neuron layers, only LIF neurons"
    ));

    let st = Stage::begin(3, STAGES, "golden evaluation");
    let (ds, int_in) = evaluation_inputs(&int, a.data, &a.data_dir, a.limit)?;
    let acc_float = match &float {
        Some(f) => Some(eval::accuracy(
            &eval::float_outputs(f, &ds, steps, Some(fx.input_bits))?,
            &ds.labels,
        )),
        None => None,
    };
    let int_out = eval::run_all(&IntSim::new(&int)?, &int_in, steps)?;
    let acc_int = eval::accuracy(&int_out, &ds.labels);
    let lif_out = eval::run_all(&IntSim::new(&lif)?, &int_in, steps)?;
    let acc_lif = eval::accuracy(&lif_out, &ds.labels);
    let eq = crate::verify::compare(&int, &lif, &int_in, steps)?;
    if !eq.exact() {
        return Err(Error::mismatch(format!(
            "the decoupled model differs from the LIFB model: {} (a bug: please report)",
            eq.first.map(|d| d.to_string()).unwrap_or_default()
        )));
    }
    st.done(format!(
        "{} {} images: float {}, integer {:.2} %, decoupled {:.2} %; LIFB vs decoupled: {} of {} spike counts equal",
        ds.len(),
        ds.name,
        acc_float.map_or("-".into(), |x| format!("{:.2} %", x * 100.0)),
        acc_int * 100.0,
        acc_lif * 100.0,
        eq.compared - eq.mismatched,
        eq.compared
    ));

    let st = Stage::begin(4, STAGES, "generate Verilog");
    let opts = crate::cli::generate::options(Some(&a.lanes), a.units.as_deref(), a.form)?;
    let design = codegen::generate(&int, &opts)?;
    let rtl = a.out.join("rtl");
    codegen::write(&design, &rtl)?;
    st.done(format!(
        "{} form, lanes {}: {} files in {}",
        a.form.name(),
        a.lanes,
        design.files.len(),
        rtl.display()
    ));

    let st = Stage::begin(5, STAGES, "co-simulate in Verilator");
    let n_cosim = a.cosim_images.min(int_in.len());
    let hw_net = codegen::plan::apply_form(&int, a.form)?;
    let copts = CosimOptions {
        steps,
        codegen: opts.clone(),
        cache_dir: cosim::default_cache_dir(),
        ..Default::default()
    };
    let cs = cosim::cosim_design(&hw_net, &design, &int_in[..n_cosim], &copts)?;
    let spike_exact = cs.divergence.is_none();
    let cycles = cs.cycles_per_sample();
    let chain_lb = cs.chain_bounds.iter().sum::<u64>() / n_cosim.max(1) as u64;
    st.done(format!(
        "{n_cosim} images: {}; {cycles} cycles per image, {:.3}x the lower bound",
        if spike_exact {
            "spike-exact at every layer and step"
        } else {
            "MISMATCH"
        },
        cs.ratio()
    ));

    let mut synth_note: Option<String> = None;
    let mut synth_failure: Option<Error> = None;
    let synth_result = if a.no_synth {
        None
    } else {
        let st = Stage::begin(6, STAGES, &format!("synthesize for {}", a.target));
        let mut req = SynthRequest::new(&rtl, a.target, a.backend, a.out.join("synth"));
        req.timeout = a.synth_timeout.map(Duration::from_secs);
        match synth::try_run(&req) {
            Ok(synth::Outcome::Fits(r)) => {
                st.done(format!(
                    "{} ({}): {} logic cells, {} BRAM, fmax {}",
                    r.part,
                    r.backend,
                    r.resources.logic_cells.used,
                    r.resources.block_ram.used,
                    r.min_fmax_mhz()
                        .map_or("-".into(), |f| format!("{f:.1} MHz"))
                ));
                Some(*r)
            }
            Ok(synth::Outcome::DoesNotFit {
                shortfalls,
                found_by,
                ..
            }) => {
                // Not fitting is a result, not a failure of the flow: report it with the numbers.
                let what = shortfalls
                    .iter()
                    .map(|s| format!("{} needs {} of {}", s.resource, s.needed, s.available))
                    .collect::<Vec<_>>()
                    .join(", ");
                let note = format!("does not fit {} (found by {found_by}): {what}", a.target);
                st.done(note.clone());
                synth_note = Some(note);
                None
            }
            Err(e) if e.kind != crate::error::ErrorKind::BadInput => {
                // A tool failure is shown in the summary and the report; the flow then fails.
                let note = format!("failed: {}", e.message.lines().next().unwrap_or_default());
                st.done(format!("synthesis {note}"));
                synth_note = Some(note);
                synth_failure = Some(e);
                None
            }
            Err(e) => return Err(e),
        }
    };

    let st = Stage::begin(7, STAGES, "report");
    // Golden trace of the co-simulated images (LIFB counts: resting, regular and burst modes).
    let sim = IntSim::new(&int)?;
    let mut trace = Trace::new("integer", Some(format::model_hash(&int)?), steps);
    for (s, x) in int_in[..n_cosim].iter().enumerate() {
        let mut t = sim.run(
            x,
            s as u64,
            steps,
            TraceOptions {
                counts: true,
                membranes: false,
            },
        )?;
        t.label = Some(ds.labels[s] as u32);
        trace.samples.push(t);
    }
    trace.write(&a.out.join("trace.json"))?;
    let rtl_correct = trace
        .samples
        .iter()
        .filter(|s| Some(s.predicted as u32) == s.label)
        .count();
    let mut d = ReportData::new(format!(
        "{} on {}",
        int.name,
        synth_result.as_ref().map_or_else(
            || match a.no_synth {
                true => "no device (synthesis skipped)".to_string(),
                false => format!("{} (not placed)", a.target),
            },
            |r| r.part.clone(),
        )
    ));
    d.model = Some(a.model.display().to_string());
    d.steps = Some(steps);
    d.accuracy.images = Some(ds.len() as u64);
    d.accuracy.float = acc_float;
    d.accuracy.integer = Some(acc_int);
    d.accuracy.decoupled = Some(acc_lif);
    // Where the RTL is spike-exact its outputs equal the golden model's on every co-simulated
    // image, so its accuracy there is the golden model's (on a mismatch it is left out).
    d.accuracy.rtl = spike_exact.then(|| rtl_correct as f64 / n_cosim.max(1) as f64);
    d.verification = Some(Verification {
        spike_exact,
        inputs_checked: n_cosim as u64,
        detail: cs.divergence.clone().unwrap_or_else(|| {
            format!("every spike count of every neuron layer at every step of {n_cosim} images ({} form)", a.form.name())
        }),
    });
    d.cycles_per_image = Some(cycles);
    d.lower_bound_cycles = Some(chain_lb);
    d.lower_bound_note =
        Some("LB_chain: weight-word reads (or fire words) of the busiest engine chain (docs/hardware.md)".into());
    d.layers = layer_reports(&int, &trace, &cs, n_cosim);
    d.raster =
        report::raster_from_trace(&trace, 0, format!("test image 0 (label {})", ds.labels[0]));
    let (sops, updates) = activity(&int, &trace, &int_in[..n_cosim]);
    d.synaptic_ops_per_image = Some(sops);
    d.neuron_updates_per_image = Some(updates);
    d.synth = synth_result.clone();
    if let Some(n) = &synth_note {
        d.notes.push(format!(
            "Synthesis: the design {n}. Try a larger --target or fewer --lanes."
        ));
    }
    d.notes.push(format!(
        "Accuracy on {} images of {}; RTL accuracy on the {n_cosim} co-simulated images.",
        ds.len(),
        ds.name
    ));
    report::write(&d, &a.out)?;
    st.done(format!(
        "report.json and report.html in {}",
        a.out.display()
    ));

    print_summary(
        &a,
        &d,
        &cs,
        synth_result.as_ref(),
        synth_note.as_deref(),
        t0.elapsed(),
    )?;
    if let Some(e) = synth_failure {
        return Err(e);
    }
    if !spike_exact {
        return Err(Error::mismatch(format!(
            "co-simulation found a divergence: {}",
            cs.divergence.unwrap_or_default()
        )));
    }
    Ok(())
}

/// The time steps of a hardware run (option or model meta): 1..=65535, the hardware's 16-bit
/// step counter.
fn hw_steps(steps: u32) -> Result<u32> {
    super::limits::steps(
        "the time steps (--steps or the model's meta \"steps\"; the hardware counts them in 16 bits)",
        steps,
        u16::MAX as u32,
    )
}

/// Loads a model; a float model is quantized (bit widths and time steps: the options, else what
/// the model was trained for, from its meta). Returns (float model if any, integer model, steps).
pub(crate) fn load_and_quantize(
    model: &Path,
    steps: Option<u32>,
    weight_bits: Option<u32>,
    input_bits: Option<u32>,
) -> Result<(Option<FloatNetwork>, IntNetwork, u32)> {
    match format::load(model)? {
        AnyNetwork::Float(f) => {
            let steps = steps.or(meta_u32(&f.meta, &["steps"])).unwrap_or(4);
            let steps = hw_steps(steps)?;
            let opts = QuantOptions {
                weight_bits: weight_bits
                    .or(meta_u32(&f.meta, &["train_config", "qat", "weight_bits"]))
                    .unwrap_or(8),
                input_bits: input_bits
                    .or(meta_u32(&f.meta, &["input_bits"]))
                    .unwrap_or(8),
                steps,
                ..QuantOptions::default()
            };
            let (q, _) = quant::quantize(&f, &opts, None)?;
            Ok((Some(f), q, steps))
        }
        AnyNetwork::Integer(i) => {
            let steps = steps.or(meta_u32(&i.meta, &["steps"])).unwrap_or(4);
            let steps = hw_steps(steps)?;
            Ok((None, i, steps))
        }
    }
}

/// The evaluation images for a model: the test split of `data` (default: the model's data set),
/// at most `limit` of them, checked against the model's input size, and as integer inputs.
pub(crate) fn evaluation_inputs(
    int: &IntNetwork,
    data: Option<DataSetKind>,
    data_dir: &Path,
    limit: Option<usize>,
) -> Result<(Dataset, Vec<Vec<u32>>)> {
    let fx = int
        .fixed
        .as_ref()
        .ok_or_else(|| Error::bad_input(format!("{}: not an integer network", int.name)))?;
    let kind = data.unwrap_or_else(|| default_data(int));
    let mut ds = data::load(kind, Split::Test, data_dir)?;
    if let Some(n) = limit {
        ds.truncate(n);
    }
    if ds.is_empty() {
        return Err(Error::bad_input(format!(
            "data set {} has no images to evaluate (--limit 0?)",
            ds.name
        )));
    }
    if ds.shape.len() != int.input.shape.len() {
        return Err(Error::bad_input(format!(
            "data set {} has {} values per image, the model takes {}; choose --data",
            ds.name,
            ds.shape.len(),
            int.input.shape.len()
        )));
    }
    let int_in = eval::int_inputs(&ds, fx.input_bits);
    Ok((ds, int_in))
}

fn default_data(net: &IntNetwork) -> DataSetKind {
    match net.meta.get("dataset").and_then(|v| v.as_str()) {
        Some("digits") => DataSetKind::Digits,
        _ if net.input.shape.len() == 64 => DataSetKind::Digits,
        _ => DataSetKind::MnistSample,
    }
}

/// Synaptic operations (one per spike per fan-out weight; the constant first layer once) and
/// neuron updates (one per neuron per step), per image, from a golden trace.
fn activity(net: &IntNetwork, trace: &Trace, inputs: &[Vec<u32>]) -> (f64, f64) {
    let fan_outs: Vec<usize> = net
        .layers
        .iter()
        .filter_map(|l| match l {
            Layer::Dense(d) => Some(d.out_features),
            Layer::Conv2d(c) => Some(c.out_channels * c.kernel[0] * c.kernel[1]),
            _ => None,
        })
        .collect();
    let n = trace.samples.len().max(1) as f64;
    let mut sops = 0.0;
    let mut updates = 0.0;
    for s in &trace.samples {
        for (k, l) in s.layers.iter().enumerate() {
            let spikes: u64 = l.counts.iter().flatten().map(|&c| c as u64).sum();
            if let Some(f) = fan_outs.get(k + 1) {
                sops += (spikes as usize * f) as f64;
            }
            updates += l.counts.iter().map(|c| c.len()).sum::<usize>() as f64;
        }
    }
    // First layer: every non-zero input value once per sample (direct and burst coding are
    // constant over steps and the hardware accumulates them once); rate coding: an upper bound
    // of one event per non-zero input per step.
    let first = fan_outs.first().copied().unwrap_or(0) as f64;
    let active: f64 = inputs
        .iter()
        .map(|x| x.iter().filter(|&&v| v > 0).count() as f64)
        .sum::<f64>()
        / n;
    let per_sample = match net.input.encoding {
        crate::ir::Encoding::Rate { .. } => trace.steps as f64,
        _ => 1.0,
    };
    (sops / n + first * active * per_sample, updates / n)
}

fn layer_reports(
    net: &IntNetwork,
    trace: &Trace,
    cs: &cosim::CosimReport,
    n: usize,
) -> Vec<LayerReport> {
    let modes = report::mode_counts_from_trace(trace);
    let shapes = net.shapes().unwrap_or_default();
    let neuron_layers: Vec<usize> = (0..net.layers.len())
        .filter(|&i| net.layers[i].is_neuron())
        .collect();
    cs.engines
        .iter()
        .enumerate()
        .map(|(e, eng)| {
            let nl = neuron_layers.get(e).copied();
            let per = |x: u64| x / n.max(1) as u64;
            let lb = per(eng.lower_bound);
            LayerReport {
                name: format!("engine {e} ({})", eng.module),
                kind: nl.map_or("dense readout".into(), |i| {
                    net.layers[i].kind_name().to_string()
                }),
                neurons: nl.map_or(0, |i| shapes.get(i).map_or(0, |s| s.len() as u64)),
                modes: nl.and_then(|_| modes.get(e).copied()),
                cycles: vec![
                    CyclePart {
                        phase: "accumulate (weight reads)".into(),
                        cycles: lb,
                    },
                    CyclePart {
                        phase: "fire, events, step overhead".into(),
                        cycles: per(eng.busy).saturating_sub(lb),
                    },
                ],
            }
        })
        .collect()
}

fn print_summary(
    a: &Args,
    d: &ReportData,
    cs: &cosim::CosimReport,
    s: Option<&synth::SynthResult>,
    synth_note: Option<&str>,
    elapsed: Duration,
) -> Result<()> {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.2} %", v * 100.0));
    let fmax = s.and_then(|r| r.min_fmax_mhz());
    let cycles = d.cycles_per_image.unwrap_or(0);
    let mut rows: Vec<(String, String)> = vec![
        ("model".into(), a.model.display().to_string()),
        ("time steps".into(), d.steps.unwrap_or(0).to_string()),
        ("accuracy float".into(), pct(d.accuracy.float)),
        ("accuracy integer".into(), pct(d.accuracy.integer)),
        (
            "accuracy decoupled (LIF only)".into(),
            pct(d.accuracy.decoupled),
        ),
        (
            "accuracy RTL (co-simulated images)".into(),
            pct(d.accuracy.rtl),
        ),
        (
            "RTL vs golden".into(),
            match &d.verification {
                Some(v) if v.spike_exact => format!("spike-exact on {} images", v.inputs_checked),
                Some(v) => format!("MISMATCH: {}", v.detail),
                None => "-".into(),
            },
        ),
        (
            "hardware form, lanes".into(),
            format!("{}, {}", a.form.name(), a.lanes),
        ),
        ("cycles per image".into(), cycles.to_string()),
        (
            "lower bound (ratio)".into(),
            format!("{} ({:.3}x)", d.lower_bound_cycles.unwrap_or(0), cs.ratio()),
        ),
    ];
    if let Some(r) = s {
        rows.push((
            "device".into(),
            format!("{} ({} back end)", r.part, r.backend),
        ));
        rows.push((
            "logic cells".into(),
            format!(
                "{} of {}",
                r.resources.logic_cells.used, r.resources.logic_cells.available
            ),
        ));
        rows.push(("flip-flops".into(), r.resources.flip_flops.used.to_string()));
        rows.push((
            "block RAM".into(),
            format!(
                "{} of {}",
                r.resources.block_ram.used, r.resources.block_ram.available
            ),
        ));
        rows.push(("DSP".into(), r.resources.dsp.used.to_string()));
        if let Some(f) = fmax {
            rows.push(("fmax".into(), format!("{f:.1} MHz")));
            rows.push((
                "latency".into(),
                format!("{:.2} us per image", cycles as f64 / f),
            ));
            rows.push((
                "throughput".into(),
                format!("{:.0} images/s", f * 1e6 / cycles.max(1) as f64),
            ));
        }
    }
    if let Some(n) = synth_note {
        rows.push(("synthesis".into(), n.to_string()));
    }
    rows.push((
        "report".into(),
        a.out.join("report.html").display().to_string(),
    ));
    rows.push((
        "flow time".into(),
        format!("{:.1} s", elapsed.as_secs_f64()),
    ));
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    outln!();
    outln!("lifb-hdl flow summary");
    outln!("{}", "-".repeat(w + 40));
    for (k, v) in rows {
        outln!("{k:<w$}  {v}");
    }
    Ok(())
}
