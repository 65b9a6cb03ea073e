use crate::error::{Error, Result};
use crate::golden::bench;
use crate::ir::Encoding;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Layer sizes of the benchmark MLP.
    #[arg(long, default_value = "784-256-10")]
    pub arch: String,
    /// Maximum burst B of every layer.
    #[arg(long, default_value_t = 4)]
    pub burst: u32,
    #[arg(long, default_value_t = 8)]
    pub steps: u32,
    #[arg(long, default_value_t = 20000)]
    pub images: usize,
    /// Share of inputs active per step.
    #[arg(long, default_value_t = 0.2)]
    pub active: f64,
    /// Only this input encoding (direct or rate); default both.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let sizes: Vec<usize> = a
        .arch
        .split('-')
        .map(|s| {
            s.parse().map_err(|_| {
                Error::bad_input(format!(
                    "--arch {:?}: expected sizes like 784-256-10",
                    a.arch
                ))
            })
        })
        .collect::<Result<_>>()?;
    if sizes.len() < 2 || sizes.contains(&0) {
        return Err(Error::bad_input("--arch needs at least two non-zero sizes"));
    }
    if !(0.0..=1.0).contains(&a.active) || a.images == 0 || a.steps == 0 {
        return Err(Error::bad_input(
            "--active must be in [0, 1]; --images and --steps must be > 0",
        ));
    }
    for enc in [Encoding::Direct, Encoding::Rate { seed: 7 }] {
        let name = if matches!(enc, Encoding::Direct) {
            "direct"
        } else {
            "rate"
        };
        if a.encoding.as_deref().is_some_and(|e| e != name) {
            continue;
        }
        let net = bench::mlp(&sizes, a.burst, enc, 1);
        let t = bench::measure(&net, a.steps, a.images, a.active, 2)?;
        if a.json {
            outln!("{}", serde_json::to_string(&t).unwrap_or_default());
        } else {
            outln!(
                "golden integer model {} B={} T={} {:<10} active {:>5.1} %: {:>9.0} images/s, {:>7.1} M synaptic events/s ({} images in {:.2} s, one core)",
                t.network,
                a.burst,
                t.steps,
                name,
                t.active_input_share * 100.0,
                t.images_per_s,
                t.synaptic_events_per_s / 1e6,
                t.images,
                t.seconds
            );
        }
    }
    Ok(())
}
