//! Surrogate-gradient training of LIFB and LIF networks on candle (CPU): BPTT over T steps,
//! AdamW with a cosine schedule, cross-entropy on the summed readout, seeded and reproducible,
//! quantization-aware fine-tuning, atomic checkpoints with resume. The result is an
//! `ir::FloatNetwork` whose golden float simulation (`Sim<f32>`) runs the same neuron model.

pub mod conv;
pub mod model;
pub mod net;
pub mod optim;
pub mod quantize;
pub mod spike;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::ir::Shape;
use crate::util;
use candle_core::{Device, Tensor};
use net::{cross_entropy, predictions, NetConfig, StepInputs, TrainNet};
use optim::{cosine_lr, AdamW, AdamWConfig};
use quantize::QatConfig;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Everything that determines a training run (stored in checkpoints; `--resume` needs the same).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub dataset: String,
    pub net: NetConfig,
    pub steps: u32,
    pub epochs: u32,
    pub batch: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub seed: u64,
    /// Inputs are rounded to this many bits (as the integer model sees them) in every epoch.
    pub input_bits: Option<u32>,
    /// Quantization-aware fine-tuning: the last `qat_epochs` epochs fake-quantize to this grid.
    pub qat: Option<QatConfig>,
    pub qat_epochs: u32,
    /// Use only the first n training images (quick runs).
    pub train_limit: Option<usize>,
    /// Augmentation: every training image is translated by a random (dy, dx) in
    /// [-shift, shift]^2 (zero fill), drawn anew for each image and epoch; 0 = off.
    #[serde(default)]
    pub shift: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    pub epoch: u32,
    pub loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    pub images_per_sec: f64,
    pub seconds: f64,
    pub qat: bool,
}

pub struct RunOptions {
    /// Written atomically after every epoch; `resume` continues from it.
    pub checkpoint: Option<PathBuf>,
    pub resume: bool,
    pub progress: bool,
    /// Print one line per epoch to stderr.
    pub log: bool,
    /// Stop after this many completed epochs, as an interruption would (tests of --resume).
    pub stop_after: Option<u32>,
}

pub struct Trained {
    pub net: TrainNet,
    pub history: Vec<EpochStats>,
}

/// candle errors in training are internal failures, not the user's.
pub(crate) fn ce(e: candle_core::Error) -> Error {
    Error::tool(format!("training (candle): {e}"))
}

impl TrainConfig {
    pub fn qat_active(&self, epoch: u32) -> Option<&QatConfig> {
        match &self.qat {
            Some(q) if epoch + self.qat_epochs >= self.epochs => Some(q),
            _ => None,
        }
    }

