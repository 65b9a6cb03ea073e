//! The manifest.json of an RTL folder, typed: written by [`super::generate`], read back by
//! `cosim --hdl` (src/cosim/hdl.rs). The JSON keys are those of format "lifb-hdl-rtl" version 1;
//! files are written through `serde_json::Value`, whose maps keep keys sorted, so the bytes do not
//! depend on the order of the fields below.

use super::plan::{EngineKind, LeakImpl, Plan, CYCLE_FORMULA};
use super::{Form, Options, TOP};
use crate::error::{Error, Result};
use crate::ir::IntNetwork;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `format` word of an RTL manifest.
pub const FORMAT: &str = "lifb-hdl-rtl";
/// The manifest version this generator writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// Version of lifb-hdl that wrote the folder.
    pub generator: String,
    pub model_name: String,
    pub model_hash: String,
    pub hardware_model_hash: String,
    pub hardware_model_doc: String,
    pub form: Form,
    pub top: String,
    pub files: Vec<String>,
    /// Further files `generate` wrote (paths relative to the folder, e.g. `sim/Makefile`): the
    /// testbench folder and the integration files. Removed with `files` when the folder is
    /// generated again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_files: Vec<String>,
    pub sources: Vec<String>,
    pub clock: String,
    pub ports: BTreeMap<String, Port>,
    pub input_protocol: String,
    pub classes: usize,
    pub engines: Vec<Engine>,
    pub cycle_formula: String,
}

/// A port of the top module (the trace taps are described by one entry with a doc only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Port {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

/// One engine: its module, sizes, lanes and memories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Engine {
    pub module: String,
    pub description: String,
    pub synaptic_layer: usize,
    pub neuron_layer: Option<usize>,
    pub kind: String,
    pub inputs: usize,
    pub neurons: usize,
    pub lanes: usize,
    pub passes: usize,
    pub fire_units: usize,
    pub fire_words: usize,
    pub accumulator_bits: usize,
    pub membrane_storage_bits: usize,
    pub input_count_bits: usize,
    pub output_count_bits: usize,
    pub weight_rom: WeightRom,
    pub neuron_rom: NeuronRom,
    pub membrane_bits_total: usize,
    pub accumulator_bits_total: usize,
    pub input_fifo_words: usize,
    pub leak: String,
    pub reset: String,
    pub constant_input: bool,
    /// Accumulators and membranes in block RAM (`generate --state-bram`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub state_in_block_ram: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightRom {
    pub files: Vec<String>,
    /// The weights in iCE40 UltraPlus single-port RAM, written through the load port from
    /// `files` (the design's load file) before the first sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spram: Option<SpramBlocks>,
    pub words: usize,
    pub word_bits: usize,
    pub bits: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpramBlocks {
    /// 16-bit columns of the weight word and 16K-word rows of blocks.
    pub slices: usize,
    pub banks: usize,
    /// The engine field of the load address.
    pub load_port: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronRom {
    pub file: String,
    pub words: usize,
    pub word_bits: usize,
    pub bits: usize,
}

impl Manifest {
    /// The manifest of a design planned as `p` for `net`, whose files (without the manifest)
    /// are named in `files`.
    pub fn new(
        net: &IntNetwork,
        p: &Plan,
        opts: &Options,
        model_hash: &str,
        hw_hash: &str,
        files: &[&str],
    ) -> Manifest {
        let first = &p.engines[0];
        let last = p.engines.last().expect("not empty");
        let port = |dir: &str, bits: usize, doc: Option<&str>| Port {
            dir: Some(dir.into()),
            bits: Some(bits),
            signed: None,
            doc: doc.map(String::from),
        };
        let mut ports = BTreeMap::new();
        let mut add = |name: &str, p: Port| ports.insert(name.to_string(), p);
        add(
            "start",
            port("in", 1, Some("pulse while idle to begin a sample")),
        );
        add(
            "steps",
            port("in", 16, Some("T, sampled with start (1..=65535)")),
        );
        add("in_valid", port("in", 1, None));
        add("in_ready", port("out", 1, None));
        add(
            "in_eos",
            port("in", 1, Some("end-of-step beat, carries no event")),
        );
        add("in_index", port("in", first.widths.source_index, None));
        add(
            "in_value",
            port(
                "in",
                first.widths.in_count,
                Some("encoded input value u_i(t), non-zero"),
            ),
        );
        add("out_valid", port("out", 1, None));
        add("out_ready", port("in", 1, None));
        add("out_eos", port("out", 1, None));
        add("out_index", port("out", last.widths.out_index, None));
        add(
            "out_value",
            Port {
                signed: Some(last.kind == EngineKind::Current),
                ..port("out", last.widths.out_count, None)
            },
        );
        add(
            "done",
            port("out", 1, Some("one-cycle pulse after the last step")),
        );
        add(
            "class_out",
            port(
                "out",
                p.class_count_bits,
                Some("predicted class, valid with done"),
            ),
        );
        add(
            "tapN_*",
            Port {
                dir: None,
                bits: None,
                signed: None,
                doc: Some("trace taps per neuron layer N: valid, eos, index, count, v (membrane after update), busy".into()),
            },
        );
        let load_bits = super::load_addr_bits(p);
        if load_bits > 0 {
            let load = format!(
                "weight load port: before the first sample, one beat per line \"address data\" of {}",
                super::SPRAM_LOAD_FILE
            );
            add("wl_valid", port("in", 1, Some(&load)));
            add(
                "wl_addr",
                port(
                    "in",
                    load_bits,
                    Some("{engine (2 bits), weight word, slice (2 bits)}"),
                ),
            );
            add(
                "wl_data",
                port("in", 16, Some("one 16-bit slice of a weight word")),
            );
        }
        let engines = p.engines.iter().map(engine).collect();
        let names: Vec<String> = files.iter().map(|n| n.to_string()).collect();
        let sources = names
            .iter()
            .filter(|n| n.ends_with(".v"))
            .cloned()
            .collect();
        Manifest {
            format: FORMAT.into(),
            version: VERSION,
            generator: env!("CARGO_PKG_VERSION").into(),
            model_name: net.name.clone(),
            model_hash: model_hash.into(),
            hardware_model_hash: hw_hash.into(),
            hardware_model_doc: "hash of the network the RTL implements (after --form decoupled, the LifGroup network)".into(),
            form: opts.form,
            top: TOP.into(),
            files: names,
            extra_files: Vec::new(),
            sources,
            clock: "clk, rising edge; rst synchronous, active high".into(),
            ports,
            input_protocol: if first.const_in {
                "constant encoding: stream the non-zero encoded inputs once per sample, then one in_eos beat"
            } else {
                "rate encoding: for every step, stream that step's non-zero encoded inputs, then one in_eos beat"
            }
            .into(),
            classes: p.classes,
            engines,
            cycle_formula: CYCLE_FORMULA.into(),
        }
    }

    /// The bytes of manifest.json: pretty JSON with sorted keys and a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let value = serde_json::to_value(self)
            .map_err(|e| Error::tool(format!("serializing the manifest: {e}")))?;
        let mut json = serde_json::to_vec_pretty(&value)
            .map_err(|e| Error::tool(format!("serializing the manifest: {e}")))?;
        json.push(b'\n');
        Ok(json)
    }

    /// Parse manifest.json; `Err` holds a message without the file name. The format word and
    /// version are checked first, so a manifest of another kind is named as such.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Manifest, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("manifest.json is not valid JSON: {e}"))?;
        if value.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
            return Err("manifest.json is not an lifb-hdl RTL manifest".into());
        }
        if value.get("version").and_then(serde_json::Value::as_u64) != Some(VERSION as u64) {
            return Err(format!(
                "manifest.json has a version other than {VERSION} (written by another version of lifb-hdl)"
            ));
        }
        serde_json::from_value(value).map_err(|e| format!("manifest.json: {e}"))
    }
}

