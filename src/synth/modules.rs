//! Resources per module: what each engine, FIFO and the top level's own logic costs.
//!
//! How it is measured: the same Yosys run synthesizes the design a second time with
//! `synth_* -noflatten` (from the elaborated design saved before the flat synthesis), so every
//! module is technology-mapped on its own, and writes `stat -json` per module. Each row here is
//! one module instantiated by the top (parameterised copies merged under their Verilog name),
//! with everything instantiated inside it; the top level's own logic (readout, glue) is a row
//! of its own. Without flattening, no optimisation crosses a module boundary, so the rows add up
//! to the hierarchical total, which can differ a little from the flat synthesis that nextpnr
//! places (the headline figures).

use super::{Demand, Family};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One module of the top level's hierarchy, with everything instantiated inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleUsage {
    /// The module's Verilog name (parameterised copies merged), or the top module's name for
    /// the top level's own logic.
    pub module: String,
    /// Instances of it in the top module (1 for the top level's own logic).
    pub instances: u64,
    /// The top level's own logic (outside every submodule), not a submodule.
    pub top_level_logic: bool,
    /// Every technology cell, of all instances together.
    pub cells: u64,
    pub lut4: u64,
    pub flip_flops: u64,
    pub carry: u64,
    pub block_ram: u64,
    pub dsp: u64,
}

/// Deepest module nesting followed (the generated designs have three levels).
const MAX_DEPTH: usize = 64;

#[derive(Deserialize)]
struct StatModule {
    #[serde(default)]
    num_cells_by_type: BTreeMap<String, u64>,
}

/// `\name` -> `name` (Yosys writes public names with a backslash).
fn plain(name: &str) -> &str {
    name.strip_prefix('\\').unwrap_or(name)
}

/// The Verilog name of a module: `$paramod$<hash>\lifb_fifo` and
/// `$paramod\lifb_fifo\W=s32'...` are both `lifb_fifo`.
pub fn verilog_name(module: &str) -> &str {
    let m = plain(module);
    match m.strip_prefix("$paramod") {
        Some(rest) => match rest.split_once('\\') {
            Some((_, tail)) => tail.split('\\').next().unwrap_or(tail),
            None => m,
        },
        None => m,
    }
}

/// Per-module rows from a Yosys `stat -json` of the unflattened design whose top is `top`.
pub fn from_stat(
    stat_json: &[u8],
    top: &str,
    family: Family,
    path: &Path,
) -> Result<Vec<ModuleUsage>> {
    let stat = modules_object(stat_json).map_err(|e| {
        Error::tool(format!(
            "{}: not a Yosys `stat -json` file with \"modules\": {e}",
            path.display()
        ))
    })?;
    let modules: BTreeMap<&str, &BTreeMap<String, u64>> = stat
        .iter()
        .map(|(k, m)| (plain(k), &m.num_cells_by_type))
        .collect();
    let top_cells = modules.get(top).ok_or_else(|| {
        Error::tool(format!(
            "{}: the per-module statistics have no module '{top}'",
            path.display()
        ))
    })?;
    let mut memo: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    let mut rows: BTreeMap<&str, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    let mut own: BTreeMap<String, u64> = BTreeMap::new();
    for (ty, &n) in top_cells.iter() {
        let ty = plain(ty);
        if modules.contains_key(ty) {
            let inner = flat_cells(ty, &modules, &mut memo, 0, path)?;
            let row = rows.entry(verilog_name(ty)).or_default();
            row.0 += n;
            add_scaled(&mut row.1, &inner, n);
        } else {
            *own.entry(ty.to_string()).or_default() += n;
        }
    }
    let usage = |module: &str, instances, top_level_logic, cells: &BTreeMap<String, u64>| {
        let d = Demand::from_cells(family, cells, 0);
        let count = |names: &[&str]| {
            names
                .iter()
                .map(|n| cells.get(*n).copied().unwrap_or(0))
                .sum()
        };
        ModuleUsage {
            module: module.to_string(),
            instances,
            top_level_logic,
            cells: cells.values().sum(),
            lut4: count(&["SB_LUT4", "LUT4"]),
            flip_flops: d.flip_flops,
            carry: count(&["SB_CARRY", "CCU2C"]),
            block_ram: d.block_ram,
            dsp: d.dsp,
        }
    };
    let mut out: Vec<ModuleUsage> = rows
        .iter()
        .map(|(name, (n, cells))| usage(name, *n, false, cells))
        .collect();
    out.push(usage(top, 1, true, &own));
    Ok(out)
}

/// The `"modules"` object of a `stat -json` file, read on its own: Yosys 0.23 writes the
/// hierarchy of a design with submodules as plain text after it (the file is not valid JSON).
fn modules_object(stat_json: &[u8]) -> std::result::Result<BTreeMap<String, StatModule>, String> {
    let key = b"\"modules\":";
    let at = stat_json
        .windows(key.len())
        .position(|w| w == key)
        .ok_or("no \"modules\" object")?;
    let mut de = serde_json::Deserializer::from_slice(&stat_json[at + key.len()..]);
    BTreeMap::<String, StatModule>::deserialize(&mut de).map_err(|e| e.to_string())
}