    fn validate(&self, train: &Dataset) -> Result<()> {
        let a = &self.net.arch;
        let input = self.net.input;
        if input.len() != train.shape.len() || (!input.is_flat() && input != train.shape) {
            return Err(Error::bad_input(format!(
                "architecture {a} expects input {input} but {} images are {}; start an MLP with {}-...",
                train.name,
                train.shape,
                train.shape.len()
            )));
        }
        let out = match self.net.blocks.last() {
            Some(net::Block::Dense { out }) => *out,
            _ => 0,
        };
        if out != train.classes {
            return Err(Error::bad_input(format!(
                "architecture {a} ends with {out} outputs but {} has {} classes",
                train.name, train.classes
            )));
        }
        if self.steps == 0 || self.steps > 256 {
            return Err(Error::bad_input("--steps must be 1..=256"));
        }
        if self.batch == 0 || self.epochs == 0 {
            return Err(Error::bad_input("--batch and --epochs must be >= 1"));
        }
        if !(1..=64).contains(&self.net.max_burst) {
            return Err(Error::bad_input("--burst (B) must be 1..=64"));
        }
        if !(0.0..=1.0).contains(&self.net.lam) {
            return Err(Error::bad_input("--lam must be in [0, 1]"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::bad_input("--lr must be a positive number"));
        }
        // A flat input (h = 1) has no room to move: any shift is refused.
        if self.shift > 0 && self.shift as usize >= train.shape.h.min(train.shape.w) {
            return Err(Error::bad_input(format!(
                "--shift {} needs images larger than the shift; {} images are {}",
                self.shift, train.name, train.shape
            )));
        }
        if let crate::ir::Encoding::Burst { max_count } = self.net.coding {
            crate::error::in_range("--coding-max", max_count, 1..=255)?;
        }
        if let Some(b) = self.input_bits {
            if !(1..=16).contains(&b) {
                return Err(Error::bad_input("--input-bits must be 1..=16"));
            }
        }
        if let Some(q) = &self.qat {
            if !(2..=16).contains(&q.weight_bits) {
                return Err(Error::bad_input("--weight-bits must be 2..=16"));
            }
            if self.input_bits != Some(q.input_bits) {
                return Err(Error::bad_input(
                    "quantization-aware training needs --input-bits (the integer model's input width)",
                ));
            }
        }
        Ok(())
    }
}

pub fn arch_string(a: &[usize]) -> String {
    a.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Images of a data set as the network's first layer sees them (rounded to input_bits if set).
pub fn prepared_inputs(ds: &Dataset, input_bits: Option<u32>) -> Vec<f32> {
    match input_bits {
        Some(b) => quantize::quantize_inputs(&ds.images, b),
        None => ds.images.clone(),
    }
}

/// Random translations of the training images (`TrainConfig::shift`).
struct Shifter {
    shape: Shape,
    max: i64,
    rng: ChaCha8Rng,
}

impl Shifter {
    /// Append `img` (c x h x w) translated by a random (dy, dx): output pixel (y, x) takes input
    /// pixel (y - dy, x - dx), zero where that lies outside. Values stay on the input grid.
    fn push(&mut self, img: &[f32], out: &mut Vec<f32>) {
        let dy = self.rng.random_range(-self.max..=self.max);
        let dx = self.rng.random_range(-self.max..=self.max);
        let Shape { c, h, w } = self.shape;
        for ch in 0..c {
            for y in 0..h as i64 {
                let sy = y - dy;
                for x in 0..w as i64 {
                    let sx = x - dx;
                    let inside = (0..h as i64).contains(&sy) && (0..w as i64).contains(&sx);
                    out.push(if inside {
                        img[(ch * h + sy as usize) * w + sx as usize]
                    } else {
                        0.0
                    });
                }
            }
        }
    }
}

/// A batch of images `idx` (translated when `shift` is given), encoded for `steps` steps, and its
/// labels. The rate coder's randomness is keyed by `key_base + index`.
#[allow(clippy::too_many_arguments)]
fn batch_tensors(
    x: &[f32],
    labels: &[u8],
    net: &NetConfig,
    steps: u32,
    idx: &[usize],
    key_base: u64,
    dev: &Device,
    mut shift: Option<&mut Shifter>,
) -> Result<(StepInputs, Tensor)> {
    let n_in = net.input.len();
    let mut xb = Vec::with_capacity(idx.len() * n_in);
    for &i in idx {
        let img = &x[i * n_in..(i + 1) * n_in];
        match shift.as_deref_mut() {
            Some(s) => s.push(img, &mut xb),
            None => xb.extend_from_slice(img),
        }
    }
    let yb: Vec<u32> = idx.iter().map(|&i| labels[i] as u32).collect();
    let keys: Vec<u64> = idx.iter().map(|&i| key_base + i as u64).collect();
    Ok((
        StepInputs::encode(net.coding, &xb, n_in, &keys, steps, dev).map_err(ce)?,
        Tensor::from_vec(yb, idx.len(), dev).map_err(ce)?,
    ))
}

/// Accuracy of the training network itself (candle forward, no gradients) on a data set (sample
/// i keyed i for the rate coder, as the golden model numbers its samples).
pub fn accuracy(
    net: &TrainNet,
    x: &[f32],
    labels: &[u8],
    steps: u32,
    qat: Option<&QatConfig>,
) -> Result<f64> {
    let dev = Device::Cpu;
    let n = labels.len();
    let mut correct = 0usize;
    let idx: Vec<usize> = (0..n).collect();
    for chunk in idx.chunks(1000) {
        let (xb, _) = batch_tensors(x, labels, &net.cfg, steps, chunk, 0, &dev, None)?;
        let r = net.forward(&xb, steps, qat, true).map_err(ce)?;
        let p = predictions(&r).map_err(ce)?;
        correct += chunk
            .iter()
            .zip(p)
            .filter(|(&i, p)| labels[i] as usize == *p)
            .count();
    }
    Ok(correct as f64 / n.max(1) as f64)
}

/// Train (or resume) a network.
pub fn train(
    cfg: &TrainConfig,
    train_ds: &Dataset,
    test_ds: &Dataset,
    opts: &RunOptions,
) -> Result<Trained> {
    let mut train_ds = train_ds.clone();
    if let Some(n) = cfg.train_limit {
        train_ds.truncate(n);
    }
    cfg.validate(&train_ds)?;
    let dev = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let net = TrainNet::new(cfg.net.clone(), &mut rng, &dev).map_err(ce)?;
    let params = net.params();
    let mut opt = AdamW::new(
        AdamWConfig {
            lr: cfg.lr,
            weight_decay: cfg.weight_decay,
            ..Default::default()
        },
        params
            .iter()
            .filter(|p| p.1)
            .map(|p| (p.0.clone(), p.2))
            .collect(),
    )
    .map_err(ce)?;
    let mut history = Vec::new();
    let mut start_epoch = 0;
    if opts.resume {
        let path = opts
            .checkpoint
            .as_ref()
            .ok_or_else(|| Error::bad_input("--resume needs a checkpoint path"))?;
        if path.exists() {
            let (epoch, hist) = load_checkpoint(path, cfg, &net, &mut opt)?;
            start_epoch = epoch;
            history = hist;
            if opts.log {
                eprintln!("resumed from {} after epoch {epoch}", path.display());
            }
        } else if opts.log {
            eprintln!("no checkpoint at {} yet; starting fresh", path.display());
        }
    }
    let x_train = prepared_inputs(&train_ds, cfg.input_bits);
    let x_test = prepared_inputs(test_ds, cfg.input_bits);
    let n = train_ds.len();
    let batches = n.div_ceil(cfg.batch) as u64;
    let total_steps = batches * cfg.epochs as u64;
    for epoch in start_epoch..cfg.epochs {
        let qat = cfg.qat_active(epoch);
        // The order of epoch e depends only on (seed, e): a resumed run repeats it exactly.
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            cfg.seed ^ (0x5EED_0000 + epoch as u64),
        ));
        // So are its translations (one stream per epoch, consumed in batch order).
        let mut shifter = (cfg.shift > 0).then(|| Shifter {
            shape: train_ds.shape,
            max: cfg.shift as i64,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ (0x0005_41F7_0000 + epoch as u64)),
        });
        let bar = progress_bar(opts.progress, batches, epoch, cfg.epochs, qat.is_some());
        let t0 = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0f64, 0usize, 0usize);
        for chunk in order.chunks(cfg.batch) {
            // training samples are keyed apart from test samples and anew in each epoch
            let (xb, yb) = batch_tensors(
                &x_train,
                &train_ds.labels,
                &cfg.net,
                cfg.steps,
                chunk,
                (epoch as u64 + 1) << 32,
                &dev,
                shifter.as_mut(),
            )?;
            let r = net.forward(&xb, cfg.steps, qat, false).map_err(ce)?;
            let logits = net.logits(&r, cfg.steps).map_err(ce)?;
            let loss = cross_entropy(&logits, &yb).map_err(ce)?;
            let grads = loss.backward().map_err(ce)?;
            let lr = cosine_lr(cfg.lr, opt.step, total_steps);
            opt.update(&grads, lr).map_err(ce)?;
            net.clamp_neurons().map_err(ce)?;
            let l = loss.to_scalar::<f32>().map_err(ce)? as f64;
            if !l.is_finite() {
                return Err(Error::tool(format!(
                    "training diverged at epoch {} (loss {l}); lower --lr",
                    epoch + 1
                )));
            }
            let p = predictions(&r).map_err(ce)?;
            correct += chunk
                .iter()
                .zip(p)
                .filter(|(&i, p)| train_ds.labels[i] as usize == *p)
                .count();
            loss_sum += l * chunk.len() as f64;
            seen += chunk.len();
            if let Some(b) = &bar {
                b.inc(1);
                b.set_message(format!(
                    "loss {:.4}  acc {:.2}%  {:.0} img/s",
                    loss_sum / seen as f64,
                    100.0 * correct as f64 / seen as f64,
                    seen as f64 / t0.elapsed().as_secs_f64()
                ));
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let test_acc = accuracy(&net, &x_test, &test_ds.labels, cfg.steps, qat)?;
        let st = EpochStats {
            epoch: epoch + 1,
            loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            test_accuracy: test_acc,
            images_per_sec: seen as f64 / secs,
            seconds: secs,
            qat: qat.is_some(),
        };
        if opts.log {
            eprintln!(
                "epoch {:>3}/{}{}: loss {:.4}  train {:.2}%  test {:.2}%  {:.0} img/s  {:.1} s",
                st.epoch,
                cfg.epochs,
                if st.qat { " (qat)" } else { "" },
                st.loss,
                100.0 * st.train_accuracy,
                100.0 * st.test_accuracy,
                st.images_per_sec,
                st.seconds
            );
        }
        history.push(st);
        if let Some(path) = &opts.checkpoint {
            save_checkpoint(path, cfg, epoch + 1, &history, &opt)?;
        }
        if opts.stop_after == Some(epoch + 1) {
            break;
        }
    }
    Ok(Trained { net, history })
}

