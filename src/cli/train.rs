//! `lifb-hdl train`: surrogate-gradient training of an LIFB or LIF MLP on digits, MNIST or
//! Fashion-MNIST; writes a float model (manifest + safetensors) with its accuracy in `meta`.

use crate::data::DataSetKind;
use crate::error::{Error, Result};
#[cfg(feature = "train")]
use crate::ir::{Encoding, Reset};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NeuronKind {
    /// Leaky integrate-and-fire: at most one spike per step (B = 1).
    Lif,
    /// Leaky integrate-and-fire-or-burst: up to B spikes per step.
    Lifb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResetArg {
    Subtract,
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadoutArg {
    /// Final Dense layer, currents summed over the steps (integrator readout).
    Current,
    /// Final spiking layer, spike counts summed over the steps.
    Spikes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CodingArg {
    /// The (rounded) pixel values themselves, the same at every step.
    Direct,
    /// A Bernoulli spike per pixel per step with probability = its value (seeded by --seed).
    Rate,
    /// round(value * K) spikes per pixel, the same at every step (K: --coding-max).
    Burst,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Data set.
    #[arg(long, value_enum, default_value = "digits")]
    pub data: DataSetKind,
    /// Where scripts/fetch-data.sh put MNIST and Fashion-MNIST.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Layers: an MLP as widths, input first (default: 64-32-10 for digits, 784-256-10
    /// otherwise), or a conv net on the images like c8k3-p2-64-10 (conv 8 channels 3x3, average
    /// pooling 2x2, dense 64, dense 10).
    #[arg(long)]
    pub arch: Option<String>,
    #[arg(long, value_enum, default_value = "lifb")]
    pub neuron: NeuronKind,
    /// Max spikes per step B of LIFB neurons (ignored for LIF).
    #[arg(long, default_value_t = 3)]
    pub burst: u32,
    /// Time steps T per sample.
    #[arg(long, short = 'T', default_value_t = 4)]
    pub steps: u32,
    /// Epochs (default: 60 for digits, 10 otherwise).
    #[arg(long)]
    pub epochs: Option<u32>,
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Peak learning rate, AdamW with cosine decay to 0 (default: 1e-2 for digits, 2e-3 otherwise).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Leak factor lam (1 = no leak; 1 - 2^-k quantizes exactly).
    #[arg(long, default_value_t = 1.0)]
    pub lam: f32,
    #[arg(long, value_enum, default_value = "subtract")]
    pub reset: ResetArg,
    #[arg(long, value_enum, default_value = "current")]
    pub readout: ReadoutArg,
    /// Surrogate sharpness alpha (sigmoid slope per unit of (H - theta) / D).
    #[arg(long, default_value_t = 4.0)]
    pub alpha: f32,
    /// How an image becomes the first layer's input at each step (the model records it; the
    /// golden model, the co-simulation and the hardware use the same coder).
    #[arg(long, value_enum, default_value = "direct")]
    pub coding: CodingArg,
    /// Burst coding: the most spikes per pixel and step, K.
    #[arg(long, default_value_t = 3)]
    pub coding_max: u32,
    /// Round inputs to this many bits, as the integer model sees them (0: keep floats).
    #[arg(long, default_value_t = 4)]
    pub input_bits: u32,
    /// Quantization-aware fine-tuning to this signed weight width (0: none).
    #[arg(long, default_value_t = 0)]
    pub weight_bits: u32,
    /// How many of the last epochs are quantization-aware (with --weight-bits).
    #[arg(long, default_value_t = 2)]
    pub qat_epochs: u32,
    /// Augmentation: translate every training image by a random offset of up to N pixels in
    /// each direction (zero fill), drawn anew every epoch (0: none).
    #[arg(long, default_value_t = 0)]
    pub shift: u32,
    /// Train on the first N training images only.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Evaluate on the first N test images only.
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Output model manifest (tensors go beside it as .safetensors).
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Checkpoint file (default: OUTPUT with extension .ckpt.safetensors), written every epoch.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint (same options needed).
    #[arg(long)]
    pub resume: bool,
    /// No progress bar (one line per epoch is still printed).
    #[arg(long)]
    pub quiet: bool,
}

#[cfg(not(feature = "train"))]
pub fn run(_args: Args) -> Result<()> {
    Err(Error::bad_input(
        "this lifb-hdl was built without the `train` feature; rebuild with default features",
    ))
}

#[cfg(feature = "train")]
pub fn run(a: Args) -> Result<()> {
    use crate::data::{self, Split};
    use crate::train::{self, net, quantize::QatConfig, RunOptions, TrainConfig};

    use super::limits;
    limits::steps("--steps", a.steps, limits::MAX_STEPS)?;
    if let Some(e) = a.epochs {
        limits::count("--epochs", e as usize, limits::MAX_EPOCHS as usize)?;
    }
    limits::count("--batch", a.batch, limits::MAX_BATCH)?;
    if let Some(n) = a.train_limit {
        limits::count("--train-limit", n, usize::MAX)?;
    }
    if let Some(n) = a.test_limit {
        limits::count("--test-limit", n, usize::MAX)?;
    }
    if let Some(lr) = a.lr {
        limits::float("--lr", lr, 0.0, 10.0, true)?;
    }
    limits::float("--weight-decay", a.weight_decay, 0.0, 10.0, false)?;
    limits::float("--lam", a.lam as f64, 0.0, 1.0, true)?;
    limits::float("--alpha", a.alpha as f64, 0.0, 1e6, true)?;
    if a.neuron == NeuronKind::Lifb {
        crate::error::in_range("--burst", a.burst, 1..=64)?;
    }
    crate::error::in_range("--input-bits", a.input_bits, 0..=16)?;
    if a.weight_bits == 1 || a.weight_bits > 16 {
        return Err(Error::bad_input(format!(
            "--weight-bits must be 0 (none) or 2..=16, got {}",
            a.weight_bits
        )));
    }
    let checkpoint = a.checkpoint.clone().unwrap_or_else(|| {
        let stem = a
            .output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        a.output.with_file_name(format!("{stem}.ckpt.safetensors"))
    });
    super::Files::default()
        .model_out(Some(&a.output), "-o")
        .file_out(Some(&checkpoint), "--checkpoint")
        .check()?;
    let train_ds = data::load(a.data, Split::Train, &a.data_dir)?;
    let mut test_ds = data::load(a.data, Split::Test, &a.data_dir)?;
    if let Some(n) = a.test_limit {
        test_ds.truncate(n);
    }
    let arch = match &a.arch {
        Some(s) => s.clone(),
        None if a.data == DataSetKind::Digits => "64-32-10".into(),
        None => "784-256-10".into(),
    };
    let (input, blocks) = net::parse_arch(&arch, train_ds.shape).map_err(Error::bad_input)?;
    let max_burst = match a.neuron {
        NeuronKind::Lif => 1,
        NeuronKind::Lifb => a.burst,
    };
    let digits = a.data == DataSetKind::Digits;
    let epochs = a.epochs.unwrap_or(if digits { 60 } else { 10 });
    let lr = a.lr.unwrap_or(if digits { 1e-2 } else { 2e-3 });
    let input_bits = (a.input_bits > 0).then_some(a.input_bits);
    let qat = if a.weight_bits > 0 {
        Some(QatConfig {
            weight_bits: a.weight_bits,
            input_bits: input_bits.ok_or_else(|| {
                Error::bad_input("--weight-bits needs --input-bits > 0 (the integer input width)")
            })?,
        })
    } else {
        None
    };
    let cfg = TrainConfig {
        dataset: a.data.name().to_string(),
        net: net::NetConfig {
            arch,
            input,
            blocks,
            max_burst,
            lam: a.lam,
            reset: match a.reset {
                ResetArg::Subtract => Reset::Subtract,
                ResetArg::Zero => Reset::Zero,
            },
            readout: match a.readout {
                ReadoutArg::Current => net::ReadoutKind::Current,
                ReadoutArg::Spikes => net::ReadoutKind::Spikes,
            },
            alpha: a.alpha,
            theta0: 1.0,
            spacing0: 1.0,
            coding: match a.coding {
                CodingArg::Direct => Encoding::Direct,
                CodingArg::Rate => Encoding::Rate { seed: a.seed },
                CodingArg::Burst => Encoding::Burst {
                    max_count: a.coding_max,
                },
            },
        },
        steps: a.steps,
        epochs,
        batch: a.batch,
        lr,
        weight_decay: a.weight_decay,
        seed: a.seed,
        input_bits,
        qat,
        qat_epochs: if qat.is_some() {
            a.qat_epochs.min(epochs)
        } else {
            0
        },
        train_limit: a.train_limit,
        shift: a.shift,
    };
    errln!(
        "training {} {} on {} ({} train / {} test images), T = {}, {} epochs, checkpoint {}",
        if max_burst == 1 { "LIF" } else { "LIFB" },
        cfg.net.arch,
        a.data.name(),
        a.train_limit.unwrap_or(train_ds.len()).min(train_ds.len()),
        test_ds.len(),
        a.steps,
        epochs,
        checkpoint.display()
    );
    let opts = RunOptions {
        checkpoint: Some(checkpoint),
        resume: a.resume,
        progress: !a.quiet,
        log: true,
        stop_after: None,
    };
    let trained = train::train(&cfg, &train_ds, &test_ds, &opts)?;
    let name = a
        .output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let (float, acc) = train::model::float_model(&trained, &cfg, &name, &test_ds)?;
    errln!(
        "golden float model: {:.2}% on {} {} test images",
        100.0 * acc,
        test_ds.len(),
        a.data.name()
    );
    crate::format::save(&float, &a.output)?;
    errln!("wrote {}", a.output.display());
    Ok(())
}
