//! A model sweep in three steps that may run on different machines (docs/scale-out.md):
//! [`plan`] lists the design points in a fixed order (`sweep plan -o plan.json`); [`run_shard`]
//! measures one shard's points (`sweep run --plan plan.json --shard I/N`) and writes its results
//! to `OUT/shards/`; [`merge`] gathers every shard's results into the sweep (`sweep merge`).
//! The one-shot `sweep --model` is the three in one process with a single shard, so a merged
//! sharded sweep and an unsharded one come from the same code.
//!
//! A point's result is independent of the others: points whose designs are byte-identical
//! (lane settings clipped to the same layer sizes) are measured wherever they fall, and the merge
//! marks the later ones `same_design_as` the first, as an unsharded sweep would.

use super::sweep::{lane_settings, ModelSweep};
use super::{load_and_quantize, per_step_network, synth_request, Progress, RunSteps};
use crate::codegen::{self, Design, Form, Lanes};
use crate::cosim::{self, CosimOptions};
use crate::error::{Error, Result};
use crate::ir::IntNetwork;
use crate::report::sweep::{Sweep, SweepRow};
use crate::scale::cache::{self, CacheStats, Lookup, ResultCache};
use crate::scale::emit::JobSpec;
use crate::scale::Shard;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const PLAN_FORMAT: &str = "lifb-hdl sweep plan 1";
pub const SHARD_FORMAT: &str = "lifb-hdl sweep shard 1";
pub use crate::scale::SHARD_DIR;

/// One design point: a neuron form and a lane setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanPoint {
    pub label: String,
    pub form: Form,
    /// As `generate --lanes` takes it.
    pub lanes: String,
}

/// The plan: the sweep's options, what they resolved to, and its points in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPlan {
    pub format: String,
    pub title: String,
    /// sha256 of the integer network the points are made from (after quantizing a float model):
    /// a shard refuses to run if the model changed after planning.
    pub model_sha256: String,
    /// sha256 of the co-simulated inputs (as integers) and the steps: a shard refuses to run if
    /// the input file changed after planning.
    pub inputs_sha256: String,
    /// Time steps (the option, else the model's recorded steps, or the per-step trains' steps).
    pub steps: u32,
    pub sweep: ModelSweep,
    pub points: Vec<PlanPoint>,
}

impl SweepPlan {
    pub fn to_json(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec_pretty(self).expect("a plan serializes");
        b.push(b'\n');
        b
    }

    /// Read a plan file; returns it with the sha256 of its bytes (which shard results name).
    pub fn read(path: &Path) -> Result<(SweepPlan, String)> {
        let (plan, bytes): (SweepPlan, _) = crate::util::read_json(
            path,
            64 << 20,
            "a sweep plan",
            "; make one with lifb-hdl sweep plan ... -o plan.json",
        )?;
        let again = "; make the plan again with this version";
        crate::util::check_format(path, &plan.format, PLAN_FORMAT, again)?;
        if plan.points.is_empty() {
            return Err(Error::bad_input(format!(
                "{}: the plan has no points",
                path.display()
            )));
        }
        Ok((plan, crate::util::sha256_plain_hex(&bytes)))
    }

    /// The job file's commands for a plan written to `plan_file`: each shard runs
    /// `sweep run --plan`, the merge `sweep merge --plan`.
    pub fn job(plan_file: &Path, shards: usize, image: &str) -> JobSpec {
        let plan = plan_file.display().to_string();
        JobSpec::lifb(
            "lifb-sweep",
            shards,
            image,
            &["sweep", "run", "--plan", &plan],
            &["sweep", "merge", "--plan", &plan],
        )
    }

    /// The result cache of a shard run: none with `no_cache`, else `dir`, else OUT/cache.
    pub fn shard_cache(&self, no_cache: bool, dir: Option<&Path>) -> Result<Option<ResultCache>> {
        if no_cache {
            return Ok(None);
        }
        let default = self.sweep.out.join("cache");
        ResultCache::open(dir.unwrap_or(&default)).map(Some)
    }
}

