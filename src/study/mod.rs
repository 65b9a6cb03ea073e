//! The results study: a grid of training runs (data set x architecture x neuron x T x seed), each
//! trained with one recipe and measured on the full test set (float, 4-bit integer and decoupled
//! accuracy, spike-exactness, synaptic operations, spikes and hardware cycles), then summarized
//! over seeds (mean +- standard deviation) into results.json, a markdown table and SVG figures.
//!
//! A study directory holds `cells/<id>.json`, one result per finished cell, each written atomically
//! as the cell's last act; a re-run skips the cells whose result exists (and refuses one made with
//! another recipe), so an interrupted study continues where it stopped. `models/` keeps each cell's
//! float model, and its training checkpoint while the cell runs.

#[cfg(feature = "train")]
mod cell;
pub mod figures;
pub mod summary;

use crate::data::DataSetKind;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The grid file (JSON). Every field is required except the limits; unknown fields are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Data sets: "digits", "mnist", "fashion".
    pub data: Vec<String>,
    /// Architectures as `lifb-hdl train --arch` takes them ("784-256-10").
    pub arch: Vec<String>,
    /// Neuron variants: max burst B (1 = LIF) and the time steps T to train it at.
    pub neurons: Vec<NeuronSpec>,
    pub seeds: Vec<u64>,
    pub recipe: Recipe,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronSpec {
    pub burst: u32,
    pub steps: Vec<u32>,
}

/// The training recipe every cell shares. The rest is fixed as `lifb-hdl train`'s defaults:
/// spike-count readout (logits: mean count per step times a learned temperature), lam = 1,
/// subtract reset, surrogate alpha 4, theta0 = D0 = 1, no weight decay, AdamW with cosine decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub epochs: u32,
    /// The last `qat_epochs` epochs are quantization-aware on the `weight_bits` grid.
    pub qat_epochs: u32,
    pub lr: f64,
    pub batch: usize,
    /// Signed weight width of the integer model (and of quantization-aware training).
    pub weight_bits: u32,
    /// Input width: images are rounded to it in training and in every evaluation.
    pub input_bits: u32,
    /// Train on the first N training images only (quick studies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_limit: Option<usize>,
    /// Evaluate on the first N test images only (quick studies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_limit: Option<usize>,
}

/// One training run of the grid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    pub data: String,
    pub arch: String,
    pub burst: u32,
    pub steps: u32,
    pub seed: u64,
}

impl CellKey {
    /// File-name-safe and unique within a grid: "mnist_784-256-10_B3_T4_seed0".
    pub fn id(&self) -> String {
        format!(
            "{}_{}_B{}_T{}_seed{}",
            self.data, self.arch, self.burst, self.steps, self.seed
        )
    }
}

/// "LIF" for B = 1, else "LIFB".
pub fn neuron_name(burst: u32) -> &'static str {
    if burst == 1 {
        "LIF"
    } else {
        "LIFB"
    }
}

/// What one finished cell measured (cells/<id>.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub cell: CellKey,
    /// The training run's full config (`TrainConfig` as JSON): a re-run with another recipe
    /// is refused instead of mixing recipes in one study.
    pub train_config: serde_json::Value,
    pub test_images: usize,
    /// Test accuracy (fraction) of the golden float model, the integer model (weight_bits) and
    /// the decoupled integer model (LIF sub-units only).
    pub float_accuracy: f64,
    pub integer_accuracy: f64,
    pub decoupled_accuracy: f64,
    /// Spike counts (image, step, layer, neuron) compared between the integer and the decoupled
    /// model, and how many differ (0: spike-exact).
    pub decoupled_counts_compared: u64,
    pub decoupled_counts_mismatched: u64,
    pub cost: Cost,
    /// Final epoch's training loss.
    pub final_loss: f64,
    /// Wall time of training and of the measurements (seconds; this machine, shared).
    pub train_seconds: f64,
    pub measure_seconds: f64,
}

/// Cost of one inference of the integer model, averaged over the test images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Input events x fan-out (`cosim::cycles::synapses_in`: a conv event's valid taps x output
    /// channels), summed over the synaptic engines and steps (an event is a non-zero input or
    /// spike count; the constant direct-coded input is processed once, as in hardware).
    pub synaptic_ops: f64,
    /// Spikes (a burst of c counts c) per neuron per step, over every neuron layer.
    pub spikes_per_neuron_step: f64,
    /// The cycle model's cycles per image (`cosim::cycles::predict`) for the default lanes.
    pub cycles: f64,
    /// The default lanes per engine the cycles are for.
    pub lanes: Vec<usize>,
}

