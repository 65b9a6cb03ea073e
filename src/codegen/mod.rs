//! Verilog generator (docs/hardware.md): one event-driven engine per synaptic + neuron layer pair,
//! FIFOs between engines, a readout, weight and neuron-parameter ROMs as $readmemh files, and a
//! manifest. The RTL text depends only on the network's structure and options; every number
//! (weights, biases, thresholds) lives in the .hex files, so one Verilator build serves every
//! network of the same structure.

pub mod conv;
mod hex;
pub mod integration;
pub mod manifest;
pub mod plan;
pub mod rtl;

pub use manifest::Manifest;
pub use plan::{plan, EngineKind, EnginePlan, LeakImpl, Plan};

use crate::error::{Error, Result};
use crate::ir::IntNetwork;
use askama::Template;
use std::path::Path;

/// The neuron form of the generated hardware (native or decoupled; the pure-LIF form is refused).
pub use crate::ir::Form;

/// The lanes of an engine of N neurons when none are given: min(N, 32), for generate, cosim,
/// mutate and flow alike. 32 is the design point the README and docs/benchmarks.md measure on
/// the MNIST example (1.08x its cycle lower bound, 32 DSP, fits an ECP5-45k); fewer lanes trade
/// cycles for logic (docs/benchmarks.md, the sweep).
pub const DEFAULT_LANES_PER_ENGINE: usize = 32;

/// Lanes (parallel neurons) per engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lanes {
    /// min(N, [`DEFAULT_LANES_PER_ENGINE`]) per engine.
    Default,
    /// One value per engine, or a single value for all; 0 means all lanes (P = N).
    List(Vec<usize>),
}

impl Lanes {
    /// "16", "all", "4,all,10": a value for every engine or one for all.
    pub fn parse(s: &str) -> Result<Lanes> {
        Self::parse_for("--lanes", s)
    }

    /// The same list syntax for another per-engine option (`--units`); errors name `flag`.
    pub fn parse_for(flag: &str, s: &str) -> Result<Lanes> {
        let mut v = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part == "all" {
                v.push(0);
            } else {
                match part.parse::<usize>() {
                    Ok(n) if n > 0 => v.push(n),
                    _ => {
                        return Err(Error::bad_input(format!(
                            "{flag}: '{part}' is not a positive number or 'all' (give one value, or one per engine separated by commas)"
                        )))
                    }
                }
            }
        }
        Ok(Lanes::List(v))
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub lanes: Lanes,
    /// Fire units per engine (neurons updated per cycle in the fire phase); default: a quarter of
    /// the lanes, at least one.
    pub units: Lanes,
    pub form: Form,
    /// Engines (numbered from 0) whose weights go to iCE40 UltraPlus single-port RAM, written
    /// through the load port before the first sample (`plan::SpramPlan`).
    pub spram: Vec<usize>,
    /// Engines whose accumulators and membranes go to block RAM with a registered read
    /// (`plan::Memories::state_in_block_ram`).
    pub state_bram: Vec<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lanes: Lanes::Default,
            units: Lanes::Default,
            form: Form::Native,
            spram: Vec::new(),
            state_bram: Vec::new(),
        }
    }
}

/// A generated design: named files (RTL, ROMs, manifest) plus the plan they came from and the
/// hardware network it implements (the integer network in the design's neuron form), so that
/// whoever checks the design compares it with exactly that network.
#[derive(Debug, Clone)]
pub struct Design {
    pub plan: Plan,
    /// The integer network in the neuron form of the design (`plan::apply_form`): the golden
    /// model of this RTL.
    pub network: IntNetwork,
    /// (file name, contents), in a fixed order.
    pub files: Vec<(String, Vec<u8>)>,
    pub manifest: Manifest,
}