/// `sweep plan`: plan the sweep and write the plan to `plan_file`; returns a line on what was
/// written.
pub fn write_plan(o: &ModelSweep, plan_file: &Path) -> Result<String> {
    let plan = plan(o)?;
    crate::util::write_atomic(plan_file, &plan.to_json())?;
    let said = format!(
        "wrote {}: {} points of {}, results into {}",
        plan_file.display(),
        plan.points.len(),
        o.model.display(),
        o.out.display()
    );
    Ok(said)
}

/// `sweep run`: measure shard `shard` (None: from the environment, else every point) of the plan
/// in `plan_file` with the result cache [`SweepPlan::shard_cache`] picks, and write its results;
/// returns a line on what it did.
pub fn run_planned(
    plan_file: &Path,
    shard: Option<&str>,
    no_cache: bool,
    cache: Option<&Path>,
    progress: &mut dyn Progress,
) -> Result<String> {
    let (plan, sha) = SweepPlan::read(plan_file)?;
    let shard = Shard::resolve(shard)?;
    let mut cache = plan.shard_cache(no_cache, cache)?;
    let result = run_shard(&plan, &sha, shard, cache.as_mut(), progress)?;
    let path = result.write(&plan.sweep.out)?;
    Ok(result.summary(&path))
}

/// `sweep merge`: every shard's results of the plan in `plan_file`, merged; returns the sweep,
/// its output folder and a line on what was merged.
pub fn merge_planned(plan_file: &Path) -> Result<(Sweep, PathBuf, String)> {
    let (plan, sha) = SweepPlan::read(plan_file)?;
    let results = read_shard_results(&plan.sweep.out, &sha)?;
    let (s, stats) = merge(&plan, &results)?;
    let said = format!(
        "merged {} shard result(s) of {} ({} points; result cache: {stats})",
        results.len(),
        plan_file.display(),
        plan.points.len()
    );
    Ok((s, plan.sweep.out, said))
}

/// The result of one point, as a shard reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointResult {
    /// The point's place in the plan.
    pub index: usize,
    /// sha256 of the generated files: equal designs have equal hashes.
    pub design_sha256: String,
    pub row: SweepRow,
    /// Read from the result cache instead of measured.
    pub cached: bool,
}

/// What one shard did: the results of its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardResult {
    pub format: String,
    /// sha256 of the plan file the shard ran.
    pub plan_sha256: String,
    /// "I/N".
    pub shard: String,
    pub points: Vec<PointResult>,
    pub cache: CacheStats,
}

impl ShardResult {
    /// Where shard `shard` of a sweep writes its results.
    pub fn path(out: &Path, shard: Shard) -> PathBuf {
        shard.result_file(out)
    }

    /// One line on what the shard did and where its results are (`path`).
    pub fn summary(&self, path: &Path) -> String {
        let cached = self.points.iter().filter(|p| p.cached).count();
        let redone = match self.cache.corrupt {
            0 => String::new(),
            n => format!(", {n} corrupt entries redone"),
        };
        format!(
            "shard {}: {} points ({cached} from the result cache{redone}), results in {}",
            self.shard,
            self.points.len(),
            path.display()
        )
    }

    pub fn write(&self, out: &Path) -> Result<PathBuf> {
        let shard = Shard::parse(&self.shard)?;
        let p = Self::path(out, shard);
        let dir = p.parent().expect("in the shard folder");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut b = serde_json::to_vec_pretty(self).expect("a shard result serializes");
        b.push(b'\n');
        crate::util::write_atomic(&p, &b)?;
        Ok(p)
    }
}

/// A point made concrete: its design, generated in memory.
struct Variant {
    point: PlanPoint,
    opts: codegen::Options,
    design: Design,
}

/// The model, steps and inputs a plan names, loaded and checked.
struct Loaded {
    /// The network the variants are generated from (taking its input per step for per-step
    /// trains).
    int: IntNetwork,
    steps: u32,
    inputs: Vec<Vec<u32>>,
    /// "20 mnist-sample images", "8 random samples (seed 1)".
    inputs_text: String,
    model_sha256: String,
    /// sha256 of the integer inputs and the steps.
    inputs_sha256: String,
}

