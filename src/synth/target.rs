//! The FPGA targets lifb-hdl synthesizes for, and what each device offers.
//!
//! The capacities here are the data-sheet numbers; they are used only to say "does not fit" with the numbers
//! before place and route (nextpnr's own report gives the capacities it used when it succeeds).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    #[serde(rename = "ice40")]
    Ice40,
    #[serde(rename = "ecp5")]
    Ecp5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
pub enum Target {
    #[serde(rename = "ice40-up5k")]
    #[value(name = "ice40-up5k")]
    Ice40Up5k,
    #[serde(rename = "ice40-hx8k")]
    #[value(name = "ice40-hx8k")]
    Ice40Hx8k,
    #[serde(rename = "ecp5-25k")]
    #[value(name = "ecp5-25k")]
    Ecp5_25k,
    #[serde(rename = "ecp5-45k")]
    #[value(name = "ecp5-45k")]
    Ecp5_45k,
    #[serde(rename = "ecp5-85k")]
    #[value(name = "ecp5-85k")]
    Ecp5_85k,
}

/// Data-sheet facts about one device in the package lifb-hdl places it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Device {
    pub family: Family,
    /// Part name as the vendor writes it.
    pub part: &'static str,
    /// nextpnr's device option (e.g. `--up5k`).
    pub nextpnr_device_flag: &'static str,
    pub package: &'static str,
    /// iCE40: logic cells (LUT4 + FF + carry); ECP5: LUT4s.
    pub logic_cells: u64,
    pub flip_flops: u64,
    /// iCE40: 4 kbit EBR (SB_RAM40_4K); ECP5: 18 kbit EBR (DP16KD).
    pub block_rams: u64,
    /// iCE40 UP5K: SB_MAC16; ECP5: 18x18 multipliers (MULT18X18D).
    pub dsps: u64,
    /// User I/O pins bonded out in `package`.
    pub io_pins: u64,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Ice40Up5k,
        Target::Ice40Hx8k,
        Target::Ecp5_25k,
        Target::Ecp5_45k,
        Target::Ecp5_85k,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "ice40-up5k",
            Target::Ice40Hx8k => "ice40-hx8k",
            Target::Ecp5_25k => "ecp5-25k",
            Target::Ecp5_45k => "ecp5-45k",
            Target::Ecp5_85k => "ecp5-85k",
        }
    }

    pub fn family(self) -> Family {
        self.device().family
    }

    pub fn device(self) -> Device {
        match self {
            Target::Ice40Up5k => Device {
                family: Family::Ice40,
                part: "iCE40UP5K",
                nextpnr_device_flag: "--up5k",
                package: "sg48",
                logic_cells: 5280,
                flip_flops: 5280,
                block_rams: 30,
                dsps: 8,
                io_pins: 39,
            },
            Target::Ice40Hx8k => Device {
                family: Family::Ice40,
                part: "iCE40HX8K",
                nextpnr_device_flag: "--hx8k",
                package: "ct256",
                logic_cells: 7680,
                flip_flops: 7680,
                block_rams: 32,
                dsps: 0,
                io_pins: 206,
            },
            Target::Ecp5_25k => Device {
                family: Family::Ecp5,
                part: "LFE5U-25F",
                nextpnr_device_flag: "--25k",
                package: "CABGA381",
                logic_cells: 24_288,
                flip_flops: 24_288,
                block_rams: 56,
                dsps: 28,
                io_pins: 197,
            },
            Target::Ecp5_45k => Device {
                family: Family::Ecp5,
                part: "LFE5U-45F",
                nextpnr_device_flag: "--45k",
                package: "CABGA381",
                logic_cells: 43_848,
                flip_flops: 43_848,
                block_rams: 108,
                dsps: 72,
                io_pins: 203,
            },
            Target::Ecp5_85k => Device {
                family: Family::Ecp5,
                part: "LFE5U-85F",
                nextpnr_device_flag: "--85k",
                package: "CABGA381",
                logic_cells: 83_640,
                flip_flops: 83_640,
                block_rams: 208,
                dsps: 156,
                io_pins: 205,
            },
        }
    }

    /// Clock target handed to nextpnr's timing-driven placer when the user gives none. Ambitious on purpose:
    /// the placer works towards it, and a miss is reported (not an error): fmax is what we measure.
    pub fn default_freq_mhz(self) -> f64 {
        match self.family() {
            Family::Ice40 => 48.0,
            Family::Ecp5 => 100.0,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                crate::Error::bad_input(format!(
                    "unknown target '{s}'; known targets: {}",
                    names.join(", ")
                ))
            })
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ice40 => "ice40",
            Family::Ecp5 => "ecp5",
        })
    }
}