fn engine(e: &super::EnginePlan) -> Engine {
    Engine {
        module: e.module.clone(),
        description: e.desc.clone(),
        synaptic_layer: e.syn_layer,
        neuron_layer: e.neuron_layer,
        kind: e.kind.name().into(),
        inputs: e.inputs,
        neurons: e.neurons,
        lanes: e.parallelism.lanes,
        passes: e.parallelism.passes,
        fire_units: e.parallelism.fire_units,
        fire_words: e.parallelism.fire_words,
        accumulator_bits: e.widths.acc,
        membrane_storage_bits: e.widths.state,
        input_count_bits: e.widths.in_count,
        output_count_bits: e.widths.out_count,
        weight_rom: WeightRom {
            files: match e.memories.spram {
                Some(_) => vec![super::SPRAM_LOAD_FILE.to_string()],
                None => e
                    .memories
                    .weight_slices
                    .iter()
                    .map(|s| s.2.clone())
                    .collect(),
            },
            spram: e.memories.spram.as_ref().map(|sp| SpramBlocks {
                slices: sp.slices,
                banks: sp.banks,
                load_port: sp.port,
            }),
            words: e.weight_depth(),
            word_bits: e.parallelism.lanes * e.widths.weight,
            bits: e.weight_depth() * e.parallelism.lanes * e.widths.weight,
        },
        neuron_rom: NeuronRom {
            file: e.memories.neuron_file.clone(),
            words: e.parallelism.fire_words,
            word_bits: e.parallelism.fire_units * e.widths.neuron_params,
            bits: e.parallelism.fire_words * e.parallelism.fire_units * e.widths.neuron_params,
        },
        membrane_bits_total: e.parallelism.fire_words
            * e.parallelism.fire_units
            * if e.kind == EngineKind::Current {
                0
            } else {
                e.widths.state
            },
        accumulator_bits_total: e.parallelism.passes * e.parallelism.lanes * e.widths.acc,
        input_fifo_words: 1usize << e.memories.fifo_addr,
        leak: match e.neuron.leak {
            LeakImpl::None => "none".to_string(),
            LeakImpl::Shift(s) => format!("shift {s}"),
            LeakImpl::Mul { d, f } => format!("multiply by {d}, shift {f}"),
        },
        reset: if e.kind == EngineKind::Current {
            "none"
        } else if e.neuron.reset_zero {
            "zero"
        } else {
            "subtract"
        }
        .into(),
        constant_input: e.const_in,
        state_in_block_ram: e.memories.state_in_block_ram,
    }
}