fn load(o: &ModelSweep) -> Result<Loaded> {
    let (_, int, steps) = load_and_quantize(&o.model, o.steps, o.weight_bits, o.input_bits)?;
    let run = RunSteps {
        given: o.steps,
        default: steps,
    };
    let samples = o.inputs.load(&int, Some(o.cosim_images), run)?;
    // Per-step trains: the variants take their input per step, for the trains' steps.
    let (int, steps) = match samples.train_steps {
        Some(_) => (per_step_network(&int)?, run.of(&samples)),
        None => (int, steps),
    };
    let model_sha256 = crate::format::model_hash(&int)?;
    let mut bytes: Vec<u8> = steps.to_le_bytes().to_vec();
    for s in &samples.int {
        bytes.extend((s.len() as u64).to_le_bytes());
        bytes.extend(s.iter().flat_map(|v| v.to_le_bytes()));
    }
    Ok(Loaded {
        int,
        steps,
        inputs_text: samples.describe(),
        inputs: samples.int,
        model_sha256,
        inputs_sha256: crate::util::sha256_plain_hex(&bytes),
    })
}

fn units(o: &ModelSweep) -> Result<Lanes> {
    match &o.units {
        Some(s) => Lanes::parse_for("--units", s),
        None => Ok(Lanes::Default),
    }
}

fn variant(int: &IntNetwork, p: &PlanPoint, units: &Lanes) -> Result<Variant> {
    let lanes =
        Lanes::parse(&p.lanes).map_err(|e| e.context(format!("sweep point {}", p.label)))?;
    let opts = codegen::Options {
        lanes,
        units: units.clone(),
        form: p.form,
        ..Default::default()
    };
    let design = codegen::generate(int, &opts)
        .map_err(|e| e.context(format!("sweep variant {} (--lanes '{}')", p.label, p.lanes)))?;
    Ok(Variant {
        point: p.clone(),
        opts,
        design,
    })
}

