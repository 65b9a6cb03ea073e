//! From a finished training run to the float model a user gets: the exported network with its
//! golden-simulator test accuracy, the training config and the per-epoch history in `meta`.
//! `lifb-hdl train` and the results study (`crate::study`) both make their models here.

use super::{ce, TrainConfig, Trained};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::ir::FloatNetwork;

/// The float model of `trained` named `name`, and its accuracy on `test` in the golden float
/// simulator (the authoritative figure, recorded as `meta.float_test_accuracy`).
pub fn float_model(
    trained: &Trained,
    cfg: &TrainConfig,
    name: &str,
    test: &Dataset,
) -> Result<(FloatNetwork, f64)> {
    let mut float = trained.net.export(name, cfg.qat.as_ref()).map_err(ce)?;
    let acc = crate::data::eval::float_accuracy(&float, test, cfg.steps, cfg.input_bits)?;
    let meta = &mut float.meta;
    meta.insert("dataset".into(), cfg.dataset.clone().into());
    meta.insert("steps".into(), cfg.steps.into());
    meta.insert(
        "test_images".into(),
        serde_json::Value::from(test.len() as u64),
    );
    meta.insert(
        "float_test_accuracy".into(),
        serde_json::Value::from(round6(acc)),
    );
    if let Some(b) = cfg.input_bits {
        meta.insert("input_bits".into(), b.into());
    }
    meta.insert(
        "train_config".into(),
        serde_json::to_value(cfg).map_err(|e| Error::tool(e.to_string()))?,
    );
    meta.insert(
        "train_history".into(),
        // Loss and accuracy per epoch only: timings would make the file differ between runs.
        serde_json::Value::Array(
            trained
                .history
                .iter()
                .map(|h| {
                    serde_json::json!({
                        "epoch": h.epoch,
                        "loss": round6(h.loss),
                        "train_accuracy": round6(h.train_accuracy),
                        "test_accuracy": round6(h.test_accuracy),
                        "qat": h.qat,
                    })
                })
                .collect(),
        ),
    );
    Ok((float, acc))
}

/// Six decimals: stable figures in JSON (no float noise in the last digits).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
