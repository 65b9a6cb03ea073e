//! The steps of the flow: each reads the artifacts it needs and adds its own.

use super::{
    synth_request, synthesize, Artifacts, DecoupleCheck, Evaluation, FlowOptions, Step,
    SynthVerdict,
};
use crate::codegen;
use crate::cosim::{self, CosimOptions, CosimReport};
use crate::data::{self, eval, DataSetKind, Dataset, Split};
use crate::decouple;
use crate::error::{Error, Result};
use crate::format::{self, AnyNetwork};
use crate::golden::{IntSim, Trace, TraceOptions};
use crate::ir::{FloatNetwork, IntNetwork, Layer};
use crate::quant::{self, meta_u32, QuantOptions};
use crate::report::{self, CyclePart, LayerReport, ReportData, Verification};
use std::path::Path;

/// Run one step on the artifacts; returns its one-line summary.
pub(super) fn run_step(s: Step, a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    match s {
        Step::Quantize => quantize_step(a, o),
        Step::Decouple => decouple_step(a, o),
        Step::Evaluate => evaluate_step(a, o),
        Step::Generate => generate_step(a, o),
        Step::Cosim => cosim_step(a, o),
        Step::Synth => synth_step(a, o),
        Step::Report => report_step(a, o),
    }
}

fn quantize_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    let (float, int, steps) = load_and_quantize(&o.model, o.steps, o.weight_bits, o.input_bits)?;
    let fx = int.fixed.clone().expect("integer network");
    let line = format!(
        "{}: {}; integer model: weights {} bits, inputs {} bits, membrane {} bits, T = {steps}",
        o.model.display(),
        int.name,
        fx.weight_bits,
        fx.input_bits,
        fx.membrane_bits
    );
    a.float = float;
    a.integer = Some(int);
    a.time_steps = Some(steps);
    Ok(line)
}

fn decouple_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    let int = Artifacts::need(&a.integer, Step::Quantize, Step::Decouple)?;
    let lif = decouple::to_lif_groups(int)?;
    let lif_units = lif.layers.iter().filter(|l| l.is_neuron()).count();
    let mut line = format!("group form: {lif_units} LIF neuron layers, only LIF neurons");
    a.decouple_check = None;
    if o.verify.decouple {
        let steps = a.time_steps.expect("set with the integer model");
        let int = a.integer.clone().expect("checked above");
        let (_, inputs) = a.inputs(o)?;
        let eq = crate::verify::compare(&int, &lif, inputs, steps)?;
        if !eq.exact() {
            return Err(Error::mismatch(format!(
                "the decoupled model differs from the LIFB model: {} (a bug: please report)",
                eq.first.map(|d| d.to_string()).unwrap_or_default()
            )));
        }
        line.push_str(&format!(
            "; LIFB vs decoupled: {} of {} spike counts equal",
            eq.compared - eq.mismatched,
            eq.compared
        ));
        a.decouple_check = Some(DecoupleCheck {
            compared: eq.compared,
            mismatched: eq.mismatched,
            first: eq.first.map(|d| d.to_string()),
        });
    }
    a.decoupled = Some(lif);
    Ok(line)
}

fn evaluate_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    let int = Artifacts::need(&a.integer, Step::Quantize, Step::Evaluate)?.clone();
    let steps = a.time_steps.expect("set with the integer model");
    let input_bits = int.fixed.as_ref().map(|f| f.input_bits);
    let float = a.float.clone();
    let lif = a.decoupled.clone();
    let (ds, int_in) = a.inputs(o)?;
    let acc_float = match &float {
        Some(f) => Some(eval::accuracy(
            &eval::float_outputs(f, ds, steps, input_bits)?,
            &ds.labels,
        )),
        None => None,
    };
    let acc_int = eval::accuracy(
        &eval::run_all(&IntSim::new(&int)?, int_in, steps)?,
        &ds.labels,
    );
    let acc_lif = match &lif {
        Some(l) => Some(eval::accuracy(
            &eval::run_all(&IntSim::new(l)?, int_in, steps)?,
            &ds.labels,
        )),
        None => None,
    };
    let pct = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:.2} %", x * 100.0));
    let line = format!(
        "{} {} images: float {}, integer {:.2} %, decoupled {}",
        ds.len(),
        ds.name,
        pct(acc_float),
        acc_int * 100.0,
        pct(acc_lif)
    );
    a.evaluation = Some(Evaluation {
        data: ds.name.clone(),
        images: ds.len() as u64,
        float: acc_float,
        integer: acc_int,
        decoupled: acc_lif,
    });
    Ok(line)
}