/// Check every option, the model, the data and every variant (nothing is written), and list the
/// points: every form, each with every lane setting.
pub fn plan(o: &ModelSweep) -> Result<SweepPlan> {
    let settings = lane_settings(o.lanes.as_deref())?;
    let mut forms: Vec<Form> = Vec::new();
    for &f in &o.forms {
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    if forms.is_empty() {
        return Err(Error::bad_input(
            "sweep --forms: no neuron form given; use native, decoupled or native,decoupled",
        ));
    }
    if o.cosim_images == 0 {
        return Err(Error::bad_input(
            "sweep --cosim-images 0: at least one image is needed to measure cycles per image",
        ));
    }
    if o.steps.is_some_and(|s| s == 0 || s > u16::MAX as u32) {
        return Err(Error::bad_input(
            "sweep --steps must be 1..=65535 (the hardware counts steps in 16 bits)",
        ));
    }
    let l = load(o)?;
    let units = units(o)?;
    let mut points = Vec::new();
    for &form in &forms {
        for (part, text, _) in &settings {
            let p = PlanPoint {
                label: format!("{}-{part}", form.name()),
                form,
                lanes: text.clone(),
            };
            variant(&l.int, &p, &units)?;
            points.push(p);
        }
    }
    let device = device(o);
    Ok(SweepPlan {
        format: PLAN_FORMAT.into(),
        title: format!("Sweep of {} on {device}", l.int.name),
        model_sha256: l.model_sha256,
        inputs_sha256: l.inputs_sha256,
        steps: l.steps,
        sweep: o.clone(),
        points,
    })
}

fn device(o: &ModelSweep) -> String {
    match o.synth {
        true => o.target.to_string(),
        false => "no device (synthesis skipped)".to_string(),
    }
}

/// The versions of the external tools a point's result depends on (part of its cache key).
fn tool_versions(o: &ModelSweep) -> Result<String> {
    let mut v = cosim::verilator_version()?;
    if o.synth {
        let t = crate::synth::tools::resolve(o.backend, o.target.family(), None)?;
        v.push('\n');
        v.push_str(&crate::synth::tools::version(&t.yosys, "-V")?);
        v.push('\n');
        v.push_str(&crate::synth::tools::version(&t.nextpnr, "--version")?);
    }
    Ok(v)
}

/// sha256 of a design's files (names and bytes).
fn design_sha256(d: &Design) -> String {
    let mut parts: Vec<&[u8]> = Vec::new();
    for (n, b) in &d.files {
        parts.push(n.as_bytes());
        parts.push(b);
    }
    crate::util::sha256_hex(&parts)
}

/// Measure the points of `shard` (reading finished ones from `cache`); write each point's RTL
/// to `OUT/<label>/rtl`.
pub fn run_shard(
    plan: &SweepPlan,
    plan_sha256: &str,
    shard: Shard,
    mut cache: Option<&mut ResultCache>,
    progress: &mut dyn Progress,
) -> Result<ShardResult> {
    let o = &plan.sweep;
    let l = load(o)?;
    if l.model_sha256 != plan.model_sha256 || l.steps != plan.steps {
        return Err(Error::bad_input(format!(
            "{}: the model (or what it quantizes to) changed since the plan was made; make the plan again",
            o.model.display()
        )));
    }
    if l.inputs_sha256 != plan.inputs_sha256 {
        return Err(Error::bad_input(format!(
            "the inputs ({}) changed since the plan was made; make the plan again",
            o.inputs.describe()
        )));
    }
    let units = units(o)?;
    let owned: Vec<usize> = (0..plan.points.len()).filter(|&i| shard.owns(i)).collect();
    if o.synth {
        // Missing tools fail now, not after the first co-simulation.
        crate::synth::tools::resolve(o.backend, o.target.family(), None)?;
    }
    let tools = match cache {
        Some(_) => tool_versions(o)?,
        None => String::new(),
    };
    let run_options = serde_json::to_vec(&(
        plan.steps,
        o.synth,
        o.target,
        o.backend,
        o.synth_timeout.map(|d| d.as_millis()),
        &o.units,
    ))
    .expect("options serialize");
    progress.line(&format!(
        "sweep: {} on {}: shard {shard}: {} of {} points, {} co-simulated each, T = {}",
        o.model.display(),
        device(o),
        owned.len(),
        plan.points.len(),
        l.inputs_text,
        plan.steps
    ));

    // A decoupled variant is exact only if its golden network (the one its design carries) also
    // equals the LIFB network on the same images: checked once per form, when first needed.
    let mut form_divergence: BTreeMap<&'static str, Option<String>> = BTreeMap::new();
    let per_point = if o.synth { 2 } else { 1 };
    let total = owned.len() * per_point;
    let mut stage = 0;
    let mut results: Vec<PointResult> = Vec::new();
    for &i in &owned {
        let v = variant(&l.int, &plan.points[i], &units)?;
        let vdir = o.out.join(&v.point.label);
        let rtl = vdir.join("rtl");
        codegen::write(&v.design, &rtl)?;
        let design_sha256 = design_sha256(&v.design);
        let own = |r: &SweepRow| SweepRow {
            label: v.point.label.clone(),
            hdl: rtl.display().to_string(),
            form: Some(v.point.form),
            lanes: Some(v.point.lanes.clone()),
            engine_lanes: Some(
                v.design
                    .plan
                    .engines
                    .iter()
                    .map(|e| e.parallelism.lanes)
                    .collect(),
            ),
            cosim_images: Some(l.inputs.len()),
            same_design_as: None,
            ..r.clone()
        };
        if let Some(prev) = results.iter().find(|r| r.design_sha256 == design_sha256) {
            stage += per_point;
            progress.line(&format!(
                "  [{stage}/{total}] {}: the same design as {} (results reused)",
                v.point.label, prev.row.label
            ));
            let row = own(&prev.row);
            results.push(PointResult {
                index: i,
                design_sha256,
                row,
                cached: prev.cached,
            });
            continue;
        }
        // The design's files stand for the point's options (form, lanes, units): two points
        // that generate the same design share one entry, whatever their labels.
        let key = match cache {
            Some(_) => Some(cache::key(&[
                l.model_sha256.as_bytes(),
                design_sha256.as_bytes(),
                l.inputs_sha256.as_bytes(),
                &run_options,
                tools.as_bytes(),
            ])?),
            None => None,
        };
        if let (Some(c), Some(k)) = (cache.as_deref_mut(), &key) {
            let (row, lookup) = c.get_json::<SweepRow>(k)?;
            if let Lookup::Corrupt(why) = &lookup {
                progress.line(&format!(
                    "  {}: a corrupt cache entry, removed and redone: {why}",
                    v.point.label
                ));
            }
            if let Some(row) = row {
                stage += per_point;
                progress.line(&format!(
                    "  [{stage}/{total}] {}: from the result cache",
                    v.point.label
                ));
                results.push(PointResult {
                    index: i,
                    design_sha256,
                    row: own(&row),
                    cached: true,
                });
                continue;
            }
        }
        let fd = match form_divergence.get(v.point.form.name()) {
            Some(d) => d.clone(),
            None => {
                let d = decoupled_divergence(&l, &v)?;
                form_divergence.insert(v.point.form.name(), d.clone());
                d
            }
        };
        let mut row = own(&SweepRow::default());
        measure(o, &l, &v, fd, &vdir, &mut row, &mut stage, total, progress)?;
        // a failed or timed-out tool run may go better next time: not kept
        if row.synth_error.is_none() {
            if let (Some(c), Some(k)) = (cache.as_deref(), &key) {
                c.put_json(k, &row)?;
            }
        }
        results.push(PointResult {
            index: i,
            design_sha256,
            row,
            cached: false,
        });
    }
    Ok(ShardResult {
        format: SHARD_FORMAT.into(),
        plan_sha256: plan_sha256.to_string(),
        shard: shard.to_string(),
        points: results,
        cache: cache.map(|c| c.stats).unwrap_or_default(),
    })
}

/// For the decoupled forms: where the design's golden network differs from the LIFB network on
/// the evaluation images (None: equal).
fn decoupled_divergence(l: &Loaded, v: &Variant) -> Result<Option<String>> {
    Ok(match v.point.form {
        Form::Native => None,
        Form::Decoupled | Form::PureLif => {
            let eq = crate::verify::compare(&l.int, &v.design.network, &l.inputs, l.steps)?;
            (!eq.exact()).then(|| {
                format!(
                    "the decoupled golden model differs from the LIFB model: {}",
                    eq.first.map(|d| d.to_string()).unwrap_or_default()
                )
            })
        }
    })
}

/// Co-simulate one variant and (when spike-exact and asked) synthesize it, into `row`.
#[allow(clippy::too_many_arguments)]
fn measure(
    o: &ModelSweep,
    l: &Loaded,
    v: &Variant,
    form_divergence: Option<String>,
    vdir: &Path,
    row: &mut SweepRow,
    stage: &mut usize,
    total: usize,
    progress: &mut dyn Progress,
) -> Result<()> {
    *stage += 1;
    progress.begin(
        *stage,
        total,
        &format!("{}: co-simulate {} images", v.point.label, l.inputs.len()),
    );
    let copts = CosimOptions {
        steps: l.steps,
        codegen: v.opts.clone(),
        cache_dir: cosim::default_cache_dir(),
        ..Default::default()
    };
    let cs = cosim::cosim_design(&v.design, &l.inputs, &copts)?;
    let divergence = cs.divergence.clone().or(form_divergence);
    row.spike_exact = Some(divergence.is_none());
    row.divergence = divergence;
    row.cycles_per_image = Some(cs.cycles_per_sample());
    progress.done(&format!(
        "{}: {}, {} cycles per image ({:.3}x the lower bound)",
        v.point.label,
        match &row.divergence {
            None => "spike-exact".to_string(),
            Some(d) => format!("MISMATCH: {d}"),
        },
        row.cycles_per_image.unwrap_or(0),
        cs.ratio()
    ));
    if o.synth {
        *stage += 1;
        if row.spike_exact == Some(true) {
            progress.begin(
                *stage,
                total,
                &format!("{}: synthesize for {}", v.point.label, o.target),
            );
            let req = synth_request(
                Path::new(&row.hdl),
                o.target,
                o.backend,
                vdir.join("synth"),
                o.synth_timeout,
            );
            super::sweep::synth_into(&req, row)?;
            progress.done(&format!("{}: {}", v.point.label, row.synth_summary()));
        } else {
            progress.line(&format!(
                "  [{stage}/{total}] {}: not synthesized (its RTL diverges from the golden model)",
                v.point.label
            ));
        }
    }
    Ok(())
}

/// Every shard result for the plan with hash `plan_sha256` in `OUT/shards` (results of other
/// plans are skipped), each with its file name.
pub fn read_shard_results(out: &Path, plan_sha256: &str) -> Result<Vec<(String, ShardResult)>> {
    let dir = out.join(SHARD_DIR);
    let names = crate::util::json_files(&dir).map_err(|e| {
        Error::io(&dir, e).context("no shard results to merge; run `lifb-hdl sweep run --plan PLAN --shard I/N` for every shard first")
    })?;
    let mut found = Vec::new();
    for p in names {
        let again = "; remove it and run its shard again";
        let (r, _): (ShardResult, _) =
            crate::util::read_json(&p, 256 << 20, "a sweep shard result", again)?;
        if r.format == SHARD_FORMAT && r.plan_sha256 == plan_sha256 {
            found.push((p.display().to_string(), r));
        }
    }
    Ok(found)
}

/// Gather the shards' results into the sweep: every point of the plan exactly once (a point
/// two shard files report must have the same result in both), in plan order; a point whose design
/// equals an earlier point's takes that point's measurements and names it (`same_design_as`).
pub fn merge(plan: &SweepPlan, results: &[(String, ShardResult)]) -> Result<(Sweep, CacheStats)> {
    let n = plan.points.len();
    let mut by_point: Vec<Option<(&str, &PointResult)>> = vec![None; n];
    let mut stats = CacheStats::default();
    for (name, r) in results {
        stats.add(&r.cache);
        for p in &r.points {
            let slot = by_point.get_mut(p.index).ok_or_else(|| {
                Error::bad_input(format!(
                    "{name}: point {} is not in the plan ({n} points)",
                    p.index
                ))
            })?;
            if p.row.label != plan.points[p.index].label {
                return Err(Error::bad_input(format!(
                    "{name}: point {} is '{}', the plan's is '{}'",
                    p.index, p.row.label, plan.points[p.index].label
                )));
            }
            match slot {
                None => *slot = Some((name, p)),
                Some((other, q)) if q.row != p.row || q.design_sha256 != p.design_sha256 => {
                    return Err(Error::bad_input(format!(
                        "point {} ({}) has different results in {other} and {name}; remove the stale shard file and merge again",
                        p.index, p.row.label
                    )))
                }
                Some(_) => {}
            }
        }
    }
    let missing: Vec<usize> = (0..n).filter(|&i| by_point[i].is_none()).collect();
    if !missing.is_empty() {
        let counts: Vec<String> = {
            let mut c: Vec<String> = results.iter().map(|(_, r)| r.shard.clone()).collect();
            c.sort();
            c.dedup();
            c
        };
        return Err(Error::bad_input(format!(
            "{} of {n} points have no result yet ({}); shard results found: {}. Run the missing shards (lifb-hdl sweep run --plan PLAN --shard I/N) and merge again",
            missing.len(),
            missing
                .iter()
                .map(|&i| plan.points[i].label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if counts.is_empty() { "none".to_string() } else { counts.join(", ") }
        )));
    }
    let found: Vec<&PointResult> = by_point
        .into_iter()
        .map(|p| p.expect("checked").1)
        .collect();
    let mut rows: Vec<SweepRow> = Vec::with_capacity(n);
    for (i, p) in found.iter().enumerate() {
        let first = found[..i]
            .iter()
            .position(|q| q.design_sha256 == p.design_sha256);
        let row = match first {
            None => p.row.clone(),
            Some(j) => {
                // every measurement is the first variant's; only what names this one is its own
                let r = &p.row;
                SweepRow {
                    label: r.label.clone(),
                    hdl: r.hdl.clone(),
                    form: r.form,
                    lanes: r.lanes.clone(),
                    engine_lanes: r.engine_lanes.clone(),
                    cosim_images: r.cosim_images,
                    same_design_as: Some(rows[j].label.clone()),
                    ..rows[j].clone()
                }
            }
        };
        rows.push(row);
    }
    Ok((
        Sweep {
            title: plan.title.clone(),
            rows,
            synthesized: plan.sweep.synth,
            target: Some(plan.sweep.target),
        },
        stats,
    ))
}