fn progress_bar(
    on: bool,
    len: u64,
    epoch: u32,
    epochs: u32,
    qat: bool,
) -> Option<indicatif::ProgressBar> {
    if !on {
        return None;
    }
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    b.set_prefix(format!(
        "epoch {}/{}{}",
        epoch + 1,
        epochs,
        if qat { " qat" } else { "" }
    ));
    Some(b)
}

/// A checkpoint is one safetensors file: every variable ("param.i") and its AdamW moments
/// ("m.i", "v.i"), with the run's config, completed epochs, optimizer step and history as
/// metadata. Written atomically, so an interrupted run leaves the previous one intact.
pub fn save_checkpoint(
    path: &Path,
    cfg: &TrainConfig,
    epoch: u32,
    history: &[EpochStats],
    opt: &AdamW,
) -> Result<()> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let bytes = |t: &Tensor| -> Result<Vec<u8>> {
        Ok(t.flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(ce)?
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect())
    };
    for (i, s) in opt.slots.iter().enumerate() {
        let shape = s.var.as_tensor().dims().to_vec();
        tensors.push((
            format!("param.{i}"),
            shape.clone(),
            bytes(s.var.as_tensor())?,
        ));
        tensors.push((format!("m.{i}"), shape.clone(), bytes(&s.m)?));
        tensors.push((format!("v.{i}"), shape, bytes(&s.v)?));
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, s, b)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::tool(format!("checkpoint: {e}")))
        })
        .collect::<Result<_>>()?;
    let mut meta = HashMap::new();
    let json = |v: &dyn erased::Json| v.to_json();
    meta.insert("config".to_string(), json(cfg));
    meta.insert("epoch".to_string(), epoch.to_string());
    meta.insert("adam_step".to_string(), opt.step.to_string());
    meta.insert("history".to_string(), json(&history.to_vec()));
    let buf = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::tool(format!("checkpoint: {e}")))?;
    util::write_atomic(path, &buf)
}

mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).expect("plain data serializes")
        }
    }
}

/// Restore variables and optimizer state; returns (completed epochs, history).
fn load_checkpoint(
    path: &Path,
    cfg: &TrainConfig,
    net: &TrainNet,
    opt: &mut AdamW,
) -> Result<(u32, Vec<EpochStats>)> {
    let _ = net;
    let buf = util::read_limited(path, 4 << 30)?;
    let bad = |why: String| Error::bad_input(format!("checkpoint {}: {why}", path.display()));
    let st = safetensors::SafeTensors::deserialize(&buf)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&buf)
        .map_err(|e| bad(format!("unreadable header ({e})")))?;
    let meta = header
        .metadata()
        .clone()
        .ok_or_else(|| bad("no metadata; not a lifb-hdl checkpoint".into()))?;
    let get = |k: &str| {
        meta.get(k)
            .ok_or_else(|| bad(format!("metadata '{k}' missing")))
    };
    let saved: TrainConfig = serde_json::from_str(get("config")?)
        .map_err(|e| bad(format!("config unreadable ({e})")))?;
    if &saved != cfg {
        return Err(bad(format!(
            "it was made with different options; resume with the same options or start fresh.\n  checkpoint: {}\n  now:        {}",
            serde_json::to_string(&saved).unwrap_or_default(),
            serde_json::to_string(cfg).unwrap_or_default()
        )));
    }
    let epoch: u32 = get("epoch")?
        .parse()
        .map_err(|_| bad("epoch unreadable".into()))?;
    let step: u64 = get("adam_step")?
        .parse()
        .map_err(|_| bad("adam_step unreadable".into()))?;
    let history: Vec<EpochStats> = serde_json::from_str(get("history")?)
        .map_err(|e| bad(format!("history unreadable ({e})")))?;
    let dev = Device::Cpu;
    let load = |name: &str, like: &Tensor| -> Result<Tensor> {
        let v = st
            .tensor(name)
            .map_err(|_| bad(format!("tensor {name} missing")))?;
        if v.dtype() != safetensors::Dtype::F32 || v.shape() != like.dims() {
            return Err(bad(format!(
                "tensor {name} has shape {:?}, the network needs {:?}",
                v.shape(),
                like.dims()
            )));
        }
        let data: Vec<f32> = v
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Tensor::from_vec(data, like.dims(), &dev).map_err(ce)
    };
    for (i, s) in opt.slots.iter_mut().enumerate() {
        let p = load(&format!("param.{i}"), s.var.as_tensor())?;
        s.var.set(&p).map_err(ce)?;
        s.m = load(&format!("m.{i}"), &s.m)?;
        s.v = load(&format!("v.{i}"), &s.v)?;
    }
    opt.step = step;
    Ok((epoch, history))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config stored before `shift` and `coding` existed (a checkpoint, a study cell) reads
    /// back as today's config with those options at their defaults.
    #[test]
    fn configs_from_before_shift_and_coding_read_back_equal() {
        let (input, blocks) = net::parse_arch("64-32-10", Shape::chw(1, 8, 8)).unwrap();
        let cfg = TrainConfig {
            dataset: "digits".into(),
            net: NetConfig {
                arch: "64-32-10".into(),
                input,
                blocks,
                max_burst: 3,
                lam: 1.0,
                reset: crate::ir::Reset::Subtract,
                readout: net::ReadoutKind::Spikes,
                alpha: 4.0,
                theta0: 1.0,
                spacing0: 1.0,
                coding: crate::ir::Encoding::Direct,
            },
            steps: 4,
            epochs: 2,
            batch: 64,
            lr: 1e-2,
            weight_decay: 0.0,
            seed: 3,
            input_bits: Some(4),
            qat: None,
            qat_epochs: 0,
            train_limit: None,
            shift: 0,
        };
        let mut old = serde_json::to_value(&cfg).unwrap();
        let o = old.as_object_mut().unwrap();
        assert!(o.remove("shift").is_some());
        assert!(o["net"].as_object_mut().unwrap().remove("coding").is_some());
        assert_eq!(serde_json::from_value::<TrainConfig>(old).unwrap(), cfg);
    }

    /// Every augmented image is the original moved by one offset within the bound, zero-filled,
    /// and the draws reach every offset.
    #[test]
    fn shifts_are_translations_within_the_bound() {
        let shape = Shape::chw(2, 4, 5);
        let img: Vec<f32> = (1..=shape.len()).map(|v| v as f32).collect();
        let moved = |dy: i64, dx: i64| -> Vec<f32> {
            let mut out = Vec::new();
            for c in 0..2i64 {
                for y in 0..4i64 {
                    for x in 0..5i64 {
                        let (sy, sx) = (y - dy, x - dx);
                        let ok = (0..4).contains(&sy) && (0..5).contains(&sx);
                        out.push(if ok {
                            img[((c * 4 + sy) * 5 + sx) as usize]
                        } else {
                            0.0
                        });
                    }
                }
            }
            out
        };
        let mut s = Shifter {
            shape,
            max: 1,
            rng: ChaCha8Rng::seed_from_u64(3),
        };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut out = Vec::new();
            s.push(&img, &mut out);
            let hit = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dy, dx)))
                .find(|&(dy, dx)| moved(dy, dx) == out);
            seen.insert(hit.expect("a translation by at most one pixel"));
        }
        assert_eq!(seen.len(), 9, "all nine offsets drawn: {seen:?}");
    }
}
