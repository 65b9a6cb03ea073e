//! Verification campaigns (`lifb-hdl verify --random-networks N --seed S --shard I/N`): many
//! small random dense networks, each generated into RTL and co-simulated spike for spike against
//! the golden model under the verification stimulus. Every case (network, inputs, steps, neuron
//! form, lanes, fire units, FIFO depth, output stalls and input gaps) follows from the campaign
//! seed and the case's number alone ([`case`]), so a shard anywhere runs exactly its cases and a
//! failing case can be made again. A shard writes its totals to `OUT/shards/`; [`merge`] adds
//! them up. A divergence (or a tool failure) writes the network and its inputs as a reproducer
//! that `lifb-hdl cosim` replays ([`write_reproducer`]).

use crate::codegen::{self, Form, Lanes};
use crate::cosim::{self, CosimOptions, CosimReport, Simulator, Stimulus};
use crate::error::{Error, Result};
use crate::ir::random::{random_inputs, random_network, RandomSpec};
use crate::ir::IntNetwork;
use crate::scale::Shard;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const SHARD_FORMAT: &str = "lifb-hdl verify shard 1";
pub use crate::scale::SHARD_DIR;
pub const REPRODUCER_DIR: &str = "reproducers";
/// The most networks one campaign may list.
pub const MAX_NETWORKS: u64 = 1 << 40;

/// The random networks are small (one Verilog compile each): up to 12 inputs, two hidden
/// layers of up to 10 neurons, bursts up to 8, a current readout a quarter of the time.
pub fn network_spec() -> RandomSpec {
    RandomSpec {
        max_inputs: 12,
        max_width: 10,
        max_hidden: 2,
        max_burst: 8,
        current_readout: true,
        // the hardware generator takes dense networks only (codegen refuses conv and pooling)
        conv: false,
    }
}

/// One case of a campaign: everything that decides what is co-simulated.
#[derive(Debug, Clone)]
pub struct Case {
    pub index: u64,
    pub net: IntNetwork,
    pub inputs: Vec<Vec<u32>>,
    pub steps: u32,
    pub lanes: Vec<usize>,
    pub units: Vec<usize>,
    pub form: Form,
    pub stimulus: Stimulus,
    pub fifo_depth: Option<usize>,
}

