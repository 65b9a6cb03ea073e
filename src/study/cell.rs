//! One cell of the study: train with the grid's recipe (the library call `lifb-hdl train`
//! makes), then measure the model on the test set with the golden simulators and the cycle model.

use super::{CellKey, CellResult, Cost, Grid, StudyDir};
use crate::codegen::{self, Form};
use crate::cosim::cycles;
use crate::data::{self, eval, Dataset, Split};
use crate::error::{Error, Result};
use crate::golden::{IntSim, SampleTrace, TraceOptions};
use crate::ir::{Encoding, IntNetwork, Reset};
use crate::train::{self, net, quantize::QatConfig, RunOptions, TrainConfig};
use std::path::Path;
use std::time::Instant;

/// The training and test sets of data set `name`, cut to the recipe's limits.
pub(super) fn load_data(
    grid: &Grid,
    name: &str,
    data_dir: &Path,
) -> Result<(String, Dataset, Dataset)> {
    let kind = super::data_kind(name).map_err(Error::bad_input)?;
    let train = data::load(kind, Split::Train, data_dir)?;
    let mut test = data::load(kind, Split::Test, data_dir)?;
    if let Some(n) = grid.recipe.test_limit {
        test.truncate(n);
    }
    Ok((name.to_string(), train, test))
}

/// The training config of cell `k`: the grid's recipe, the rest as `lifb-hdl train`'s defaults.
pub(super) fn train_config(grid: &Grid, k: &CellKey) -> Result<TrainConfig> {
    let r = &grid.recipe;
    let kind = super::data_kind(&k.data).map_err(Error::bad_input)?;
    let (input, blocks) = net::parse_arch(&k.arch, kind.shape()).map_err(Error::bad_input)?;
    let qat = (r.qat_epochs > 0).then_some(QatConfig {
        weight_bits: r.weight_bits,
        input_bits: r.input_bits,
    });
    Ok(TrainConfig {
        dataset: k.data.clone(),
        net: net::NetConfig {
            arch: k.arch.clone(),
            input,
            blocks,
            max_burst: k.burst,
            lam: 1.0,
            reset: Reset::Subtract,
            readout: net::ReadoutKind::Spikes,
            alpha: 4.0,
            theta0: 1.0,
            spacing0: 1.0,
            coding: Encoding::Direct,
        },
        steps: k.steps,
        epochs: r.epochs,
        batch: r.batch,
        lr: r.lr,
        weight_decay: 0.0,
        seed: k.seed,
        input_bits: Some(r.input_bits),
        qat,
        qat_epochs: r.qat_epochs,
        train_limit: r.train_limit,
        shift: 0,
    })
}

