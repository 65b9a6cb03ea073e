//! Readers for the tools' machine-readable outputs: Yosys `stat -json`, the Yosys JSON netlist (ports only),
//! nextpnr's `--report` JSON, and, when nextpnr stops before writing a report, its "Device utilisation" table.
//!
//! Yosys 0.23 and 0.70 print different text `stat` layouts, so only their JSON is read.

use crate::error::{Error, Result};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Largest tool output file we are willing to parse (netlists of big designs reach tens of MB).
const MAX_JSON_BYTES: u64 = 1 << 30;

/// Used and available count of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub used: u64,
    pub available: u64,
}

impl Usage {
    pub fn percent(&self) -> f64 {
        if self.available == 0 {
            if self.used == 0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            100.0 * self.used as f64 / self.available as f64
        }
    }
}

/// Cell counts of the synthesized design, by cell type (from Yosys `stat -json`).
pub fn yosys_cells(stat_json: &[u8], top: &str, path: &Path) -> Result<BTreeMap<String, u64>> {
    #[derive(Deserialize)]
    struct Stat {
        #[serde(default)]
        modules: BTreeMap<String, StatModule>,
        design: Option<StatModule>,
    }
    #[derive(Deserialize)]
    struct StatModule {
        #[serde(default)]
        num_cells_by_type: BTreeMap<String, u64>,
    }
    let stat: Stat = serde_json::from_slice(stat_json).map_err(|e| {
        Error::tool(format!(
            "{}: not a Yosys `stat -json` file: {e}",
            path.display()
        ))
    })?;
    // "design" holds the whole hierarchy's totals; a flattened design has only the top module.
    if let Some(design) = stat.design {
        return Ok(design.num_cells_by_type);
    }
    let escaped = format!("\\{top}");
    stat.modules
        .into_iter()
        .find(|(name, _)| name == &escaped || name == top)
        .map(|(_, m)| m.num_cells_by_type)
        .ok_or_else(|| {
            Error::tool(format!(
                "{}: Yosys statistics have no module '{top}'",
                path.display()
            ))
        })
}

/// The top module's ports in a Yosys JSON netlist (sorted by name).
pub fn netlist_ports(
    netlist_json: &[u8],
    top: &str,
    path: &Path,
) -> Result<Vec<super::io_wrap::Port>> {
    #[derive(Deserialize)]
    struct Netlist {
        #[serde(default)]
        modules: BTreeMap<String, NetModule>,
    }
    #[derive(Deserialize)]
    struct NetModule {
        #[serde(default)]
        ports: BTreeMap<String, NetPort>,
    }
    #[derive(Deserialize)]
    struct NetPort {
        direction: String,
        bits: Vec<IgnoredAny>,
    }
    let net: Netlist = serde_json::from_slice(netlist_json)
        .map_err(|e| Error::tool(format!("{}: not a Yosys JSON netlist: {e}", path.display())))?;
    let module = net.modules.get(top).ok_or_else(|| {
        Error::tool(format!(
            "{}: the netlist has no module '{top}'",
            path.display()
        ))
    })?;
    Ok(module
        .ports
        .iter()
        .map(|(name, p)| super::io_wrap::Port {
            name: name.clone(),
            direction: p.direction.clone(),
            width: p.bits.len() as u64,
        })
        .collect())
}

/// The parts of nextpnr's `--report` JSON we use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextpnrReport {
    /// Clock net name -> achieved and constrained frequency.
    #[serde(default)]
    pub fmax: BTreeMap<String, NextpnrFmax>,
    /// Bel type -> used / available.
    #[serde(default)]
    pub utilization: BTreeMap<String, Usage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NextpnrFmax {
    pub achieved: f64,
    pub constraint: f64,
}

pub fn nextpnr_report(report_json: &[u8], path: &Path) -> Result<NextpnrReport> {
    serde_json::from_slice(report_json).map_err(|e| {
        Error::tool(format!(
            "{}: not a nextpnr --report file: {e}",
            path.display()
        ))
    })
}