fn generate_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    let int = Artifacts::need(&a.integer, Step::Quantize, Step::Generate)?;
    let design = codegen::generate(int, &o.codegen)?;
    let rtl = o.out.join("rtl");
    codegen::write(&design, &rtl)?;
    let line = format!(
        "{} form, lanes {}: {} files in {}",
        o.codegen.form.name(),
        o.lanes_text,
        design.files.len(),
        rtl.display()
    );
    a.design = Some(design);
    Ok(line)
}

/// Images co-simulated: the option, at most the evaluation images.
fn cosim_count(a: &mut Artifacts, o: &FlowOptions) -> Result<usize> {
    Ok(o.cosim_images.min(a.inputs(o)?.1.len()))
}

fn cosim_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    Artifacts::need(&a.integer, Step::Quantize, Step::Cosim)?;
    Artifacts::need(&a.design, Step::Generate, Step::Cosim)?;
    let steps = a.time_steps.expect("set with the integer model");
    let n = cosim_count(a, o)?;
    let design = a.design.as_ref().expect("checked above");
    let inputs = &a.inputs.as_ref().expect("loaded by cosim_count").1;
    let copts = CosimOptions {
        steps,
        codegen: o.codegen.clone(),
        cache_dir: cosim::default_cache_dir(),
        ..Default::default()
    };
    let cs = cosim::cosim_design(design, &inputs[..n], &copts)?;
    let line = format!(
        "{n} images: {}; {} cycles per image, {:.3}x the lower bound",
        if cs.divergence.is_none() {
            "spike-exact at every layer and step"
        } else {
            "MISMATCH"
        },
        cs.cycles_per_sample(),
        cs.ratio()
    );
    a.cosim = Some(cs);
    Ok(line)
}

fn synth_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    Artifacts::need(&a.design, Step::Generate, Step::Synth)?;
    let req = synth_request(
        &o.out.join("rtl"),
        o.target,
        o.backend,
        o.out.join("synth"),
        o.synth_timeout,
    );
    let v = synthesize(&req)?;
    let line = match &v {
        SynthVerdict::Failed { .. } => format!("synthesis {}", v.describe(o.target)),
        _ => v.describe(o.target),
    };
    a.synth = Some(v);
    Ok(line)
}