/// Technology cells of one instance of `module`, with its submodules' cells added in.
fn flat_cells<'a>(
    module: &'a str,
    modules: &BTreeMap<&'a str, &'a BTreeMap<String, u64>>,
    memo: &mut BTreeMap<&'a str, BTreeMap<String, u64>>,
    depth: usize,
    path: &Path,
) -> Result<BTreeMap<String, u64>> {
    if let Some(c) = memo.get(module) {
        return Ok(c.clone());
    }
    if depth > MAX_DEPTH {
        return Err(Error::tool(format!(
            "{}: module '{module}' is nested more than {MAX_DEPTH} levels deep (a recursive hierarchy?)",
            path.display()
        )));
    }
    let mut total = BTreeMap::new();
    for (ty, &n) in modules[module].iter() {
        let ty = plain(ty);
        match modules.get_key_value(ty) {
            Some((&sub, _)) => {
                let inner = flat_cells(sub, modules, memo, depth + 1, path)?;
                add_scaled(&mut total, &inner, n);
            }
            None => *total.entry(ty.to_string()).or_default() += n,
        }
    }
    memo.insert(module, total.clone());
    Ok(total)
}

fn add_scaled(into: &mut BTreeMap<String, u64>, cells: &BTreeMap<String, u64>, n: u64) {
    for (k, v) in cells {
        *into.entry(k.clone()).or_default() += v.saturating_mul(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paramod_names() {
        assert_eq!(verilog_name("\\lifb_top"), "lifb_top");
        assert_eq!(verilog_name("$paramod$3f2a\\lifb_fifo"), "lifb_fifo");
        assert_eq!(verilog_name("$paramod\\lifb_rom\\W=s32'00"), "lifb_rom");
        assert_eq!(verilog_name("$paramod"), "$paramod");
    }

    #[test]
    fn rows_include_submodules_and_merge_copies() {
        let j = br#"{"modules":{
          "\\top":{"num_cells_by_type":{"SB_LUT4":5,"SB_DFF":2,"$paramod$a\\fifo":1,"$paramod$b\\fifo":1,"\\eng":2}},
          "$paramod$a\\fifo":{"num_cells_by_type":{"SB_RAM40_4K":1,"SB_LUT4":3}},
          "$paramod$b\\fifo":{"num_cells_by_type":{"SB_RAM40_4K":1,"SB_LUT4":4}},
          "\\eng":{"num_cells_by_type":{"SB_LUT4":10,"SB_CARRY":4,"SB_DFFE":6,"\\rom":2}},
          "\\rom":{"num_cells_by_type":{"SB_RAM40_4K":2}}}}"#;
        let rows = from_stat(j, "top", Family::Ice40, Path::new("s")).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.module.as_str()).collect();
        assert_eq!(names, ["eng", "fifo", "top"]);
        let eng = &rows[0];
        assert_eq!(
            (
                eng.instances,
                eng.lut4,
                eng.carry,
                eng.flip_flops,
                eng.block_ram
            ),
            (2, 20, 8, 12, 8)
        );
        // Technology cells only: the two ROM instances count as their four block RAMs.
        assert_eq!(eng.cells, 2 * (10 + 4 + 6 + 2 * 2));
        let fifo = &rows[1];
        assert_eq!((fifo.instances, fifo.lut4, fifo.block_ram), (2, 7, 2));
        let top = &rows[2];
        assert!(top.top_level_logic && !eng.top_level_logic);
        assert_eq!((top.lut4, top.flip_flops, top.cells), (5, 2, 7));
        assert!(from_stat(j, "nope", Family::Ice40, Path::new("s")).is_err());
        assert!(from_stat(b"[", "top", Family::Ice40, Path::new("s")).is_err());
    }

    /// Yosys 0.23 prints the hierarchy as text between "modules" and "design".
    #[test]
    fn yosys_0_23_text_after_the_modules_is_skipped() {
        let j = b"{\n \"creator\": \"Yosys 0.23\",\n \"modules\": {\n  \"\\\\top\": {\"num_cells_by_type\": {\"SB_LUT4\": 2, \"\\\\sub\": 1}},\n  \"\\\\sub\": {\"num_cells_by_type\": {\"SB_LUT4\": 3}}\n },\n       \\sub      1\n \"design\": {}\n}\n";
        let rows = from_stat(j, "top", Family::Ice40, Path::new("s")).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].module.as_str(), rows[0].lut4), ("sub", 3));
        assert_eq!(rows[1].lut4, 2);
        assert!(from_stat(b"{}", "top", Family::Ice40, Path::new("s")).is_err());
    }

    #[test]
    fn a_recursive_hierarchy_is_an_error_not_a_hang() {
        let j = br#"{"modules":{"\\top":{"num_cells_by_type":{"\\a":1}},"\\a":{"num_cells_by_type":{"\\a":1}}}}"#;
        let e = from_stat(j, "top", Family::Ecp5, Path::new("s")).unwrap_err();
        assert!(e.to_string().contains("nested"), "{e}");
    }
}
