//! Aggregation over seeds: mean and sample standard deviation of every measured figure per
//! (data set, architecture, neuron, T) group, results.json, and the markdown table.

use super::{neuron_name, CellResult};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Mean and sample standard deviation (n - 1 in the denominator; 0 for a single value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub std: f64,
}

impl Stat {
    pub fn of(xs: &[f64]) -> Stat {
        let n = xs.len();
        if n == 0 {
            return Stat {
                mean: f64::NAN,
                std: f64::NAN,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stat { mean, std }
    }
}

/// One row of the results: the cells of one (data, arch, burst, steps) over their seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub data: String,
    pub arch: String,
    pub neuron: String,
    pub burst: u32,
    pub steps: u32,
    pub seeds: Vec<u64>,
    pub test_images: usize,
    /// Accuracies in percent.
    pub float_accuracy: Stat,
    pub integer_accuracy: Stat,
    pub decoupled_accuracy: Stat,
    /// Spike counts compared / differing between integer and decoupled models, over all seeds.
    pub decoupled_counts_compared: u64,
    pub decoupled_counts_mismatched: u64,
    pub synaptic_ops: Stat,
    pub spikes_per_neuron_step: Stat,
    pub cycles: Stat,
    pub lanes: Vec<usize>,
    /// Training wall time per cell, seconds.
    pub train_seconds: Stat,
}

/// results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub format: String,
    pub groups: Vec<Group>,
    pub cells: Vec<CellResult>,
}

pub const RESULTS_FORMAT: &str = "lifb-study-results-1";

/// Group `cells` (sorted by key) by everything but the seed.
pub fn summarize(cells: &[CellResult]) -> Results {
    let mut groups: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let k = &cells[i].cell;
        let mut j = i;
        while j < cells.len() && {
            let c = &cells[j].cell;
            (&c.data, &c.arch, c.burst, c.steps) == (&k.data, &k.arch, k.burst, k.steps)
        } {
            j += 1;
        }
        let g = &cells[i..j];
        let stat = |f: &dyn Fn(&CellResult) -> f64| Stat::of(&g.iter().map(f).collect::<Vec<_>>());
        groups.push(Group {
            data: k.data.clone(),
            arch: k.arch.clone(),
            neuron: neuron_name(k.burst).into(),
            burst: k.burst,
            steps: k.steps,
            seeds: g.iter().map(|c| c.cell.seed).collect(),
            test_images: g.iter().map(|c| c.test_images).min().unwrap_or(0),
            float_accuracy: stat(&|c| 100.0 * c.float_accuracy),
            integer_accuracy: stat(&|c| 100.0 * c.integer_accuracy),
            decoupled_accuracy: stat(&|c| 100.0 * c.decoupled_accuracy),
            decoupled_counts_compared: g.iter().map(|c| c.decoupled_counts_compared).sum(),
            decoupled_counts_mismatched: g.iter().map(|c| c.decoupled_counts_mismatched).sum(),
            synaptic_ops: stat(&|c| c.cost.synaptic_ops),
            spikes_per_neuron_step: stat(&|c| c.cost.spikes_per_neuron_step),
            cycles: stat(&|c| c.cost.cycles),
            lanes: g[0].cost.lanes.clone(),
            train_seconds: stat(&|c| c.train_seconds),
        });
        i = j;
    }
    Results {
        format: RESULTS_FORMAT.into(),
        groups,
        cells: cells.to_vec(),
    }
}

fn pm(s: Stat, decimals: usize) -> String {
    format!("{:.d$} ± {:.d$}", s.mean, s.std, d = decimals)
}

/// The markdown table: one row per group, accuracies in percent with mean ± std over the seeds.
pub fn markdown(r: &Results) -> String {
    let mut s = String::new();
    s.push_str(
        "| data | arch | neuron | T | seeds | float % | 4-bit integer % | decoupled % | decoupled = integer | synaptic ops / image | spikes / neuron / step | cycles / image | training min / cell |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for g in &r.groups {
        let exact = if g.decoupled_counts_mismatched == 0 {
            format!(
                "yes ({} counts)",
                crate::report::svg::group(g.decoupled_counts_compared)
            )
        } else {
            format!(
                "**no**: {} of {} differ",
                g.decoupled_counts_mismatched, g.decoupled_counts_compared
            )
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} B={} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            g.data,
            g.arch,
            g.neuron,
            g.burst,
            g.steps,
            g.seeds.len(),
            pm(g.float_accuracy, 2),
            pm(g.integer_accuracy, 2),
            pm(g.decoupled_accuracy, 2),
            exact,
            pm(g.synaptic_ops, 0),
            pm(g.spikes_per_neuron_step, 3),
            pm(g.cycles, 0),
            g.train_seconds.mean / 60.0
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12, "{}", s.std);
        assert_eq!(
            Stat::of(&[7.0]),
            Stat {
                mean: 7.0,
                std: 0.0
            }
        );
        assert!(Stat::of(&[]).mean.is_nan());
    }
}
