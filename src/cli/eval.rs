//! `lifb-hdl eval`: accuracy of a model on a data set in the golden simulators: the float model,
//! its quantized integer model and (with --decouple) the decoupled integer model, plus how often
//! they agree image by image.

use crate::data::{self, eval, DataSetKind, Split};
use crate::error::{Error, Result};
use crate::format::{self, AnyNetwork};
use crate::ir::{FloatNetwork, IntNetwork};
use crate::quant::{self, QuantOptions};
use serde::Serialize;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model manifest (float or integer).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, value_enum, default_value = "mnist-sample")]
    pub data: DataSetKind,
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    #[arg(long, value_enum, default_value = "test")]
    pub split: Split,
    /// Only the first N images.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub quant: super::StepsQuantArgs,
    /// Choose per-layer weight clipping on the first N training images (0: no clipping; models
    /// trained quantization-aware need none).
    #[arg(long, default_value_t = 0)]
    pub calibrate: usize,
    /// Also decouple the integer model into LIF groups and compare it spike for spike.
    #[arg(long)]
    pub decouple: bool,
    /// Write the integer model here.
    #[arg(long)]
    pub save_int: Option<PathBuf>,
    /// Write the results into the float model's manifest `meta` (eval_*) and save it in place.
    #[arg(long)]
    pub update_meta: bool,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub model: String,
    pub dataset: String,
    pub images: usize,
    pub steps: u32,
    pub float_accuracy: Option<f64>,
    pub integer_accuracy: f64,
    pub weight_bits: u32,
    pub input_bits: u32,
    /// Fraction of images where float and integer models predict the same class.
    pub float_integer_agreement: Option<f64>,
    pub decoupled_accuracy: Option<f64>,
    /// Fraction of images where the decoupled and the integer model have identical readouts.
    pub decoupled_readout_agreement: Option<f64>,
    /// Spike-exact check of the decoupled model: (step, neuron) counts compared and mismatched.
    pub decoupled_counts_compared: Option<u64>,
    pub decoupled_counts_mismatched: Option<u64>,
}

