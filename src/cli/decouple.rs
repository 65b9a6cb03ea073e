use crate::decouple::{self, Form};
use crate::error::{Error, Result};
use crate::format;
use crate::ir::random::random_inputs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub files: super::PassFiles,
    /// decoupled (or group): B sub-units share one membrane (always exact); pure-lif: standard
    /// LIF units with lateral synapses (exact only without leak; subtract reset only).
    #[arg(long, value_enum, default_value_t = Form::Decoupled)]
    pub form: Form,
    /// Check spike-exact equivalence on this many random inputs before writing (0 = skip the
    /// check; at most 1,000,000).
    #[arg(long, default_value_t = 64)]
    pub check: usize,
    /// Time steps for the check (1..=65536).
    #[arg(long, default_value_t = 8)]
    pub steps: u32,
    /// Write the model even if the check finds differences (pure-LIF form with a leak).
    #[arg(long)]
    pub allow_mismatch: bool,
}

pub fn run(a: Args) -> Result<()> {
    use super::limits;
    a.files.files().check()?;
    if a.check > 0 {
        limits::steps("--steps", a.steps, limits::MAX_STEPS)?;
        limits::count("--check", a.check, limits::MAX_SAMPLES)?;
    }
    let net = format::load_integer(&a.files.model)?;
    if a.check > 0 {
        limits::buffer(
            "--check random inputs",
            limits::input_bytes(&net, a.check),
            "lower --check",
        )?;
        // One sample's trace of the model and of its decoupled form (B sub-units per neuron).
        let per = limits::trace_bytes(&net, a.steps, false)? * (1 + limits::max_burst(&net));
        limits::buffer("one sample's trace at --steps", per, "lower --steps")?;
    }
    let dec = decouple::decouple(&net, a.form)?;
    if a.check > 0 {
        let inputs = random_inputs(&net, 0x5eed, a.check, 0.3);
        let eq = crate::verify::compare(&net, &dec, &inputs, a.steps)?;
        outln!(
            "equivalence on {} random inputs, T = {}: {} of {} spike counts differ ({:.3} %), {} predicted classes differ",
            eq.samples,
            a.steps,
            eq.mismatched,
            eq.compared,
            eq.mismatch_rate() * 100.0,
            eq.class_mismatches
        );
        if !eq.exact() {
            // Any difference (a spike count or a predicted class) fails the check.
            let msg = match &eq.first {
                Some(d) => format!("first difference: {d}"),
                None => format!("{} predicted classes differ", eq.class_mismatches),
            };
            if !a.allow_mismatch {
                return Err(Error::mismatch(format!(
                    "{msg}; the decoupled model is not equivalent (pass --allow-mismatch to write it anyway)"
                )));
            }
            outln!("{msg}");
        }
    }
    format::save(&dec, &a.files.output)?;
    outln!("wrote {} ({} form)", a.files.output.display(), a.form);
    Ok(())
}