pub const TOP: &str = "lifb_top";
pub const HDL_FIFO: &str = include_str!("../../hdl/lifb_fifo.v");
pub const HDL_ROM: &str = include_str!("../../hdl/lifb_rom.v");
pub const HDL_PRIENC: &str = include_str!("../../hdl/lifb_prienc.v");
pub const HDL_FIRE_UNIT: &str = include_str!("../../hdl/lifb_fire_unit.v");
pub const HDL_ACC_LANES: &str = include_str!("../../hdl/lifb_acc_lanes.v");
/// The accumulation, fire process and output stream every engine wrapper instantiates.
pub const HDL_ENGINE_CORE: &str = include_str!("../../hdl/lifb_engine_core.v");
/// The block RAM with a registered read that `SYNC_STATE` engines keep their state in.
pub const HDL_RAM: &str = include_str!("../../hdl/lifb_ram.v");
/// Event routing (decode and pooling); added to a design only when an engine routes.
pub const HDL_EVENT_ROUTE: &str = include_str!("../../hdl/lifb_event_route.v");
/// Weights in iCE40 UltraPlus single-port RAM; added only when an engine keeps them there.
pub const HDL_SPRAM: &str = include_str!("../../hdl/lifb_spram.v");
/// The load file of a design with weights in SPRAM: one line "address data" (hex) per 16-bit
/// beat of the top level's load port, address = {engine (2 bits), word, slice (2 bits)}.
pub const SPRAM_LOAD_FILE: &str = "spram_load.hex";

/// The hand-written modules every design includes, as (file name, text), in a fixed order.
pub const HDL_MODULES: [(&str, &str); 7] = [
    ("lifb_fifo.v", HDL_FIFO),
    ("lifb_rom.v", HDL_ROM),
    ("lifb_ram.v", HDL_RAM),
    ("lifb_prienc.v", HDL_PRIENC),
    ("lifb_acc_lanes.v", HDL_ACC_LANES),
    ("lifb_fire_unit.v", HDL_FIRE_UNIT),
    ("lifb_engine_core.v", HDL_ENGINE_CORE),
];

#[derive(Template)]
#[template(path = "engine.v", escape = "none")]
struct EngineTpl<'a> {
    version: &'a str,
    index: usize,
    desc: &'a str,
    module: &'a str,
    /// The engine's named parameters (the localparams of the generated wrapper).
    g: rtl::EngineParams,
    w_slices: &'a [(usize, usize, String)],
    n_file: &'a str,
    const_in: bool,
    spram: Option<plan::SpramPlan>,
}

#[derive(Template)]
#[template(path = "conv_engine.v", escape = "none")]
struct ConvEngineTpl<'a> {
    version: &'a str,
    index: usize,
    desc: &'a str,
    module: &'a str,
    g: rtl::EngineParams,
    c: rtl::ConvParams,
    rt: rtl::RouteParams,
    pooled: bool,
    pool_desc: String,
    w_slices: &'a [(usize, usize, String)],
    n_file: &'a str,
    const_in: bool,
    spram: Option<plan::SpramPlan>,
}

struct TopEngine {
    desc: String,
    module: String,
    /// Index width of the FIFO in front (the arriving events); routed through a
    /// lifb_event_route in the top level (a dense engine after a pool) when `route` is set.
    source_index_bits: usize,
    route: Option<rtl::RouteParams>,
    in_index_bits: usize,
    in_count_bits: usize,
    out_index_bits: usize,
    out_count_bits: usize,
    state_bits: usize,
    fifo_addr_bits: usize,
    tapped: bool,
    layer: usize,
    /// The engine's number on the weight load port (weights in SPRAM).
    spram_port: Option<usize>,
    weight_addr_bits: usize,
}

struct Tap {
    layer: usize,
    index_bits: usize,
    count_bits: usize,
    state_bits: usize,
}

#[derive(Template)]
#[template(path = "top.v", escape = "none")]
struct TopTpl<'a> {
    version: &'a str,
    form: &'a str,
    top: &'a str,
    const_in: bool,
    /// The host input stream's index width (the first engine's source index).
    in_index_bits: usize,
    in_count_bits: usize,
    out_index_bits: usize,
    out_value_bits: usize,
    taps: Vec<Tap>,
    engines: Vec<TopEngine>,
    last: usize,
    current_readout: bool,
    group: usize,
    class_index_bits: usize,
    class_count_bits: usize,
    score_bits: usize,
    classes: usize,
    /// The weight load port's address bits (0: no engine keeps its weights in SPRAM).
    load_addr_bits: usize,
    load_file: &'a str,
}

#[derive(Template)]
#[template(path = "harness.cpp", escape = "none")]
struct HarnessTpl<'a> {
    version: &'a str,
    top: &'a str,
    taps: Vec<Tap>,
    fifos: usize,
    load_port: bool,
    load_file: &'a str,
}

