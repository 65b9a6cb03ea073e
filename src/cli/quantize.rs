use crate::error::Result;
use crate::format;
use crate::inputs::InputSet;
use crate::quant::{self, QuantOptions};
use crate::verify;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub files: super::PassFiles,
    /// Signed weight width in bits (2..=16). Default: the width the model was trained for (its
    /// meta's quantization-aware training bits), else 8.
    #[arg(long)]
    pub weight_bits: Option<u32>,
    /// Signed membrane width in bits (4..=32); default: the smallest that holds 4x the top burst threshold.
    #[arg(long)]
    pub membrane_bits: Option<u32>,
    /// Input value width in bits (1..=16); inputs in [0, 1] become round(x * (2^bits - 1)).
    /// Default: the model's recorded input bits, else 8.
    #[arg(long)]
    pub input_bits: Option<u32>,
    /// Fractional bits of the leak factor: d = round((1 - lam) * 2^bits).
    #[arg(long, default_value_t = 8)]
    pub leak_frac_bits: u32,
    /// Input set (JSON, values in [0, 1]) to calibrate weight clipping and report agreement.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Time steps for calibration and the agreement report. Default: the model's recorded steps,
    /// else 4.
    #[arg(long)]
    pub steps: Option<u32>,
}

pub fn run(a: Args) -> Result<()> {
    if let Some(s) = a.steps {
        super::limits::steps("--steps", s, super::limits::MAX_STEPS)?;
    }
    a.files
        .files()
        .file_in(a.calibration.as_deref(), "--calibration")
        .check()?;
    let net = format::load_float(&a.files.model)?;
    let opts = QuantOptions {
        membrane_bits: a.membrane_bits,
        leak_frac_bits: a.leak_frac_bits,
        ..QuantOptions::recorded(&net.meta, a.weight_bits, a.input_bits, a.steps)
    };
    super::limits::steps(
        "the time steps (the model's meta \"steps\")",
        opts.steps,
        super::limits::MAX_STEPS,
    )?;
    let calib = match &a.calibration {
        Some(p) => Some(InputSet::read(p, net.input.shape.len())?),
        None => None,
    };
    let (q, report) = match &calib {
        Some(c) => verify::quantize_calibrated(&net, &opts, &c.samples)?,
        None => quant::quantize(&net, &opts, None)?,
    };
    format::save(&q, &a.files.output)?;
    outln!(
        "quantized {} -> {}: weights {} bits, membrane {} bits, inputs {} bits; largest threshold rounding error {:.2} %",
        a.files.model.display(),
        a.files.output.display(),
        opts.weight_bits,
        report.membrane_bits,
        opts.input_bits,
        report.max_threshold_error * 100.0
    );
    let recorded = |given: Option<u32>, path: &[&str]| {
        given.is_none() && quant::meta_u32(&net.meta, path).is_some()
    };
    if recorded(a.weight_bits, &["train_config", "qat", "weight_bits"])
        || recorded(a.input_bits, &["input_bits"])
    {
        outln!("  (widths not given are the ones the model records it was trained for)");
    }
    if let Some(c) = &calib {
        let ag = verify::agreement(&net, &q, &c.samples, c.labels.as_deref(), opts.steps)?;
        outln!(
            "agreement on {} calibration samples, T = {}:",
            ag.samples,
            opts.steps
        );
        outln!(
            "  same predicted class: {:.2} %",
            ag.class_agreement * 100.0
        );
        for (i, x) in ag.count_agreement.iter().enumerate() {
            outln!(
                "  neuron layer {i}: {:.2} % of spike counts equal",
                x * 100.0
            );
        }
        if let (Some(f), Some(i)) = (ag.float_accuracy, ag.integer_accuracy) {
            outln!(
                "  accuracy: float {:.2} %, integer {:.2} %",
                f * 100.0,
                i * 100.0
            );
        }
    }
    Ok(())
}