pub fn run(a: Args) -> Result<()> {
    use super::limits;
    if let Some(n) = a.limit {
        limits::count("--limit", n, usize::MAX)?;
    }
    if let Some(s) = a.quant.steps {
        limits::steps("--steps", s, limits::MAX_STEPS)?;
    }
    super::Files::default()
        .model_in(&a.model, "--model")
        .model_out(a.save_int.as_deref(), "--save-int")
        .file_out(a.json.as_deref(), "--json")
        .check()?;
    let model = format::load(&a.model)?;
    let mut ds = data::load(a.data, a.split, &a.data_dir)?;
    if let Some(n) = a.limit {
        ds.truncate(n);
    }
    if ds.is_empty() {
        return Err(Error::bad_input(format!(
            "data set {} has no images to evaluate",
            ds.name
        )));
    }
    let (float, int, steps): (Option<FloatNetwork>, IntNetwork, u32) = match model {
        AnyNetwork::Float(f) => {
            let opts = QuantOptions::recorded(
                &f.meta,
                a.quant.weight_bits,
                a.quant.input_bits,
                a.quant.steps,
            );
            let calib = if a.calibrate > 0 {
                let mut c = data::load(a.data_train_kind(), Split::Train, &a.data_dir)?;
                c.truncate(a.calibrate);
                Some(eval::float_inputs(&c, None))
            } else {
                None
            };
            let (int, _) = match &calib {
                Some(c) => crate::verify::quantize_calibrated(&f, &opts, c)?,
                None => quant::quantize(&f, &opts, None)?,
            };
            (Some(f), int, opts.steps)
        }
        AnyNetwork::Integer(i) => {
            let steps = quant::model_steps(&i.meta, a.quant.steps);
            (None, i, steps)
        }
    };
    limits::steps(
        "the time steps (--steps or the model's meta \"steps\")",
        steps,
        limits::MAX_STEPS,
    )?;
    let fx = int.fixed.clone().expect("integer network");
    let int_in = eval::int_inputs(&ds, fx.input_bits);
    let int_out = eval::run_all(&crate::golden::IntSim::new(&int)?, &int_in, steps)?;
    let mut rep = EvalReport {
        model: a.model.display().to_string(),
        dataset: ds.name.clone(),
        images: ds.len(),
        steps,
        float_accuracy: None,
        integer_accuracy: eval::accuracy(&int_out, &ds.labels),
        weight_bits: fx.weight_bits,
        input_bits: fx.input_bits,
        float_integer_agreement: None,
        decoupled_accuracy: None,
        decoupled_readout_agreement: None,
        decoupled_counts_compared: None,
        decoupled_counts_mismatched: None,
    };
    if let Some(f) = &float {
        // The float model sees the inputs the integer model sees (rounded to input_bits).
        let fo = eval::float_outputs(f, &ds, steps, Some(fx.input_bits))?;
        rep.float_accuracy = Some(eval::accuracy(&fo, &ds.labels));
        rep.float_integer_agreement = Some(eval::agreement(&fo, &int_out).0);
    }
    if a.decouple {
        let dec = crate::decouple::to_lif_groups(&int)?;
        let dec_out = eval::run_all(&crate::golden::IntSim::new(&dec)?, &int_in, steps)?;
        rep.decoupled_accuracy = Some(eval::accuracy(&dec_out, &ds.labels));
        rep.decoupled_readout_agreement = Some(eval::agreement(&int_out, &dec_out).1);
        let eq = crate::verify::compare(&int, &dec, &int_in, steps)?;
        rep.decoupled_counts_compared = Some(eq.compared);
        rep.decoupled_counts_mismatched = Some(eq.mismatched);
        if let Some(d) = &eq.first {
            errln!("decoupled model diverges: {d}");
        }
    }
    print_report(&rep)?;
    if let Some(p) = &a.save_int {
        format::save(&int, p)?;
        errln!("wrote {}", p.display());
    }
    if let Some(p) = &a.json {
        let s = serde_json::to_string_pretty(&rep).map_err(|e| Error::tool(e.to_string()))?;
        crate::util::write_atomic(p, s.as_bytes())?;
    }
    if a.update_meta {
        let Some(mut f) = float else {
            return Err(Error::bad_input(
                "--update-meta needs a float model (it records float, integer and decoupled accuracy)",
            ));
        };
        let v = serde_json::to_value(&rep).map_err(|e| Error::tool(e.to_string()))?;
        let mut v = v;
        if let Some(o) = v.as_object_mut() {
            o.remove("model");
        }
        f.meta.insert(format!("eval_{}", ds.name), v);
        format::save(&f, &a.model)?;
        errln!("updated meta of {}", a.model.display());
    }
    if rep.decoupled_counts_mismatched.is_some_and(|m| m > 0) {
        return Err(Error::mismatch(
            "the decoupled model is not spike-exact with the integer model (see above)",
        ));
    }
    Ok(())
}

impl Args {
    /// The training split to calibrate on (the shipped sample has none: use full MNIST).
    fn data_train_kind(&self) -> DataSetKind {
        match self.data {
            DataSetKind::MnistSample => DataSetKind::Mnist,
            k => k,
        }
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// Print the report (through the CLI's output helper: a closed pipe is quiet, a full disk fails).
fn print_report(r: &EvalReport) -> Result<()> {
    outln!(
        "{} on {} ({} images, T = {}, weights {} bit, inputs {} bit)",
        r.model,
        r.dataset,
        r.images,
        r.steps,
        r.weight_bits,
        r.input_bits
    );
    outln!("  float model      {}", pct(r.float_accuracy));
    outln!("  integer model    {}", pct(Some(r.integer_accuracy)));
    if r.decoupled_accuracy.is_some() {
        outln!("  decoupled (LIF)  {}", pct(r.decoupled_accuracy));
    }
    if let Some(ag) = r.float_integer_agreement {
        outln!(
            "  float vs integer: same class on {:.2}% of images",
            100.0 * ag
        );
    }
    if let (Some(ag), Some(c), Some(m)) = (
        r.decoupled_readout_agreement,
        r.decoupled_counts_compared,
        r.decoupled_counts_mismatched,
    ) {
        outln!(
            "  decoupled vs integer: identical readout on {:.2}% of images; {m} of {c} spike counts differ",
            100.0 * ag
        );
    }
    Ok(())
}
