use crate::decouple::{self, Form};
use crate::error::{Error, Result};
use crate::format;
use crate::ir::random::random_inputs;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Integer model manifest (.json).
    #[arg(long)]
    pub model: PathBuf,
    /// Where to write the decoupled model.
    #[arg(short, long)]
    pub output: PathBuf,
    /// group: B sub-units share one membrane (always exact); pure-lif: standard LIF units with
    /// lateral synapses (exact only without leak; subtract reset only).
    #[arg(long, value_enum, default_value_t = Form::Group)]
    pub form: Form,
    /// Check spike-exact equivalence on this many random inputs before writing (0 = skip).
    #[arg(long, default_value_t = 64)]
    pub check: usize,
    /// Time steps for the check.
    #[arg(long, default_value_t = 8)]
    pub steps: u32,
    /// Write the model even if the check finds differences (pure-LIF form with a leak).
    #[arg(long)]
    pub allow_mismatch: bool,
}

pub fn run(a: Args) -> Result<()> {
    let net = format::load_integer(&a.model)?;
    let dec = decouple::decouple(&net, a.form)?;
    if a.check > 0 {
        let inputs = random_inputs(&net, 0x5eed, a.check, 0.3);
        let eq = decouple::compare(&net, &dec, &inputs, a.steps)?;
        println!(
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
            println!("{msg}");
        }
    }
    format::save(&dec, &a.output)?;
    println!("wrote {} ({:?} form)", a.output.display(), a.form);
    Ok(())
}