fn engine_verilog(e: &EnginePlan, i: usize) -> Result<String> {
    if let (Some(c), Some(r)) = (&e.conv, &e.route) {
        let mut g = rtl::EngineParams::of(e);
        g.in_index_bits = e.widths.source_index;
        let t = ConvEngineTpl {
            version: env!("CARGO_PKG_VERSION"),
            index: i,
            desc: &e.desc,
            module: &e.module,
            c: rtl::ConvParams::of(e, c),
            rt: rtl::RouteParams::of(r, e.widths.source_index),
            pooled: r.pool != [1, 1],
            pool_desc: format!("window {}x{}", r.pool[0], r.pool[1]),
            g,
            w_slices: &e.memories.weight_slices,
            n_file: &e.memories.neuron_file,
            const_in: e.const_in,
            spram: None,
        };
        return t
            .render()
            .map(|s| s + "\n")
            .map_err(|err| Error::tool(format!("rendering engine {i}: {err}")));
    }
    let t = EngineTpl {
        version: env!("CARGO_PKG_VERSION"),
        index: i,
        desc: &e.desc,
        module: &e.module,
        g: rtl::EngineParams::of(e),
        w_slices: &e.memories.weight_slices,
        n_file: &e.memories.neuron_file,
        const_in: e.const_in,
        spram: e.memories.spram.clone(),
    };
    t.render()
        .map(|s| s + "\n")
        .map_err(|err| Error::tool(format!("rendering engine {i}: {err}")))
}

fn taps(p: &Plan) -> Vec<Tap> {
    p.engines
        .iter()
        .filter_map(|e| {
            e.neuron_layer.map(|layer| Tap {
                layer,
                index_bits: e.widths.out_index,
                count_bits: e.widths.out_count,
                state_bits: e.widths.state,
            })
        })
        .collect()
}

fn top_verilog(p: &Plan, form: Form) -> Result<String> {
    let last = p.engines.last().expect("plan has engines");
    let first = &p.engines[0];
    let t = TopTpl {
        version: env!("CARGO_PKG_VERSION"),
        form: form.name(),
        top: TOP,
        const_in: first.const_in,
        in_index_bits: first.widths.source_index,
        in_count_bits: first.widths.in_count,
        out_index_bits: last.widths.out_index,
        out_value_bits: last.widths.out_count,
        taps: taps(p),
        engines: p
            .engines
            .iter()
            .map(|e| TopEngine {
                desc: e.desc.clone(),
                module: e.module.clone(),
                source_index_bits: e.widths.source_index,
                route: match (&e.conv, &e.route) {
                    (None, Some(r)) => Some(rtl::RouteParams::of(r, e.widths.source_index)),
                    _ => None,
                },
                in_index_bits: e.widths.in_index,
                in_count_bits: e.widths.in_count,
                out_index_bits: e.widths.out_index,
                out_count_bits: e.widths.out_count,
                state_bits: e.widths.state,
                fifo_addr_bits: e.memories.fifo_addr,
                tapped: e.neuron_layer.is_some(),
                layer: e.neuron_layer.unwrap_or(0),
                spram_port: e.memories.spram.as_ref().map(|sp| sp.port),
                weight_addr_bits: e.widths.weight_addr,
            })
            .collect(),
        last: p.engines.len() - 1,
        current_readout: last.kind == EngineKind::Current,
        group: last.neuron.events,
        class_index_bits: p.class_index_bits,
        class_count_bits: p.class_count_bits,
        score_bits: p.score_bits,
        classes: p.classes,
        load_addr_bits: load_addr_bits(p),
        load_file: SPRAM_LOAD_FILE,
    };
    t.render()
        .map(|s| s + "\n")
        .map_err(|err| Error::tool(format!("rendering the top level: {err}")))
}

/// The weight load port's address: {engine (2 bits), word (the widest SPRAM engine's weight
/// address), slice (2 bits)}; 0 when no engine keeps its weights in SPRAM.
pub fn load_addr_bits(p: &Plan) -> usize {
    p.engines
        .iter()
        .filter(|e| e.memories.spram.is_some())
        .map(|e| 4 + e.widths.weight_addr.max(1))
        .max()
        .unwrap_or(0)
}

