//! The steps of the flow: each reads the artifacts it needs and adds its own.

use super::{
    per_step_network, synth_request, synthesize, Artifacts, DecoupleCheck, Evaluation, FlowOptions,
    RunSteps, Step, SynthVerdict,
};
use crate::codegen;
use crate::cosim::{self, CosimOptions, CosimReport};
use crate::data::eval;
use crate::decouple;
use crate::error::{Error, Result};
use crate::format::{self, AnyNetwork};
use crate::golden::{FloatSim, IntSim, Trace, TraceOptions};
use crate::ir::{FloatNetwork, IntNetwork};
use crate::quant::{self, QuantOptions};
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
    // The samples are read now: per-step trains set the time steps and make the models take
    // their input per step, before anything is made from them.
    let run = RunSteps {
        given: o.steps,
        default: steps,
    };
    let inputs = o.inputs.load(&int, o.limit, run)?;
    let (float, int, steps) = match inputs.train_steps {
        Some(t) => (
            float.as_ref().map(per_step_network).transpose()?,
            per_step_network(&int)?,
            hw_steps(t)?,
        ),
        None => (float, int, steps),
    };
    let fx = int.fixed.clone().expect("integer network");
    let line = format!(
        "{}: {}; integer model: weights {} bits, inputs {} bits, membrane {} bits, T = {steps}{}",
        o.model.display(),
        int.name,
        fx.weight_bits,
        fx.input_bits,
        fx.membrane_bits,
        match inputs.train_steps {
            Some(_) => format!(" (from the {}; input given per step)", inputs.what),
            None => String::new(),
        }
    );
    a.inputs = Some(inputs);
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
        let inputs = &a.inputs(o)?.int;
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
    let input_max = int.fixed.as_ref().map_or(1, |f| f.input_max());
    let float = a.float.clone();
    let lif = a.decoupled.clone();
    let inputs = a.inputs(o)?;
    let out_int = eval::run_all(&IntSim::new(&int)?, &inputs.int, steps)?;
    let out_float = match &float {
        Some(f) => Some(eval::run_all(
            &FloatSim::new(f)?,
            &inputs.float(input_max),
            steps,
        )?),
        None => None,
    };
    let out_lif = match &lif {
        Some(l) => Some(eval::run_all(&IntSim::new(l)?, &inputs.int, steps)?),
        None => None,
    };
    let labels = inputs.labels.as_deref();
    let acc = |out: &eval::Outputs| labels.map(|l| accuracy(out, l));
    let agrees = |out: &eval::Outputs| eval::agreement(out, &out_int).0;
    let e = Evaluation {
        data: inputs.what.clone(),
        images: inputs.len() as u64,
        labelled: labels.is_some(),
        float: out_float.as_ref().and_then(acc),
        integer: acc(&out_int),
        decoupled: out_lif.as_ref().and_then(acc),
        float_agrees: out_float.as_ref().map(agrees),
        decoupled_agrees: out_lif.as_ref().map(agrees),
    };
    let pct = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:.2} %", x * 100.0));
    let line = match e.integer {
        Some(acc_int) => format!(
            "{}: float {}, integer {:.2} %, decoupled {}",
            inputs.describe(),
            pct(e.float),
            acc_int * 100.0,
            pct(e.decoupled)
        ),
        None => format!(
            "{} (no labels: no accuracy): the class of the integer model is the float model's on {}, the decoupled model's on {}",
            inputs.describe(),
            pct(e.float_agrees),
            pct(e.decoupled_agrees)
        ),
    };
    a.evaluation = Some(e);
    Ok(line)
}

/// The share of samples whose predicted class is their label.
fn accuracy(out: &eval::Outputs, labels: &[u32]) -> f64 {
    let ok = out
        .iter()
        .zip(labels)
        .filter(|((p, _), &l)| *p as u32 == l)
        .count();
    ok as f64 / labels.len().max(1) as f64
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
    Ok(o.cosim_images.min(a.inputs(o)?.len()))
}