/// Train cell `k` (resuming its checkpoint if an earlier run was interrupted), measure it, and
/// write its float model and then, as the last act, its result file.
pub(super) fn run(
    grid: &Grid,
    k: &CellKey,
    dir: &StudyDir,
    train_ds: &Dataset,
    test: &Dataset,
) -> Result<CellResult> {
    let cfg = train_config(grid, k)?;
    let ckpt = dir.checkpoint(k);
    let t0 = Instant::now();
    let trained = train::train(
        &cfg,
        train_ds,
        test,
        &RunOptions {
            checkpoint: Some(ckpt.clone()),
            resume: true,
            progress: false,
            log: false,
            stop_after: None,
        },
    )?;
    let train_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let (float, float_accuracy) = train::model::float_model(&trained, &cfg, &k.id(), test)?;
    let opts = crate::quant::QuantOptions::recorded(
        &float.meta,
        Some(grid.recipe.weight_bits),
        Some(grid.recipe.input_bits),
        Some(k.steps),
    );
    let (int, _) = crate::quant::quantize(&float, &opts, None)?;
    let inputs = eval::int_inputs(test, grid.recipe.input_bits);
    let int_out = eval::run_all(&IntSim::new(&int)?, &inputs, k.steps)?;
    let dec = crate::decouple::to_lif_groups(&int)?;
    let dec_out = eval::run_all(&IntSim::new(&dec)?, &inputs, k.steps)?;
    let eq = crate::verify::compare(&int, &dec, &inputs, k.steps)?;
    let cost = cost(&int, &inputs, k.steps)?;
    let result = CellResult {
        cell: k.clone(),
        train_config: serde_json::to_value(&cfg).map_err(|e| Error::tool(e.to_string()))?,
        test_images: test.len(),
        float_accuracy: train::model::round6(float_accuracy),
        integer_accuracy: train::model::round6(eval::accuracy(&int_out, &test.labels)),
        decoupled_accuracy: train::model::round6(eval::accuracy(&dec_out, &test.labels)),
        decoupled_counts_compared: eq.compared,
        decoupled_counts_mismatched: eq.mismatched,
        cost,
        final_loss: trained
            .history
            .last()
            .map_or(f64::NAN, |h| train::model::round6(h.loss)),
        train_seconds: (train_seconds * 10.0).round() / 10.0,
        measure_seconds: (t1.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    };
    crate::format::save(&float, &dir.model(k))?;
    let json = serde_json::to_vec_pretty(&result).map_err(|e| Error::tool(e.to_string()))?;
    crate::util::write_atomic(&dir.cell(k), &json)?;
    let _ = std::fs::remove_file(&ckpt); // the result supersedes it
    Ok(result)
}

/// Sums over a set of images (merged across threads).
#[derive(Default)]
struct CostSums {
    synaptic_ops: u64,
    spikes: u64,
    neuron_steps: u64,
    cycles: u64,
}

/// Cost per inference of `int` on `inputs`: from the golden model's spike counts (events and
/// spikes) and the cycle model for the default lanes of the native-form hardware.
fn cost(int: &IntNetwork, inputs: &[Vec<u32>], steps: u32) -> Result<Cost> {
    let hw = codegen::plan::apply_form(int, Form::Native)?;
    let plan = codegen::plan(&hw, &codegen::Options::default())?;
    let sim = IntSim::new(&hw)?;
    let trace = TraceOptions {
        counts: true,
        membranes: false,
    };
    let one = |s: usize, x: &[u32], g: &SampleTrace, sums: &mut CostSums| {
        let sample = cycles::Sample {
            net: &hw,
            trace: g,
            input: x,
            index: s,
        };
        sums.synaptic_ops += cycles::synaptic_ops(&sample, &plan, steps);
        for l in &g.layers {
            for c in &l.counts {
                sums.spikes += c.iter().map(|&v| v as u64).sum::<u64>();
                sums.neuron_steps += c.len() as u64;
            }
        }
        sums.cycles += cycles::predict(&sample, &plan, steps);
    };
    let parts = crate::util::par_chunks(inputs, crate::util::worker_threads(), |first, part| {
        let mut sums = CostSums::default();
        for (i, x) in part.iter().enumerate() {
            let s = first + i;
            let g = sim.run(x, s as u64, steps, trace)?;
            one(s, x, &g, &mut sums);
        }
        Ok(sums)
    })?;
    let mut total = CostSums::default();
    for p in parts {
        total.synaptic_ops += p.synaptic_ops;
        total.spikes += p.spikes;
        total.neuron_steps += p.neuron_steps;
        total.cycles += p.cycles;
    }
    let n = inputs.len().max(1) as f64;
    Ok(Cost {
        synaptic_ops: (total.synaptic_ops as f64 / n * 10.0).round() / 10.0,
        spikes_per_neuron_step: train::model::round6(
            total.spikes as f64 / total.neuron_steps.max(1) as f64,
        ),
        cycles: (total.cycles as f64 / n * 10.0).round() / 10.0,
        lanes: plan.engines.iter().map(|e| e.parallelism.lanes).collect(),
    })
}