/// The load file's lines for engine `e`, whose weight-word slices are `slices` ($readmemh texts
/// of 16-bit words): word by word, slice by slice, in the order a loader streams them.
fn spram_load_lines(p: &Plan, e: &EnginePlan, slices: &[String], out: &mut String) {
    use std::fmt::Write;
    let sp = e.memories.spram.as_ref().expect("an SPRAM engine");
    let row_bits = load_addr_bits(p) - 4;
    let mut lines: Vec<std::str::Lines> = slices.iter().map(|t| t.lines()).collect();
    for row in 0..e.weight_depth() {
        for (s, it) in lines.iter_mut().enumerate() {
            let word = it.next().expect("one line per weight word");
            let data = u16::from_str_radix(word, 16).expect("a 16-bit hex word");
            let addr = (sp.port << (row_bits + 2)) | (row << 2) | s;
            let _ = writeln!(
                out,
                "{addr:0w$x} {data:04x}",
                w = (row_bits + 4).div_ceil(4)
            );
        }
    }
}

/// The Verilator C++ harness for a plan (used by cosim).
pub fn harness_cpp(p: &Plan) -> Result<String> {
    HarnessTpl {
        version: env!("CARGO_PKG_VERSION"),
        top: TOP,
        taps: taps(p),
        fifos: p.engines.len(),
        load_port: load_addr_bits(p) > 0,
        load_file: SPRAM_LOAD_FILE,
    }
    .render()
    .map(|s| s + "\n")
    .map_err(|err| Error::tool(format!("rendering the harness: {err}")))
}

/// Generate the whole design for a validated integer network.
pub fn generate(net: &IntNetwork, opts: &Options) -> Result<Design> {
    generate_with_fifo_depth(net, opts, None)
}

/// `generate`, with every inter-engine and input FIFO at most `fifo_depth` words deep (a power of
/// two, 2..=1024; rounded down to one). Verification uses small FIFOs so that they fill: a full
/// FIFO only back-pressures, it never changes a result.
pub fn generate_with_fifo_depth(
    net: &IntNetwork,
    opts: &Options,
    fifo_depth: Option<usize>,
) -> Result<Design> {
    let model_hash = crate::format::model_hash(net)?;
    let net = plan::apply_form(net, opts.form)?;
    let mut p = plan(&net, opts)?;
    if let Some(d) = fifo_depth {
        if !(2..=1024).contains(&d) {
            return Err(Error::bad_input(format!(
                "FIFO depth {d} is outside 2..=1024 words"
            )));
        }
        let aw = (usize::BITS - 1 - d.leading_zeros()) as usize; // floor(log2 d)
        for e in &mut p.engines {
            e.memories.fifo_addr = e.memories.fifo_addr.min(aw);
        }
    }
    let hw_hash = crate::format::model_hash(&net)?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.push((format!("{TOP}.v"), top_verilog(&p, opts.form)?.into_bytes()));
    for (i, e) in p.engines.iter().enumerate() {
        files.push((
            format!("{}.v", e.module),
            engine_verilog(e, i)?.into_bytes(),
        ));
    }
    for (name, text) in HDL_MODULES {
        files.push((name.into(), text.as_bytes().to_vec()));
    }
    if p.engines.iter().any(|e| e.route.is_some()) {
        files.push((
            "lifb_event_route.v".into(),
            HDL_EVENT_ROUTE.as_bytes().to_vec(),
        ));
    }
    if load_addr_bits(&p) > 0 {
        files.push(("lifb_spram.v".into(), HDL_SPRAM.as_bytes().to_vec()));
    }
    let mut load = String::new();
    for (i, e) in p.engines.iter().enumerate() {
        let (w, n) = hex::engine_roms(&net, &p, i)?;
        if e.memories.spram.is_some() {
            spram_load_lines(&p, e, &w, &mut load);
        } else {
            for (text, (_, _, name)) in w.into_iter().zip(&e.memories.weight_slices) {
                files.push((name.clone(), text.into_bytes()));
            }
        }
        files.push((e.memories.neuron_file.clone(), n.into_bytes()));
    }
    if !load.is_empty() {
        files.push((SPRAM_LOAD_FILE.into(), load.into_bytes()));
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let manifest = Manifest::new(&net, &p, opts, &model_hash, &hw_hash, &names);
    files.push(("manifest.json".into(), manifest.to_json()?));
    Ok(Design {
        plan: p,
        network: net,
        files,
        manifest,
    })
}

/// The Verilog sources of a design (what a simulator or synthesizer reads).
pub fn verilog_files(d: &Design) -> impl Iterator<Item = &(String, Vec<u8>)> {
    d.files.iter().filter(|(n, _)| n.ends_with(".v"))
}

/// Write every file of a design into `dir` (each atomically).
pub fn write(d: &Design, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, bytes) in &d.files {
        crate::util::write_atomic(&dir.join(name), bytes)?;
    }
    Ok(())
}
