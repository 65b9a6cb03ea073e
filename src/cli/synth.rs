//! `lifb-hdl synth`: Yosys + nextpnr on a directory of Verilog; prints a resource/fmax table, writes synth.json.

use crate::error::Result;
use crate::synth::{self, Backend, IoWrap, SynthRequest, Target};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory of Verilog files (what `lifb-hdl generate` wrote; .hex files for $readmemh next to them).
    #[arg(long, value_name = "DIR")]
    pub hdl: PathBuf,
    /// Device to synthesize for.
    #[arg(long, value_enum)]
    pub target: Target,
    /// Tools to use: Debian's packages, the YoWASP venv (.venv-eda), or auto (Debian for iCE40 if present).
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Top module (default: "top" in DIR/manifest.json).
    #[arg(long, value_name = "NAME")]
    pub top: Option<String>,
    /// Output directory for logs, netlist, reports and synth.json (default: out/synth/<target>-<backend>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Clock target for place and route, in MHz (default: 48 for iCE40, 100 for ECP5). A miss is reported, not fatal.
    #[arg(long, value_name = "MHZ")]
    pub freq: Option<f64>,
    /// Placer seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// YoWASP venv (default: $LIFB_EDA_VENV, else the project's own .venv-eda where scripts/setup-eda.sh puts it).
    #[arg(long, value_name = "DIR")]
    pub venv: Option<PathBuf>,
    /// Measure the design inside a scan wrapper (few pins) when its ports outnumber the package's pins (auto),
    /// never, or always. The wrapper's flip-flops are included in the numbers and reported.
    #[arg(long, value_enum, default_value_t = IoWrap::Auto)]
    pub io_wrap: IoWrap,
    /// Stop Yosys or nextpnr when one run takes longer than this many seconds (default: no limit).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Also measure the resources per module (engines, FIFOs, the top's own logic) with a second,
    /// hierarchy-keeping synthesis in the same Yosys run (about doubles the Yosys time).
    #[arg(long)]
    pub per_module: bool,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(f) = args.freq {
        super::limits::float("--freq", f, 0.0, 10_000.0, true)?;
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("out")
            .join("synth")
            .join(format!("{}-{}", args.target, args.backend))
    });
    let req = SynthRequest {
        hdl_dir: args.hdl,
        top: args.top,
        target: args.target,
        backend: args.backend,
        out_dir: out.clone(),
        freq_mhz: args.freq,
        seed: args.seed,
        venv: args.venv,
        io_wrap: args.io_wrap,
        timeout: args.timeout.map(std::time::Duration::from_secs),
        per_module: args.per_module,
    };
    let result = synth::run(&req)?;
    out!("{}", result.summary());
    outln!("  wrote        {}", out.join("synth.json").display());
    Ok(())
}