/// The last "Device utilisation" table in a nextpnr log (printed after packing, before placement can fail).
pub fn nextpnr_log_utilisation(log: &str) -> BTreeMap<String, Usage> {
    let mut last = BTreeMap::new();
    let mut lines = log.lines();
    while let Some(line) = lines.next() {
        if !line.contains("Device utilisation") {
            continue;
        }
        let mut table = BTreeMap::new();
        for row in lines.by_ref() {
            match parse_utilisation_row(row) {
                Some((name, usage)) => {
                    table.insert(name, usage);
                }
                None => break,
            }
        }
        if !table.is_empty() {
            last = table;
        }
    }
    last
}

/// `Info: \t   ICESTORM_RAM:    64/   30   213%` -> ("ICESTORM_RAM", 64 of 30).
fn parse_utilisation_row(row: &str) -> Option<(String, Usage)> {
    let row = row.trim_start().strip_prefix("Info:").unwrap_or(row).trim();
    let (name, rest) = row.split_once(':')?;
    let (used, rest) = rest.split_once('/')?;
    let available = rest.split_whitespace().next()?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    Some((
        name.to_string(),
        Usage {
            used: used.trim().parse().ok()?,
            available: available.parse().ok()?,
        },
    ))
}

/// A readable clock name from nextpnr's clock net name (`clk$SB_IO_IN_$glb_clk` -> `clk`,
/// `$glbnet$clk$TRELLIS_IO_IN` -> `clk`).
pub fn clock_display_name(net: &str) -> String {
    let net = net.strip_prefix("$glbnet$").unwrap_or(net);
    match net.split_once('$') {
        Some((head, _)) if !head.is_empty() => head.to_string(),
        _ => net.to_string(),
    }
}

pub fn read_json_file(path: &Path) -> Result<Vec<u8>> {
    crate::util::read_limited(path, MAX_JSON_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utilisation_table_from_log() {
        let log = "Info: Device utilisation:\nInfo: \t         ICESTORM_LC:   310/ 5280     5%\n\
                   Info: \t        ICESTORM_RAM:    64/   30   213%\nInfo: \t               SB_IO:    27/   96    28%\n\
                   \nInfo: Placed 0 cells based on constraints.\n";
        let t = nextpnr_log_utilisation(log);
        assert_eq!(t.len(), 3);
        assert_eq!(
            t["ICESTORM_RAM"],
            Usage {
                used: 64,
                available: 30
            }
        );
        assert_eq!(t["ICESTORM_LC"].used, 310);
    }

    #[test]
    fn last_utilisation_table_wins() {
        let log = "Info: Device utilisation:\nInfo:  A:  1/ 2 50%\nx\nInfo: Device utilisation:\nInfo:  A:  2/ 2 100%\n";
        assert_eq!(nextpnr_log_utilisation(log)["A"].used, 2);
    }

    #[test]
    fn clock_names() {
        assert_eq!(clock_display_name("clk$SB_IO_IN_$glb_clk"), "clk");
        assert_eq!(clock_display_name("clk"), "clk");
        assert_eq!(clock_display_name("$glbnet$clk$TRELLIS_IO_IN"), "clk");
        assert_eq!(clock_display_name("$auto$x"), "$auto$x");
    }

    #[test]
    fn stat_prefers_design_totals() {
        let j = br#"{"modules":{"\\a":{"num_cells_by_type":{"SB_LUT4":1}}},"design":{"num_cells_by_type":{"SB_LUT4":3}}}"#;
        assert_eq!(yosys_cells(j, "a", Path::new("s")).unwrap()["SB_LUT4"], 3);
        let j = br#"{"modules":{"\\a":{"num_cells_by_type":{"SB_LUT4":1}}}}"#;
        assert_eq!(yosys_cells(j, "a", Path::new("s")).unwrap()["SB_LUT4"], 1);
        assert!(yosys_cells(b"{", "a", Path::new("s")).is_err());
    }
}