fn cosim_step(a: &mut Artifacts, o: &FlowOptions) -> Result<String> {
    Artifacts::need(&a.integer, Step::Quantize, Step::Cosim)?;
    Artifacts::need(&a.design, Step::Generate, Step::Cosim)?;
    let steps = a.time_steps.expect("set with the integer model");
    let n = cosim_count(a, o)?;
    let design = a.design.as_ref().expect("checked above");
    let inputs = &a.inputs.as_ref().expect("loaded by cosim_count").int;
    let copts = CosimOptions {
        steps,
        codegen: o.codegen.clone(),
        cache_dir: cosim::default_cache_dir(),
        ..Default::default()
    };
    let cs = cosim::cosim_design(design, &inputs[..n], &copts)?;
    let line = format!(
        "{n} samples: {}; {} cycles per image, {:.3}x the lower bound",
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
    let mut req = synth_request(
        &o.out.join("rtl"),
        o.target,
        o.backend,
        o.out.join("synth"),
        o.synth_timeout,
    );
    // The report shows the resources per module.
    req.per_module = true;
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
    let inputs = a.inputs.as_ref().expect("loaded by cosim_count");
    let int_in = &inputs.int;
    let labels = inputs.labels.as_deref();
    let cs = a.cosim.as_ref().expect("checked above");
    // Golden trace of the co-simulated samples (LIFB counts: resting, regular and burst modes).
    let sim = IntSim::new(&int)?;
    let mut trace = Trace::new("integer", Some(format::model_hash(&int)?), steps);
    let topts = TraceOptions {
        counts: true,
        membranes: false,
    };
    for (s, x) in int_in[..n].iter().enumerate() {
        let mut t = sim.run(x, s as u64, steps, topts)?;
        t.label = labels.map(|l| l[s]);
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
        d.accuracy.images = e.labelled.then_some(e.images);
        d.accuracy.float = e.float;
        d.accuracy.integer = e.integer;
        d.accuracy.decoupled = e.decoupled;
    }
    // Where the RTL is spike-exact its outputs equal the golden model's on every co-simulated
    // image, so its accuracy there is the golden model's (on a mismatch it is left out).
    d.accuracy.rtl =
        (spike_exact && labels.is_some()).then(|| rtl_correct as f64 / n.max(1) as f64);
    d.accuracy.rtl_images = d.accuracy.rtl.map(|_| n as u64);
    let form = o.codegen.form;
    d.verification = Some(Verification {
        spike_exact,
        inputs_checked: n as u64,
        detail: cs.divergence.clone().unwrap_or_else(|| {
            format!(
                "every spike count of every neuron layer at every step of {n} {} ({} form)",
                inputs.what,
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
    if let Some(design) = &a.design {
        for (l, e) in d.layers.iter_mut().zip(&design.manifest.engines) {
            l.engine_module = Some(e.module.clone());
        }
    }
    let first = match labels {
        Some(l) => format!("sample 0 of the {} (label {})", inputs.what, l[0]),
        None => format!("sample 0 of the {}", inputs.what),
    };
    d.raster = report::raster_from_trace(&trace, 0, first);
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
    let sops = cs.synaptic_ops.iter().sum::<u64>() as f64 / cs.synaptic_ops.len().max(1) as f64;
    d.synaptic_ops_per_image = (!cs.synaptic_ops.is_empty()).then_some(sops);
    d.neuron_updates_per_image = Some(neuron_updates(&trace));
    d.synth = synth_result.cloned();
    if let Some(v) = a.synth.as_ref().filter(|v| v.result().is_none()) {
        d.notes.push(format!(
            "Synthesis: the design {}. Try a larger --target or fewer --lanes.",
            v.describe(o.target)
        ));
    }
    d.notes
        .push(match a.evaluation.as_ref().filter(|e| !e.labelled) {
            None => format!(
                "Accuracy on {}; RTL accuracy on the {n} co-simulated samples.",
                inputs.describe()
            ),
            Some(e) => format!(
                "The {} have no labels, so no accuracy is measured. Golden models on all {}: the \
             float model predicts the integer model's class on {}, the decoupled model on {}; \
             the RTL is compared with the integer golden model spike for spike on {n} of them.",
                inputs.what,
                e.images,
                share(e.float_agrees),
                share(e.decoupled_agrees),
            ),
        });
    match report::training::from_meta(&int.meta) {
        Ok(history) => d.training = history,
        Err(why) => d.training_note = Some(format!("No training curve: {why}.")),
    }
    d.reproducibility = Some(report::Reproducibility::of_this_process(tool_versions(
        d.synth.as_ref(),
    )));
    d.step_seconds = a.times.clone();
    report::write(&d, &o.out)?;
    a.report = Some(d);
    Ok(format!(
        "report.json and report.html in {}",
        o.out.display()
    ))
}

/// "97.50 %" or "- (no such model)".
fn share(x: Option<f64>) -> String {
    x.map_or("- (no such model)".into(), |x| {
        format!("{:.2} %", x * 100.0)
    })
}

/// The tools behind the report's figures: Verilator (asked now; it co-simulated the design),
/// and Yosys and nextpnr as the synthesis run recorded them.
fn tool_versions(synth: Option<&crate::synth::SynthResult>) -> Vec<report::ToolVersion> {
    let tool = |tool: &str, version: String| report::ToolVersion {
        tool: tool.into(),
        version,
    };
    let mut tools = vec![tool(
        "verilator",
        cosim::verilator_version().unwrap_or_else(|e| format!("unknown ({e})")),
    )];
    if let Some(r) = synth {
        tools.push(tool("yosys", r.tools.yosys.clone()));
        tools.push(tool("nextpnr", r.tools.nextpnr.clone()));
    }
    tools
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
            let steps = hw_steps(quant::model_steps(&f.meta, steps))?;
            let opts = QuantOptions::recorded(&f.meta, weight_bits, input_bits, Some(steps));
            let (q, _) = quant::quantize(&f, &opts, None)?;
            Ok((Some(f), q, steps))
        }
        AnyNetwork::Integer(i) => {
            let steps = hw_steps(quant::model_steps(&i.meta, steps))?;
            Ok((None, i, steps))
        }
    }
}

/// Neuron updates per image: every neuron of every neuron layer at every step, averaged over
/// the traced samples.
fn neuron_updates(trace: &Trace) -> f64 {
    let updates: usize = trace
        .samples
        .iter()
        .flat_map(|s| &s.layers)
        .map(|l| l.counts.iter().map(|c| c.len()).sum::<usize>())
        .sum();
    updates as f64 / trace.samples.len().max(1) as f64
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
                engine_module: None,
            }
        })
        .collect()
}
