use crate::error::Result;
use crate::format::TensorElem;
use crate::format::{self, AnyNetwork};
use crate::golden::encode::int_inputs;
use crate::golden::{Sim, SimElem, Trace, TraceOptions};
use crate::inputs::{InputFile, TrainRules};
use crate::ir::Network;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub model: super::ModelArg,
    /// Input file (docs/file-formats.md): values {"samples": [[values in 0..1]], "labels": [..]},
    /// or per-step trains {"trains": [..]} (counts 0..=2^input_bits - 1 per step; they set the
    /// time steps).
    #[arg(long, visible_alias = "inputs")]
    pub input: PathBuf,
    /// Time steps per sample. Default: the trains' steps, else the model's recorded steps, else 4.
    #[arg(long)]
    pub steps: Option<u32>,
    /// Trace file to write (docs/file-formats.md, "Trace"); omit to print a summary only.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Record post-reset membranes in the trace as well.
    #[arg(long)]
    pub membranes: bool,
}

pub fn run(a: Args) -> Result<()> {
    use super::limits;
    if let Some(s) = a.steps {
        limits::steps("--steps", s, limits::MAX_STEPS)?;
    }
    let model = a.model.path();
    super::Files::default()
        .model_in(model, "model")
        .file_in(Some(&a.input), "--input")
        .file_out(a.output.as_deref(), "-o")
        .check()?;
    let any = format::load(model)?;
    let (recorded, n_in, input_bits) = match &any {
        AnyNetwork::Float(n) => (
            crate::quant::model_steps(&n.meta, None),
            n.input.shape.len(),
            // the width of the integer model it quantizes to ('quantize' with no options)
            crate::quant::QuantOptions::recorded(&n.meta, None, None, None).input_bits,
        ),
        AnyNetwork::Integer(n) => (
            crate::quant::model_steps(&n.meta, None),
            n.input.shape.len(),
            n.fixed.as_ref().map_or(1, |f| f.input_bits),
        ),
    };
    let max = ((1u64 << input_bits) - 1) as u32;
    let file = InputFile::read(
        &a.input,
        &TrainRules {
            inputs: n_in,
            max,
            input_bits,
            steps_given: a.steps,
            steps_default: recorded,
        },
    )?;
    let steps = match &file {
        InputFile::Trains(t) => t.steps,
        InputFile::Values(_) => a.steps.unwrap_or(recorded),
    };
    limits::steps("the model's recorded steps", steps, limits::MAX_STEPS)?;
    // The whole trace is held in memory, and then its JSON: estimated before simulating.
    let check_trace = |per_sample: u128, neurons: u128, samples: usize| -> Result<()> {
        let json = if a.output.is_some() {
            neurons * steps as u128 * if a.membranes { 2 + 24 } else { 2 }
        } else {
            0
        };
        limits::buffer(
            &format!(
                "the trace of {samples} samples x {} steps{}",
                steps,
                if a.membranes { " with membranes" } else { "" }
            ),
            (per_sample + json) * samples as u128,
            "lower --steps, give fewer samples, or leave out --membranes",
        )
    };
    let (trace, name) = match &any {
        AnyNetwork::Float(n) => {
            let samples: Vec<Vec<f32>> = match &file {
                InputFile::Values(set) => set.samples.clone(),
                // a count c stands for c / max, as the integer model's input c does
                InputFile::Trains(t) => t
                    .counts
                    .iter()
                    .map(|x| x.iter().map(|&c| c as f32 / max as f32).collect())
                    .collect(),
            };
            (
                simulate(n, "float", &a, steps, &check_trace, &file, samples)?,
                &n.name,
            )
        }
        AnyNetwork::Integer(n) => {
            let samples: Vec<Vec<u32>> = match &file {
                InputFile::Values(set) => set.samples.iter().map(|x| int_inputs(x, max)).collect(),
                InputFile::Trains(t) => t.counts.clone(),
            };
            let trace = simulate(n, "integer", &a, steps, &check_trace, &file, samples)?;
            (trace, &n.name)
        }
    };
    let labelled: Vec<_> = trace
        .samples
        .iter()
        .filter_map(|s| s.label.map(|l| (s.predicted, l)))
        .collect();
    let spikes: u64 = trace
        .samples
        .iter()
        .flat_map(|s| s.layers.iter().flat_map(|l| l.counts.iter().flatten()))
        .map(|&c| c as u64)
        .sum();
    outln!(
        "{name}: {} samples x {} steps, {} spikes in all neuron layers",
        trace.samples.len(),
        steps,
        spikes
    );
    if !labelled.is_empty() {
        let ok = labelled.iter().filter(|(p, l)| *p as u32 == *l).count();
        outln!(
            "accuracy: {ok}/{} = {:.2} %",
            labelled.len(),
            100.0 * ok as f64 / labelled.len() as f64
        );
    }
    if let Some(out) = &a.output {
        trace.write(out)?;
        outln!("trace: {}", out.display());
    }
    Ok(())
}

/// Check the trace's size with `check` (bytes per sample, traced neurons, samples) and simulate
/// every sample of `file` (given as `samples`, as the network's number type takes them); trains
/// make the network take its input per step.
fn simulate<T: SimElem + TensorElem>(
    n: &Network<T>,
    precision: &str,
    a: &Args,
    steps: u32,
    check: &dyn Fn(u128, u128, usize) -> Result<()>,
    file: &InputFile,
    samples: Vec<Vec<T::Input>>,
) -> Result<Trace> {
    use super::limits;
    check(
        limits::trace_bytes(n, steps, a.membranes)?,
        limits::traced_neurons(n)?,
        samples.len(),
    )?;
    let (per_step, labels) = match file {
        InputFile::Values(set) => (None, &set.labels),
        InputFile::Trains(t) => (Some(crate::pipeline::per_step_network(n)?), &t.labels),
    };
    let n = per_step.as_ref().unwrap_or(n);
    let sim = Sim::new(n)?;
    let opts = TraceOptions {
        counts: true,
        membranes: a.membranes,
    };
    let mut t = Trace::new(precision, Some(format::model_hash(n)?), steps);
    for (s, x) in samples.iter().enumerate() {
        let mut st = sim.run(x, s as u64, steps, opts)?;
        st.label = labels.as_ref().map(|l| l[s]);
        t.samples.push(st);
    }
    Ok(t)
}