/// Paths of a study directory.
pub struct StudyDir {
    pub root: PathBuf,
}

impl StudyDir {
    pub fn new(root: &Path) -> Self {
        StudyDir {
            root: root.to_path_buf(),
        }
    }
    pub fn cells(&self) -> PathBuf {
        self.root.join("cells")
    }
    pub fn cell(&self, k: &CellKey) -> PathBuf {
        self.cells().join(format!("{}.json", k.id()))
    }
    pub fn model(&self, k: &CellKey) -> PathBuf {
        self.root.join("models").join(format!("{}.json", k.id()))
    }
    pub fn checkpoint(&self, k: &CellKey) -> PathBuf {
        self.root
            .join("models")
            .join(format!("{}.ckpt.safetensors", k.id()))
    }
}

/// Largest grid file read.
const MAX_GRID_FILE: u64 = 1 << 20;

impl Grid {
    /// Read and validate a grid file; every problem is a bad-input error naming the file.
    pub fn load(path: &Path) -> Result<Grid> {
        let bytes = crate::util::read_limited(path, MAX_GRID_FILE)?;
        let bad = |why: String| {
            Error::bad_input(format!(
                "grid file {}: {why} (see docs/results.md, \"The study tool\", for the format)",
                path.display()
            ))
        };
        let grid: Grid = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        grid.validate().map_err(bad)?;
        Ok(grid)
    }

    /// Every rule a grid must satisfy, as a message saying which field is wrong and why.
    pub fn validate(&self) -> std::result::Result<(), String> {
        fn nonempty_unique<T: PartialEq + std::fmt::Debug>(
            name: &str,
            v: &[T],
        ) -> std::result::Result<(), String> {
            if v.is_empty() {
                return Err(format!("\"{name}\" is empty; give at least one value"));
            }
            for (i, x) in v.iter().enumerate() {
                if v[..i].contains(x) {
                    return Err(format!("\"{name}\" lists {x:?} twice"));
                }
            }
            Ok(())
        }
        nonempty_unique("data", &self.data)?;
        nonempty_unique("arch", &self.arch)?;
        nonempty_unique("seeds", &self.seeds)?;
        if self.neurons.is_empty() {
            return Err(
                "\"neurons\" is empty; give at least one {\"burst\": B, \"steps\": [T, ...]}"
                    .into(),
            );
        }
        for d in &self.data {
            let kind = data_kind(d)?;
            let shape = kind.shape();
            for a in &self.arch {
                let misfit =
                    |why: String| format!("\"arch\" {a:?} does not fit data set {d}: {why}");
                let (input, blocks) = crate::train::net::parse_arch(a, shape).map_err(misfit)?;
                if input.len() != shape.len() {
                    return Err(misfit(format!(
                        "it takes {} inputs, the images have {}",
                        input.len(),
                        shape.len()
                    )));
                }
                if blocks.last() != Some(&crate::train::net::Block::Dense { out: 10 }) {
                    return Err(misfit("it must end with 10 outputs (the classes)".into()));
                }
            }
        }
        let mut bursts = Vec::new();
        for n in &self.neurons {
            if !(1..=64).contains(&n.burst) {
                return Err(format!("\"burst\" {} is outside 1..=64", n.burst));
            }
            if bursts.contains(&n.burst) {
                return Err(format!(
                    "burst {} appears in two \"neurons\" entries; list all its steps in one",
                    n.burst
                ));
            }
            bursts.push(n.burst);
            nonempty_unique(&format!("steps\" of burst {}", n.burst), &n.steps)?;
            if let Some(t) = n.steps.iter().find(|t| !(1..=256).contains(*t)) {
                return Err(format!(
                    "time steps {t} (burst {}) outside 1..=256",
                    n.burst
                ));
            }
        }
        let r = &self.recipe;
        if !(1..=10_000).contains(&r.epochs) {
            return Err(format!("\"epochs\" {} is outside 1..=10000", r.epochs));
        }
        if r.qat_epochs > r.epochs {
            return Err(format!(
                "\"qat_epochs\" {} exceeds \"epochs\" {}",
                r.qat_epochs, r.epochs
            ));
        }
        if !(r.lr > 0.0 && r.lr <= 10.0) {
            return Err(format!("\"lr\" {} is not in (0, 10]", r.lr));
        }
        if !(1..=65_536).contains(&r.batch) {
            return Err(format!("\"batch\" {} is outside 1..=65536", r.batch));
        }
        if !(2..=16).contains(&r.weight_bits) {
            return Err(format!(
                "\"weight_bits\" {} is outside 2..=16",
                r.weight_bits
            ));
        }
        if !(1..=16).contains(&r.input_bits) {
            return Err(format!("\"input_bits\" {} is outside 1..=16", r.input_bits));
        }
        if r.train_limit == Some(0) || r.test_limit == Some(0) {
            return Err("\"train_limit\" and \"test_limit\" must be at least 1".into());
        }
        Ok(())
    }