fn list_text(v: &[usize]) -> String {
    v.iter()
        .map(|&x| match x {
            0 => "all".to_string(),
            x => x.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Case {
    pub fn options(&self) -> CosimOptions {
        CosimOptions {
            steps: self.steps,
            codegen: codegen::Options {
                lanes: Lanes::List(self.lanes.clone()),
                units: Lanes::List(self.units.clone()),
                form: self.form,
                ..Default::default()
            },
            cache_dir: cosim::default_cache_dir(),
            stimulus: self.stimulus.clone(),
            fifo_depth: self.fifo_depth,
            // with stalls and gaps cycle counts include waiting: no budget (as `cosim --stall`)
            cycle_margin: None,
        }
    }

    /// In words, for messages: "network 17: 3 layers, native, lanes 2,all, ...".
    pub fn describe(&self) -> String {
        format!(
            "network {} ({} layers, {} form, lanes {}, units {}, {} samples x {} steps, FIFO depth {}, stimulus seed {})",
            self.index,
            self.net.layers.len(),
            self.form.name(),
            list_text(&self.lanes),
            list_text(&self.units),
            self.inputs.len(),
            self.steps,
            self.fifo_depth.map_or("default".to_string(), |d| d.to_string()),
            self.stimulus.seed
        )
    }
}

/// Case `index` of the campaign with seed `seed`.
pub fn case(seed: u64, index: u64) -> Case {
    // one generator per case, seeded from (seed, index) alone
    let case_seed = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(index.wrapping_mul(0xD1B5_4A32_D192_ED03))
        ^ 0x5EED_CA5E;
    let mut rng = ChaCha8Rng::seed_from_u64(case_seed);
    let net = random_network(rng.random(), &network_spec());
    let samples = rng.random_range(2..=4);
    let active = rng.random_range(0.2..=0.9);
    let inputs = random_inputs(&net, rng.random(), samples, active);
    let steps = rng.random_range(1..=6);
    let form = if rng.random_bool(0.5) {
        Form::Native
    } else {
        Form::Decoupled
    };
    let widths = net.dense_widths();
    let mut lanes = Vec::new();
    let mut units = Vec::new();
    for &n in &widths {
        // 0 is "all": one lane per neuron
        let p = if rng.random_bool(0.2) {
            0
        } else {
            rng.random_range(1..=n)
        };
        let p_eff = if p == 0 { n } else { p };
        units.push(rng.random_range(1..=p_eff));
        lanes.push(p);
    }
    let mut stimulus = Stimulus::verify(rng.random_range(1..=u32::MAX as u64));
    stimulus.stall_prob = [0.0, 0.1, 0.25, 0.5][rng.random_range(0..4)];
    stimulus.stall_burst = rng.random_range(1..=8);
    stimulus.gap_prob = [0.0, 0.15, 0.3][rng.random_range(0..3)];
    stimulus.gap_burst = rng.random_range(1..=4);
    let fifo_depth = match rng.random_range(0..4) {
        0 => None,
        k => Some(1usize << k), // 2, 4, 8: FIFOs fill
    };
    Case {
        index,
        net,
        inputs,
        steps,
        lanes,
        units,
        form,
        stimulus,
        fifo_depth,
    }
}

/// What was compared, summed over networks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub networks: u64,
    pub native: u64,
    pub decoupled: u64,
    pub samples: u64,
    /// Samples x steps.
    pub steps: u64,
    /// Spike events compared (every neuron's count at every step; see cosim's Coverage).
    pub spikes_compared: u64,
    pub membranes_compared: u64,
    pub output_beats_compared: u64,
    pub stall_cycles: u64,
    pub gap_cycles: u64,
    pub divergences: u64,
    /// Cases the tools could not run (each also has a reproducer).
    pub errors: u64,
}

impl Totals {
    pub fn add(&mut self, o: &Totals) {
        self.networks += o.networks;
        self.native += o.native;
        self.decoupled += o.decoupled;
        self.samples += o.samples;
        self.steps += o.steps;
        self.spikes_compared += o.spikes_compared;
        self.membranes_compared += o.membranes_compared;
        self.output_beats_compared += o.output_beats_compared;
        self.stall_cycles += o.stall_cycles;
        self.gap_cycles += o.gap_cycles;
        self.divergences += o.divergences;
        self.errors += o.errors;
    }

    fn count(&mut self, c: &Case, r: &CosimReport) {
        self.networks += 1;
        match c.form {
            Form::Native => self.native += 1,
            _ => self.decoupled += 1,
        }
        self.samples += r.coverage.samples;
        self.steps += r.coverage.samples * r.steps as u64;
        self.spikes_compared += r.coverage.events_compared;
        self.membranes_compared += r.coverage.membranes_compared;
        self.output_beats_compared += r.coverage.output_beats_compared;
        self.stall_cycles += r.coverage.stall_cycles;
        self.gap_cycles += r.coverage.gap_cycles;
    }
}

/// A case that failed: what happened and where its reproducer is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub index: u64,
    pub case: String,
    /// "divergence" or "error".
    pub kind: String,
    pub message: String,
    pub reproducer: String,
}

/// A shard's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardTotals {
    pub format: String,
    pub campaign_networks: u64,
    pub seed: u64,
    pub simulator: String,
    pub shard: String,
    pub totals: Totals,
    pub failures: Vec<Failure>,
    pub wall_seconds: f64,
}

impl ShardTotals {
    pub fn path(out: &Path, shard: Shard) -> PathBuf {
        shard.result_file(out)
    }
}

#[derive(Debug, Clone)]
pub struct Campaign {
    pub networks: u64,
    pub seed: u64,
    pub simulator: Simulator,
    pub out: PathBuf,
    /// Verilator build cache.
    pub build_cache: PathBuf,
}

