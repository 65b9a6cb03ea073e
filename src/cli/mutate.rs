//! `lifb-hdl mutate`: the mutation campaign (src/cosim/mutate.rs) on a model's design.

use super::generate::DesignArgs;
use crate::cosim::mutate::{self, Outcome};
use crate::cosim::{default_cache_dir, Simulator};
use crate::error::{Error, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Integer model (manifest .json written by lifb-hdl); its RTL must generate every template
    /// branch the catalogue mutates (else the run stops with an error naming the mutant).
    #[arg(long, required_unless_present_any = ["builtin", "list"], conflicts_with = "builtin")]
    pub model: Option<PathBuf>,
    /// Use the built-in campaign network (every branch the catalogue mutates; its lanes and
    /// units unless given).
    #[arg(long)]
    pub builtin: bool,
    /// The convolution catalogue (conv engine, event routing and the engine core in a conv
    /// design) instead of the dense one; with --builtin, on the conv campaign network.
    #[arg(long)]
    pub conv: bool,
    /// Print the catalogue and exit.
    #[arg(long)]
    pub list: bool,
    #[arg(long, value_enum, default_value = "verilator")]
    pub simulator: Simulator,
    /// Run only these mutants (ids, comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print the outcomes as JSON.
    #[arg(long)]
    pub json: bool,
    /// Fail when fewer than this share of the non-equivalent mutants is caught.
    #[arg(long, default_value_t = 0.95)]
    pub min_score: f64,
    /// Random samples (plus the directed ones: all inputs at the top value, all zero, each
    /// input alone at the top value).
    #[arg(long, default_value_t = 24)]
    pub random: usize,
    /// Seed of the random samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the verification stimulus (stalls, gaps, order, resets, initial values).
    #[arg(long, default_value_t = 1)]
    pub stim_seed: u64,
    #[arg(long, default_value_t = 8)]
    pub steps: u32,
    /// Lanes, fire units and form (as for generate).
    #[command(flatten)]
    pub design: DesignArgs,
    /// Co-simulation build cache (default target/lifb-cosim, or $LIFB_COSIM_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    use super::limits;
    if args.list {
        for m in catalogue(args.conv) {
            outln!(
                "{:<28} {:<15} {:<18} {}{}",
                m.id,
                m.class.name(),
                m.target.source(),
                m.what,
                m.equivalent
                    .map(|e| format!(" [equivalent: {e}]"))
                    .unwrap_or_default()
            );
        }
        return Ok(());
    }
    limits::steps(
        "--steps (the hardware counts steps in 16 bits)",
        args.steps,
        u16::MAX as u32,
    )?;
    limits::count("--random", args.random, limits::MAX_SAMPLES)?;
    if !(0.0..=1.0).contains(&args.min_score) {
        return Err(Error::bad_input(format!(
            "--min-score must be in 0..=1, got {}",
            args.min_score
        )));
    }
    let (net, mut codegen) = match &args.model {
        Some(p) => (crate::format::load_integer(p)?, args.design.options()?),
        None if args.conv => (
            mutate::conv_campaign_network(),
            mutate::conv_campaign_codegen(),
        ),
        None => (mutate::campaign_network(), mutate::campaign_codegen()),
    };
    if !args.design.spram.is_empty() {
        return Err(Error::bad_input(
            "mutate: --spram is not supported: the catalogue's weight mutant edits weight ROM files, which an SPRAM engine does not have (the load path's planted faults are in tests/hardware/cosim_ultraplus.rs); run mutate without --spram",
        ));
    }
    if args.model.is_none() && (args.design.lanes.is_some() || args.design.units.is_some()) {
        codegen = args.design.options()?;
    }
    codegen.form = args.design.form;
    codegen.state_bram = args.design.state_bram.clone();
    let inputs = mutate::campaign_inputs(&net, args.random, args.seed);
    let opts = mutate::campaign_options(
        args.steps,
        codegen,
        args.cache.unwrap_or_else(default_cache_dir),
        args.stim_seed,
    );
    let json = args.json;
    let cat = catalogue(args.conv);
    let outcomes =
        mutate::campaign_of(cat, args.simulator, &net, &inputs, &opts, &args.only, |o| {
            if !json {
                let _ = print_row(o);
            }
        })?;
    let (caught, live, score) = mutate::score(&outcomes);
    let escaped: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.equivalent.is_none() && !o.caught && o.class.required())
        .collect();
    let wrong_eq: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.equivalent.is_some() && o.caught)
        .collect();
    if json {
        let v = serde_json::json!({
            "simulator": args.simulator.name(),
            "mutants": outcomes,
            "caught": caught,
            "non_equivalent": live,
            "score": score,
        });
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        outln!(
            "score: {caught} of {live} non-equivalent mutants caught ({:.1} %), {} equivalent; simulator {}",
            score * 100.0,
            outcomes.len() - live,
            args.simulator.name()
        );
    }
    if !wrong_eq.is_empty() {
        let ids: Vec<&str> = wrong_eq.iter().map(|o| o.id.as_str()).collect();
        return Err(Error::mismatch(format!(
            "mutants marked equivalent were caught (their argument is wrong): {}",
            ids.join(", ")
        )));
    }
    if !escaped.is_empty() {
        let ids: Vec<String> = escaped
            .iter()
            .map(|o| format!("{} ({})", o.id, o.class.name()))
            .collect();
        return Err(Error::mismatch(format!(
            "mutants of required classes escaped: {}",
            ids.join(", ")
        )));
    }
    if score < args.min_score {
        return Err(Error::mismatch(format!(
            "mutation score {:.3} is below --min-score {}",
            score, args.min_score
        )));
    }
    Ok(())
}

fn catalogue(conv: bool) -> Vec<mutate::Mutant> {
    if conv {
        mutate::conv_catalogue()
    } else {
        mutate::catalogue()
    }
}

fn print_row(o: &Outcome) -> Result<()> {
    let status = match (&o.equivalent, o.caught) {
        (None, true) => "caught",
        (None, false) => "ESCAPED",
        (Some(_), false) => "equivalent",
        (Some(_), true) => "CAUGHT (marked equivalent)",
    };
    let mut detail = o.detail.clone();
    if detail.len() > 110 {
        let mut cut = 110;
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        detail.truncate(cut);
        detail.push_str("...");
    }
    outln!(
        "{:<28} {:<15} {:<10} {}",
        o.id,
        o.class.name(),
        status,
        detail
    );
    Ok(())
}
