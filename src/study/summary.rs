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

/// A burst neuron's group against the LIF group (B = 1) of the same data set, architecture and T:
/// the question of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub data: String,
    pub arch: String,
    pub steps: u32,
    /// The burst neuron's B (> 1).
    pub burst: u32,
    /// Mean 4-bit integer accuracy (percent): LIFB minus LIF.
    pub integer_gain: f64,
    /// Standard error of that difference, sqrt(s_a^2 / n_a + s_b^2 / n_b) from the two groups'
    /// seed spreads; None when either group has fewer than two seeds (its spread is unknown).
    pub integer_gain_se: Option<f64>,
    /// Mean cycles per image, LIFB over LIF.
    pub cycle_ratio: f64,
    /// Mean synaptic operations per image, LIFB over LIF.
    pub synaptic_op_ratio: f64,
}

/// results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub format: String,
    pub groups: Vec<Group>,
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    pub cells: Vec<CellResult>,
}

/// Every burst group that has a LIF group at the same data set, architecture and T.
pub fn compare(groups: &[Group]) -> Vec<Comparison> {
    let mut out = Vec::new();
    for b in groups.iter().filter(|g| g.burst > 1) {
        let lif = groups
            .iter()
            .find(|g| g.burst == 1 && (&g.data, &g.arch, g.steps) == (&b.data, &b.arch, b.steps));
        let Some(a) = lif else { continue };
        let var = |g: &Group| g.integer_accuracy.std.powi(2) / g.seeds.len() as f64;
        let spread_known = a.seeds.len() > 1 && b.seeds.len() > 1;
        out.push(Comparison {
            data: b.data.clone(),
            arch: b.arch.clone(),
            steps: b.steps,
            burst: b.burst,
            integer_gain: b.integer_accuracy.mean - a.integer_accuracy.mean,
            integer_gain_se: spread_known.then(|| (var(a) + var(b)).sqrt()),
            cycle_ratio: b.cycles.mean / a.cycles.mean,
            synaptic_op_ratio: b.synaptic_ops.mean / a.synaptic_ops.mean,
        });
    }
    out
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
        comparisons: compare(&groups),
        groups,
        cells: cells.to_vec(),
    }
}

/// Mean ± std over `seeds` seeds; the mean alone for one seed (its spread is unknown, not 0).
fn pm(s: Stat, decimals: usize, seeds: usize) -> String {
    if seeds < 2 {
        return format!("{:.d$}", s.mean, d = decimals);
    }
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
        let n = g.seeds.len();
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
            pm(g.float_accuracy, 2, n),
            pm(g.integer_accuracy, 2, n),
            pm(g.decoupled_accuracy, 2, n),
            exact,
            pm(g.synaptic_ops, 0, n),
            pm(g.spikes_per_neuron_step, 3, n),
            pm(g.cycles, 0, n),
            g.train_seconds.mean / 60.0
        );
    }
    if !r.comparisons.is_empty() {
        s.push_str(
            "\nLIFB against LIF at the same T (4-bit integer accuracy; ± one standard error of the difference, from the seed spreads):\n\n",
        );
        s.push_str("| data | arch | neuron | T | accuracy gain (points) | gain / standard error | cycles vs LIF | synaptic ops vs LIF |\n");
        s.push_str("|---|---|---|---|---|---|---|---|\n");
        for c in &r.comparisons {
            // One seed on either side: no spread to weigh the gain against.
            let (gain, z) = match c.integer_gain_se {
                Some(se) if se > 0.0 => (
                    format!("{:+.2} ± {se:.2}", c.integer_gain),
                    format!("{:.1}", c.integer_gain / se),
                ),
                Some(se) => (format!("{:+.2} ± {se:.2}", c.integer_gain), "-".into()),
                None => (format!("{:+.2} (one seed)", c.integer_gain), "-".into()),
            };
            let _ = writeln!(
                s,
                "| {} | {} | LIFB B={} | {} | {gain} | {z} | {:.3} | {:.3} |",
                c.data, c.arch, c.burst, c.steps, c.cycle_ratio, c.synaptic_op_ratio
            );
        }
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

    fn group(burst: u32, steps: u32, accs: &[f64], cycles: f64, ops: f64) -> Group {
        let one = |x: f64| Stat { mean: x, std: 0.0 };
        Group {
            data: "mnist".into(),
            arch: "784-256-10".into(),
            neuron: neuron_name(burst).into(),
            burst,
            steps,
            seeds: (0..accs.len() as u64).collect(),
            test_images: 10_000,
            float_accuracy: Stat::of(accs),
            integer_accuracy: Stat::of(accs),
            decoupled_accuracy: Stat::of(accs),
            decoupled_counts_compared: 1,
            decoupled_counts_mismatched: 0,
            synaptic_ops: one(ops),
            spikes_per_neuron_step: one(0.5),
            cycles: one(cycles),
            lanes: vec![32, 10],
            train_seconds: one(60.0),
        }
    }

    #[test]
    fn burst_groups_are_compared_with_lif_at_the_same_t() {
        let groups = [
            group(1, 1, &[90.0, 92.0, 94.0], 1000.0, 500.0),
            group(1, 4, &[97.0, 97.0, 97.0], 1200.0, 600.0),
            group(3, 1, &[93.0, 96.0], 1100.0, 400.0),
            group(5, 2, &[98.0, 98.0, 98.0], 1500.0, 700.0),
            group(3, 4, &[98.0], 1300.0, 650.0),
        ];
        let c = compare(&groups);
        // B = 5 at T = 2 has no LIF group at T = 2: not compared.
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!((c[0].burst, c[0].steps), (3, 1));
        // LIFB T = 1: seeds 93 and 96 (mean 94.5, std sqrt(4.5)); LIF: 90, 92, 94 (mean 92, std 2).
        assert!((c[0].integer_gain - 2.5).abs() < 1e-12);
        let se = (4.0f64 / 3.0 + 4.5 / 2.0).sqrt();
        assert!((c[0].integer_gain_se.unwrap() - se).abs() < 1e-12, "{c:?}");
        assert!((c[0].cycle_ratio - 1.1).abs() < 1e-12);
        assert!((c[0].synaptic_op_ratio - 0.8).abs() < 1e-12);
        // One LIFB seed at T = 4: the gain is known, its spread is not.
        assert_eq!((c[1].steps, c[1].integer_gain_se), (4, None));
        assert!((c[1].integer_gain - 1.0).abs() < 1e-12);
        let md = markdown(&Results {
            format: RESULTS_FORMAT.into(),
            groups: groups.to_vec(),
            comparisons: c,
            cells: Vec::new(),
        });
        assert!(md.contains("| LIFB B=3 | 1 | +2.50 ± "), "{md}");
        assert!(
            md.contains("| LIFB B=3 | 4 | +1.00 (one seed) | - |"),
            "{md}"
        );
        // A one-seed group shows its mean alone, a group of seeds mean ± std.
        assert!(
            md.contains("| LIFB B=3 | 4 | 1 | 98.00 | 98.00 | 98.00 | "),
            "{md}"
        );
        assert!(md.contains("| LIF B=1 | 1 | 3 | 92.00 ± 2.00 | "), "{md}");
    }
}