fn report_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    let int = Artifacts::need(&a.integer, Step::Quantize, Step::Report)?.clone();
    Artifacts::need(&a.cosim, Step::Cosim, Step::Report)?;
    let steps = a.time_steps.expect("set with the integer model");
    let n = cosim_count(a, o)?;
    let (ds, int_in) = a.inputs.as_ref().expect("loaded by cosim_count");
    let cs = a.cosim.as_ref().expect("checked above");
    // Golden trace of the co-simulated images (LIFB counts: resting, regular and burst modes).
    let sim = IntSim::new(&int)?;
    let mut trace = Trace::new("integer", Some(format::model_hash(&int)?), steps);
    let topts = TraceOptions {
        counts: true,
        membranes: false,
    };
    for (s, x) in int_in[..n].iter().enumerate() {
        let mut t = sim.run(x, s as u64, steps, topts)?;
        t.label = Some(ds.labels[s] as u32);
        trace.samples.push(t);
    }
    trace.write(&o.out.join("trace.json"))?;
    let rtl_correct = trace
        .samples
        .iter()
        .filter(|s| Some(s.predicted as u32) == s.label)
        .count();
    let spike_exact = cs.divergence.is_none();
    let synth_result = a.synth.as_ref().and_then(|v| v.result());
    let mut d = ReportData::new(format!(
        "{} on {}",
        int.name,
        synth_result.map_or_else(
            || match a.synth {
                None => "no device (synthesis skipped)".to_string(),
                Some(_) => format!("{} (not placed)", o.target),
            },
            |r| r.part.clone(),
        )
    ));
    d.model = Some(o.model.display().to_string());
    d.steps = Some(steps);
    if let Some(e) = &a.evaluation {
        d.accuracy.images = Some(e.images);
        d.accuracy.float = e.float;
        d.accuracy.integer = Some(e.integer);
        d.accuracy.decoupled = e.decoupled;
    }
    // Where the RTL is spike-exact its outputs equal the golden model's on every co-simulated
    // image, so its accuracy there is the golden model's (on a mismatch it is left out).
    d.accuracy.rtl = spike_exact.then(|| rtl_correct as f64 / n.max(1) as f64);
    d.accuracy.rtl_images = d.accuracy.rtl.map(|_| n as u64);
    let form = o.codegen.form;
    d.verification = Some(Verification {
        spike_exact,
        inputs_checked: n as u64,
        detail: cs.divergence.clone().unwrap_or_else(|| {
            format!(
                "every spike count of every neuron layer at every step of {n} images ({} form)",
                form.name()
            )
        }),
    });
    d.cycles_per_image = Some(cs.cycles_per_sample());
    d.lower_bound_cycles = Some(cs.chain_bounds.iter().sum::<u64>() / n.max(1) as u64);
    d.lower_bound_note = Some(
        "LB_chain: weight-word reads (or fire words) of the busiest engine chain (docs/hardware.md)"
            .into(),
    );
    d.layers = layer_reports(&int, &trace, cs, n);
    d.raster =
        report::raster_from_trace(&trace, 0, format!("test image 0 (label {})", ds.labels[0]));
    if form != crate::ir::Form::Native {
        // The trace is the LIFB network's; the hardware's sub-units fire binary spikes whose
        // sum per neuron and step equals these counts (the decouple step checks it).
        if let Some(r) = d.raster.as_mut() {
            r.note = Some(format!(
                "The design is in the {} form: its sub-units fire binary spikes; the raster shows \
                 their LIFB-equivalent counts (the sum over each neuron's sub-units per step).",
                form.name()
            ));
        }
    }
    let (sops, updates) = activity(&int, &trace, &int_in[..n]);
    d.synaptic_ops_per_image = Some(sops);
    d.neuron_updates_per_image = Some(updates);
    d.synth = synth_result.cloned();
    if let Some(v) = a.synth.as_ref().filter(|v| v.result().is_none()) {
        d.notes.push(format!(
            "Synthesis: the design {}. Try a larger --target or fewer --lanes.",
            v.describe(o.target)
        ));
    }
    d.notes.push(format!(
        "Accuracy on {} images of {}; RTL accuracy on the {n} co-simulated images.",
        ds.len(),
        ds.name
    ));
    d.step_seconds = a.times.clone();
    report::write(&d, &o.out)?;
    a.report = Some(d);
    Ok(format!(
        "report.json and report.html in {}",
        o.out.display()
    ))
}

/// The time steps of a hardware run (option or model meta): 1..=65535, the hardware's 16-bit
/// step counter.
fn hw_steps(steps: u32) -> Result<u32> {
    crate::limits::steps(
        "the time steps (--steps or the model's meta \"steps\"; the hardware counts them in 16 bits)",
        steps,
        u16::MAX as u32,
    )
}

/// Loads a model; a float model is quantized (bit widths and time steps: the options, else what
/// the model was trained for, from its meta). Returns (float model if any, integer model, steps).
pub fn load_and_quantize(
    model: &Path,
    steps: Option<u32>,
    weight_bits: Option<u32>,
    input_bits: Option<u32>,
) -> Result<(Option<FloatNetwork>, IntNetwork, u32)> {
    match format::load(model)? {
        AnyNetwork::Float(f) => {
            let steps = steps.or(meta_u32(&f.meta, &["steps"])).unwrap_or(4);
            let steps = hw_steps(steps)?;
            let opts = QuantOptions::recorded(&f.meta, weight_bits, input_bits, Some(steps));
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
pub fn evaluation_inputs(
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

fn layer_reports(net: &IntNetwork, trace: &Trace, cs: &CosimReport, n: usize) -> Vec<LayerReport> {
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
                // Named as the raster names the layer (the readout has no neuron layer there).
                name: nl.map_or_else(
                    || format!("readout (engine {e})"),
                    |i| report::layer_name(i, net.layers[i].kind_name()),
                ),
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