/// Run the cases of `shard`, write its totals file, and return them. `progress` is told every
/// finished case (its number, the totals so far).
pub fn run_shard(
    c: &Campaign,
    shard: Shard,
    progress: &mut dyn FnMut(&Case, &Totals),
) -> Result<ShardTotals> {
    if c.networks == 0 || c.networks > MAX_NETWORKS {
        return Err(Error::bad_input(format!(
            "--random-networks must be 1..={MAX_NETWORKS}, got {}",
            c.networks
        )));
    }
    let t0 = std::time::Instant::now();
    let mut totals = Totals::default();
    let mut failures = Vec::new();
    let mut i = shard.index as u64;
    while i < c.networks {
        let k = case(c.seed, i);
        let mut opts = k.options();
        opts.cache_dir = c.build_cache.clone();
        let outcome = cosim::cosim_with(c.simulator, &k.net, &k.inputs, &opts);
        let failure = match &outcome {
            Ok(r) => {
                totals.count(&k, r);
                r.failure().map(|m| ("divergence", m))
            }
            Err(e) if e.kind == crate::error::ErrorKind::Io => return Err(e.clone()),
            Err(e) => Some(("error", e.to_string())),
        };
        if let Some((kind, message)) = failure {
            match kind {
                "divergence" => totals.divergences += 1,
                _ => totals.errors += 1,
            }
            let dir = c.out.join(REPRODUCER_DIR).join(format!("network-{i}"));
            write_reproducer(&k, c.simulator, &dir)?;
            failures.push(Failure {
                index: i,
                case: k.describe(),
                kind: kind.into(),
                message,
                reproducer: dir.display().to_string(),
            });
        }
        progress(&k, &totals);
        i += shard.count as u64;
    }
    let result = ShardTotals {
        format: SHARD_FORMAT.into(),
        campaign_networks: c.networks,
        seed: c.seed,
        simulator: c.simulator.name().into(),
        shard: shard.to_string(),
        totals,
        failures,
        wall_seconds: t0.elapsed().as_secs_f64(),
    };
    let p = ShardTotals::path(&c.out, shard);
    let dir = p.parent().expect("in the shard folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut b = serde_json::to_vec_pretty(&result).expect("totals serialize");
    b.push(b'\n');
    crate::util::write_atomic(&p, &b)?;
    Ok(result)
}

/// The command line (after `lifb-hdl`) that replays a case from its reproducer folder: the same
/// design options, steps, stimulus and FIFO depth (paths relative to the folder).
pub fn replay_args(k: &Case, simulator: Simulator) -> Vec<String> {
    let s = &k.stimulus;
    let mut a: Vec<String> = [
        "cosim",
        "--model",
        "model.json",
        "--inputs",
        "inputs.json",
        "--steps",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    a.push(k.steps.to_string());
    a.extend([
        "--form".into(),
        k.form.name().into(),
        "--lanes".into(),
        list_text(&k.lanes),
        "--units".into(),
        list_text(&k.units),
        "--stall".into(),
        "--stim-seed".into(),
        s.seed.to_string(),
        "--stall-prob".into(),
        s.stall_prob.to_string(),
        "--stall-burst".into(),
        s.stall_burst.to_string(),
        "--gap-prob".into(),
        s.gap_prob.to_string(),
        "--gap-burst".into(),
        s.gap_burst.to_string(),
        "--no-cycle-budget".into(),
        "--simulator".into(),
        simulator.name().into(),
    ]);
    if let Some(d) = k.fifo_depth {
        a.extend(["--fifo-depth".into(), d.to_string()]);
    }
    a
}

/// Write a case as files `lifb-hdl cosim` reads: model.json (+ its tensors), inputs.json (each
/// integer input v as v / input_max, which cosim turns back into v exactly), and replay.sh with
/// the command line.
pub fn write_reproducer(k: &Case, simulator: Simulator, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    crate::format::save(&k.net, &dir.join("model.json"))?;
    let max = k.net.fixed.as_ref().map_or(1, |f| f.input_max()).max(1);
    let set = crate::inputs::InputSet {
        samples: k
            .inputs
            .iter()
            .map(|s| s.iter().map(|&v| v as f32 / max as f32).collect())
            .collect(),
        labels: None,
    };
    let mut b = serde_json::to_vec(&set).expect("inputs serialize");
    b.push(b'\n');
    crate::util::write_atomic(&dir.join("inputs.json"), &b)?;
    let line: Vec<String> = replay_args(k, simulator)
        .iter()
        .map(|w| crate::scale::emit::shell_quote(w))
        .collect();
    let script = format!(
        "#!/bin/sh\n# {}\n# Replays the case: run this in its folder (lifb-hdl on PATH).\nexec lifb-hdl {}\n",
        k.describe(),
        line.join(" ")
    );
    crate::util::write_atomic(&dir.join("replay.sh"), script.as_bytes())
}

/// The campaign's totals from every shard file in `OUT/shards`: the shards must all be of one
/// campaign (networks, seed, simulator, shard count) and all present.
pub fn merge(out: &Path) -> Result<(Vec<ShardTotals>, Totals)> {
    let dir = out.join(SHARD_DIR);
    let paths = crate::util::json_files(&dir).map_err(|e| {
        Error::io(&dir, e).context("no shard totals to merge; run lifb-hdl verify --random-networks N --seed S --shard I/N for every shard first")
    })?;
    let mut shards: Vec<ShardTotals> = Vec::new();
    for p in &paths {
        let what = "a verification shard's totals";
        let (s, _): (ShardTotals, _) = crate::util::read_json(p, 64 << 20, what, "")?;
        crate::util::check_format(p, &s.format, SHARD_FORMAT, "")?;
        shards.push(s);
    }
    let first = shards.first().ok_or_else(|| {
        Error::bad_input(format!(
            "{}: no shard totals; run the shards first",
            dir.display()
        ))
    })?;
    let count = Shard::parse(&first.shard)?.count;
    for s in &shards {
        let sh = Shard::parse(&s.shard)?;
        if s.campaign_networks != first.campaign_networks
            || s.seed != first.seed
            || s.simulator != first.simulator
            || sh.count != count
        {
            return Err(Error::bad_input(format!(
                "{}: shard {} of a campaign of {} networks, seed {}, {} differs from shard {} ({} networks, seed {}, {}); keep one campaign per output folder",
                dir.display(),
                s.shard,
                s.campaign_networks,
                s.seed,
                s.simulator,
                first.shard,
                first.campaign_networks,
                first.seed,
                first.simulator
            )));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| !shards.iter().any(|s| s.shard == format!("{i}/{count}")))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::bad_input(format!(
            "{}: shards {} have not finished (no totals file); run them and merge again",
            dir.display(),
            missing.join(", ")
        )));
    }
    let mut totals = Totals::default();
    for s in &shards {
        totals.add(&s.totals);
    }
    Ok((shards, totals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Layer;

    #[test]
    fn cases_follow_from_seed_and_index_and_vary() {
        let a = case(7, 3);
        let b = case(7, 3);
        assert_eq!(a.describe(), b.describe());
        assert_eq!(a.inputs, b.inputs);
        assert_eq!(
            crate::format::model_hash(&a.net).unwrap(),
            crate::format::model_hash(&b.net).unwrap()
        );
        let cases: Vec<Case> = (0..200).map(|i| case(7, i)).collect();
        assert!(cases.iter().any(|c| c.form == Form::Native));
        assert!(cases.iter().any(|c| c.form == Form::Decoupled));
        assert!(cases.iter().any(|c| c.fifo_depth.is_none()));
        assert!(cases.iter().any(|c| c.fifo_depth == Some(2)));
        assert!(cases.iter().any(|c| c.lanes.contains(&0)));
        assert!(cases.iter().any(|c| c.stimulus.stall_prob == 0.5));
        assert!(cases.iter().any(|c| c.stimulus.stall_prob == 0.0));
        let resets: std::collections::BTreeSet<_> = cases
            .iter()
            .flat_map(|c| c.net.layers.iter())
            .filter_map(|l| match l {
                Layer::Lifb(n) => Some(format!("{:?}", n.reset)),
                _ => None,
            })
            .collect();
        assert_eq!(resets.len(), 2, "both resets: {resets:?}");
        // every case generates (lanes and units fit the layers)
        for c in &cases {
            codegen::generate_with_fifo_depth(&c.net, &c.options().codegen, c.fifo_depth)
                .unwrap_or_else(|e| panic!("{}: {e}", c.describe()));
        }
    }
}