    /// The cells in run order: seed first, so that a study stopped early has whole passes over
    /// the grid; then data set, architecture, neuron, T.
    pub fn cells(&self) -> Vec<CellKey> {
        let mut out = Vec::new();
        for &seed in &self.seeds {
            for d in &self.data {
                for a in &self.arch {
                    for n in &self.neurons {
                        for &t in &n.steps {
                            out.push(CellKey {
                                data: d.clone(),
                                arch: a.clone(),
                                burst: n.burst,
                                steps: t,
                                seed,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

pub(crate) fn data_kind(name: &str) -> std::result::Result<DataSetKind, String> {
    match <DataSetKind as clap::ValueEnum>::from_str(name, false) {
        Ok(k) if k != DataSetKind::MnistSample => Ok(k),
        _ => Err(format!(
            "data set {name:?} is not one of digits, mnist, fashion"
        )),
    }
}

/// What `run` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub trained: usize,
    pub skipped: usize,
}

/// Run every cell of `grid` owned by `shard` (cell `i` of [`Grid::cells`] when
/// `i % N == I`) whose result is not in `dir` yet. Shards share `dir` (each cell's files are its
/// own, written atomically), so they may run at once, on one machine or many (docs/scale-out.md).
/// `log` gets one line per event.
#[cfg(feature = "train")]
pub fn run(
    grid: &Grid,
    dir: &Path,
    data_dir: &Path,
    shard: crate::scale::Shard,
    log: &mut dyn FnMut(&str),
) -> Result<RunSummary> {
    let sd = StudyDir::new(dir);
    let cells: Vec<CellKey> = grid
        .cells()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shard.owns(*i))
        .map(|(_, k)| k)
        .collect();
    let mut todo = Vec::new();
    for k in &cells {
        let path = sd.cell(k);
        if path.exists() {
            check_recipe(grid, &read_cell(&path)?, &path)?;
        } else {
            todo.push(k.clone());
        }
    }
    let skipped = cells.len() - todo.len();
    if skipped > 0 {
        log(&format!(
            "{skipped} of {} cells already done; skipped",
            cells.len()
        ));
    }
    for dirp in [sd.cells(), sd.root.join("models")] {
        std::fs::create_dir_all(&dirp).map_err(|e| Error::io(&dirp, e))?;
    }
    keep_one_recipe(&sd, grid)?;
    let mut data: Option<(String, crate::data::Dataset, crate::data::Dataset)> = None;
    for (i, k) in todo.iter().enumerate() {
        if data.as_ref().is_none_or(|d| d.0 != k.data) {
            data = Some(cell::load_data(grid, &k.data, data_dir)?);
        }
        let (_, train, test) = data.as_ref().expect("loaded above");
        log(&format!(
            "cell {}/{}: {} training",
            i + 1,
            todo.len(),
            k.id()
        ));
        let r = cell::run(grid, k, &sd, train, test)?;
        log(&format!(
            "cell {}/{}: {}: float {:.2} %, integer {:.2} %, decoupled {:.2} % ({} of {} counts differ), {:.0} cycles/image; {:.0} s training",
            i + 1,
            todo.len(),
            k.id(),
            100.0 * r.float_accuracy,
            100.0 * r.integer_accuracy,
            100.0 * r.decoupled_accuracy,
            r.decoupled_counts_mismatched,
            r.decoupled_counts_compared,
            r.cost.cycles,
            r.train_seconds
        ));
    }
    Ok(RunSummary {
        trained: todo.len(),
        skipped,
    })
}

/// Largest cell result read.
const MAX_CELL_FILE: u64 = 1 << 20;

/// A finished cell (result file `path`) must have been trained with `grid`'s recipe.
#[cfg(feature = "train")]
fn check_recipe(grid: &Grid, done: &CellResult, path: &Path) -> Result<()> {
    let want = cell::train_config(grid, &done.cell)?;
    // compared as configs, not as JSON: a cell written before a field with a default existed
    // (a newer trainer's option left at its default) is the same recipe
    let same = serde_json::from_value::<crate::train::TrainConfig>(done.train_config.clone())
        .is_ok_and(|c| c == want);
    if !same {
        return Err(Error::bad_input(format!(
            "{} was trained with another recipe than this grid's; a study keeps one recipe: use another --out directory, or delete the cell's result to retrain it",
            path.display()
        )));
    }
    Ok(())
}

/// DIR/recipe.json: the recipe of the study's cells, checked by every run. The check of the
/// cells a run finds done covers only its own shard's; this one also stops a shard started with
/// another grid file from adding cells of another recipe beside the others. A folder without it
/// (from before it existed) has every finished cell checked before it is written; a folder with
/// no finished cell takes the new grid's recipe (a first run that stopped before training is no
/// commitment). Shards starting at once may both write it: the same bytes, written atomically.
#[cfg(feature = "train")]
fn keep_one_recipe(sd: &StudyDir, grid: &Grid) -> Result<()> {
    let path = sd.root.join("recipe.json");
    let done = read_cells(&sd.root)?;
    if path.exists() && !done.is_empty() {
        let again = "; delete it only if no cell of the folder was trained with it";
        let (have, _) = crate::util::read_json::<Recipe>(&path, 1 << 16, "a study recipe", again)?;
        if have != grid.recipe {
            return Err(Error::bad_input(format!(
                "{} holds another recipe than this grid's ({} cells of the folder were trained with it); a study keeps one recipe: use another --out directory",
                path.display(),
                done.len()
            )));
        }
        return Ok(());
    }
    for c in &done {
        check_recipe(grid, c, &sd.cell(&c.cell))?;
    }
    let json = serde_json::to_vec_pretty(&grid.recipe).map_err(|e| Error::tool(e.to_string()))?;
    crate::util::write_atomic(&path, &json)
}

pub fn read_cell(path: &Path) -> Result<CellResult> {
    let again = "; delete it to rerun the cell";
    let (cell, _) = crate::util::read_json(path, MAX_CELL_FILE, "a study cell result", again)?;
    Ok(cell)
}

/// Every finished cell in a study directory, sorted by key.
pub fn read_cells(dir: &Path) -> Result<Vec<CellResult>> {
    let cdir = StudyDir::new(dir).cells();
    let rd = std::fs::read_dir(&cdir).map_err(|e| {
        Error::io(&cdir, e)
            .into_bad_input_if_missing()
            .context("no finished cells here; run `lifb-hdl study run` first")
    })?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| Error::io(&cdir, e))?;
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            out.push(read_cell(&p)?);
        }
    }
    out.sort_by(|a, b| a.cell.cmp(&b.cell));
    Ok(out)
}

/// The files `report` wrote.
pub struct ReportFiles {
    pub results: Results,
    pub written: Vec<PathBuf>,
}

pub use summary::Results;

/// Summarize the finished cells of `dir` into DIR/results.json, DIR/results.md and the SVG
/// figures (all written together, atomically).
pub fn report(dir: &Path) -> Result<ReportFiles> {
    let cells = read_cells(dir)?;
    if cells.is_empty() {
        return Err(Error::bad_input(format!(
            "{} has no finished cells yet; run `lifb-hdl study run` first",
            StudyDir::new(dir).cells().display()
        )));
    }
    let results = summary::summarize(&cells);
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (
            dir.join("results.json"),
            serde_json::to_vec_pretty(&results).map_err(|e| Error::tool(e.to_string()))?,
        ),
        (
            dir.join("results.md"),
            summary::markdown(&results).into_bytes(),
        ),
    ];
    for (name, svg) in figures::all(&results) {
        files.push((dir.join(name), svg.into_bytes()));
    }
    let refs: Vec<(&Path, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_path(), b.as_slice()))
        .collect();
    crate::util::write_atomic_all(&refs)?;
    Ok(ReportFiles {
        results,
        written: files.into_iter().map(|f| f.0).collect(),
    })
}
