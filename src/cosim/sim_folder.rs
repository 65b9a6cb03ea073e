//! The standalone testbench folder `generate` writes into `DIR/sim/`: the Verilator harness and
//! the Icarus testbench with the encoded stimulus of a few samples, the golden model's expected
//! output (normalized so that it does not depend on cycle counts), two awk scripts that normalize
//! and compare a simulator's output, a Makefile and a README. The user runs `make` there; lifb-hdl
//! runs nothing. The expected lines are checked with the co-simulation's own comparison
//! (`check::compare`) before they are written.

use super::{check, icarus, Stimulus};
use crate::codegen::{self, Design};
use crate::error::{Error, Result};
use std::fmt::Write as _;

/// The stimulus of the folder: the verification setting (stalls, gaps, shuffled beats, resets
/// between samples), seed 1. The normalized output does not depend on the cycles this costs.
fn stimulus() -> Stimulus {
    Stimulus::verify(1)
}

/// Keep what does not depend on cycle timing, each line prefixed with its sample; the same
/// transformation as normalize.awk (the expected file is made with this, the simulators' output
/// with the awk script).
fn normalize(raw: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut sample = "";
    for line in raw.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("S") => sample = f.get(1).copied().unwrap_or(""),
            Some("E" | "O" | "Q" | "X" | "U") => lines.push(format!("{sample} {}", f.join(" "))),
            Some("D") => lines.push(format!("{sample} done {}", f[2..].join(" "))),
            _ => {}
        }
    }
    // sort -k1,1n -k2,2 -k3,3n -k4,4n -k5,5n, then the whole line (in the C locale)
    let num = |f: Option<&str>| -> u64 {
        let f = f.unwrap_or("");
        let digits: String = f.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap_or(0)
    };
    lines.sort_by_cached_key(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        (
            num(f.first().copied()),
            f.get(1).copied().unwrap_or("").to_string(),
            num(f.get(2).copied()),
            num(f.get(3).copied()),
            num(f.get(4).copied()),
            l.clone(),
        )
    });
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

const NORMALIZE_AWK: &str = r#"# Keep the lines of a testbench's output that do not depend on cycle timing, each prefixed
# with its sample number (sort them afterwards): E (tap events), O (output beats), Q (end-of-step
# beats per layer), D without its cycle count, renamed "done" so that it sorts last (class,
# output end-of-step beats, beat pending at done, done held, beat after done, input beats taken),
# X (timeout) and U (unknown value).
$1 == "S" { s = $2; next }
$1 == "E" || $1 == "O" || $1 == "Q" || $1 == "X" || $1 == "U" { print s, $0; next }
$1 == "D" {
    line = s " done"
    for (i = 3; i <= NF; i++) line = line " " $i
    print line
}
"#;

const COMPARE_AWK: &str = r#"# Compare expected.txt (first file) with a simulator's normalized output (second file); print
# PASS, or FAIL with the first differing line decoded, and exit 1.
# Variables: sim (name), samples, steps, layers (network layer of each tap, space separated).
BEGIN { nl = split(layers, lay, " "); for (k = 1; k <= nl; k++) layer[k - 1] = lay[k] }
NR == FNR { e[++ne] = $0; next }
{ a[++na] = $0 }
function describe(l,    f) {
    if (l == "") return "(no line: the output ended)"
    split(l, f, " ")
    if (f[2] == "E")
        return sprintf("sample %s layer %s step %s neuron %s: spike count %s, membrane after the step 0x%s (two's complement)", f[1], layer[f[3]], f[4], f[5], f[6], f[7])
    if (f[2] == "O")
        return sprintf("sample %s step %s: output beat index %s, value 0x%s", f[1], f[3], f[4], f[5])
    if (f[2] == "Q")
        return sprintf("sample %s layer %s: %s end-of-step beats", f[1], layer[f[3]], f[4])
    if (f[2] == "done")
        return sprintf("sample %s done: class %s, %s output end-of-step beats, beat pending at done %s, done held %s, beat after done %s, %s input beats taken", f[1], f[3], f[4], f[5], f[6], f[7], f[8])
    if (f[2] == "X")
        return sprintf("sample %s: no done within %s cycles (timeout)", f[1], f[3])
    if (f[2] == "U")
        return sprintf("sample %s: unknown value (X or Z) at cycle %s: %s", f[1], f[3], substr(l, index(l, f[4])))
    return l
}
END {
    n = ne > na ? ne : na
    for (i = 1; i <= n; i++) {
        if (e[i] != a[i]) {
            print "FAIL: " sim ": line " i " of the sorted, normalized output differs from expected.txt"
            print "  expected: " describe(e[i])
            print "  actual:   " describe(a[i])
            exit 1
        }
    }
    print "PASS: " samples " samples x " steps " steps (" sim "): every layer's spike counts and membranes, the output stream, the end-of-step beats, done and the classes equal the golden model"
}
"#;

const WAVE_V: &str = "// Dump the testbench's handshakes and the whole design to wave.vcd (make wave).\n`timescale 1ns / 1ps\nmodule tb_wave;\n    initial begin\n        $dumpfile(\"wave.vcd\");\n        $dumpvars(1, tb_lifb);\n        $dumpvars(0, tb_lifb.dut);\n    end\nendmodule\n";

/// A file name and its bytes.
pub type NamedFile = (String, Vec<u8>);

/// The files of `DIR/sim/` (names relative to it) for a design and its input samples.
/// Also returns the number of words in stim.hex (the testbench's STIM_WORDS parameter).
pub fn files(design: &Design, inputs: &[Vec<u32>], steps: u32) -> Result<(Vec<NamedFile>, usize)> {
    if inputs.is_empty() {
        return Err(Error::bad_input(
            "no input samples for the testbench folder",
        ));
    }
    if steps == 0 || steps > u16::MAX as u32 {
        return Err(Error::bad_input(format!(
            "--steps must be 1..=65535, got {steps}"
        )));
    }
    let net = &design.network;
    let plan = &design.plan;
    let golden = super::golden_traces(net, inputs, steps)?;
    let raw = check::expected_raw(net, plan, &golden, inputs, steps);
    // The expected lines must be what the co-simulation accepts.
    let report = check::compare(net, plan, &golden, inputs, &raw, steps)?;
    if let Some(d) = report.divergence {
        return Err(Error::tool(format!(
            "the expected testbench output does not pass the co-simulation's own check (a bug: please report): {d}"
        )));
    }
    let stim = stimulus();
    let (drive, _) = super::make_drive(design, inputs, steps, &stim);
    let (hex, words) = icarus::stim_hex(&drive)?;
    let top = codegen::TOP;
    let rtl: Vec<&str> = codegen::verilog_files(design)
        .map(|(n, _)| n.as_str())
        .collect();
    let roms: Vec<&str> = design
        .files
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.ends_with(".hex"))
        .collect();
    for n in rtl.iter().chain(&roms) {
        super::check_plain_name(n)?;
    }
    let layers: Vec<String> = plan
        .engines
        .iter()
        .filter_map(|e| e.neuron_layer.map(|l| l.to_string()))
        .collect();
    let prefixed = |v: &[&str]| {
        v.iter()
            .map(|n| format!("../{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let version = env!("CARGO_PKG_VERSION");
    let n = inputs.len();
    let mut mk = String::new();
    let _ = write!(
        mk,
        "# Generated by lifb-hdl {version}: standalone testbench for {top} (see README.md).\n\
# make (or make verilator): Verilator; make icarus: Icarus Verilog; make wave: build/wave/wave.vcd.\n\
TOP := {top}\n\
RTL := {}\n\
ROMS := {}\n\
SAMPLES := {n}\n\
STEPS := {steps}\n\
STIM_WORDS := {words}\n\
LAYERS := {}\n\
# sample, tag, then tap or step, step or index, neuron (numerically): layer by layer, step by step\n\
SORT_KEYS := -k1,1n -k2,2 -k3,3n -k4,4n -k5,5n\n\
VERILATOR ?= verilator\n\
IVERILOG ?= iverilog\n\
VVP ?= vvp\n\
\n\
.PHONY: all verilator icarus wave clean\n\
all: verilator\n\
\n\
# Each run builds afresh, runs in its own folder (the ROMs are read by $$readmemh relative to\n\
# it), keeps only the lines that do not depend on cycle timing, sorts them and compares.\n\
verilator:\n\
\tmkdir -p build/verilator build/run-verilator\n\
\tcd build/verilator && $(VERILATOR) --cc --exe --build -j 2 -Wno-fatal -Wno-lint --x-assign fast --x-initial unique --top-module $(TOP) -Mdir . -o V$(TOP) $(addprefix ../../,$(RTL)) ../../harness.cpp >build.log || (cat build.log; exit 1)\n\
\tcp $(ROMS) build/run-verilator/\n\
\tcd build/run-verilator && ../verilator/V$(TOP) ../../inputs.txt outputs.txt +verilator+rand+reset+2 +verilator+seed+2\n\
\tawk -f normalize.awk build/run-verilator/outputs.txt | LC_ALL=C sort $(SORT_KEYS) > build/verilator.txt\n\
\t@awk -v sim=verilator -v samples=$(SAMPLES) -v steps=$(STEPS) -v layers=\"$(LAYERS)\" -f compare.awk expected.txt build/verilator.txt\n\
\n\
icarus:\n\
\tmkdir -p build/run-icarus\n\
\t$(IVERILOG) -g2012 -I. -o build/icarus.vvp -s tb_lifb -Ptb_lifb.STIM_WORDS=$(STIM_WORDS) tb_lifb.v $(RTL)\n\
\tcp $(ROMS) stim.hex build/run-icarus/\n\
\tcd build/run-icarus && $(VVP) -n ../icarus.vvp >/dev/null\n\
\tawk -f normalize.awk build/run-icarus/outputs.txt | LC_ALL=C sort $(SORT_KEYS) > build/icarus.txt\n\
\t@awk -v sim=icarus -v samples=$(SAMPLES) -v steps=$(STEPS) -v layers=\"$(LAYERS)\" -f compare.awk expected.txt build/icarus.txt\n\
\n\
wave:\n\
\tmkdir -p build/wave\n\
\t$(IVERILOG) -g2012 -I. -o build/wave.vvp -s tb_lifb -s tb_wave -Ptb_lifb.STIM_WORDS=$(STIM_WORDS) tb_lifb.v tb_wave.v $(RTL)\n\
\tcp $(ROMS) stim.hex build/wave/\n\
\tcd build/wave && $(VVP) -n ../wave.vvp >/dev/null\n\
\t@echo \"wrote build/wave/wave.vcd\"\n\
\n\
clean:\n\
\trm -rf build\n",
        prefixed(&rtl),
        prefixed(&roms),
        layers.join(" ")
    );
    let mut readme = String::new();
    let _ = write!(
        readme,
        "# Testbench for {top}\n\n\
Generated by lifb-hdl {version} for model `{}` ({n} samples x {steps} steps).\n\n\
- `make` (or `make verilator`): builds the design with Verilator and the C++ harness\n  \
(`harness.cpp`), runs the samples, and compares with the golden model's output.\n\
- `make icarus`: the same with Icarus Verilog and the plain Verilog testbench (`tb_lifb.v`,\n  \
`tb_dut.vh`, stimulus `stim.hex`).\n\
- `make wave`: the Icarus run with a waveform dump, `build/wave/wave.vcd`.\n\
- `make clean`: removes `build/`.\n\n\
Both testbenches drive the design with the same seeded handshakes (out_ready stalls, in_valid\n\
gaps, shuffled input beats, resets between samples) and print one line per event. The Makefile\n\
keeps the lines that do not depend on cycle counts (`normalize.awk`: tap events, output beats,\n\
end-of-step beats, the done checks and the class), sorts them, and compares them with\n\
`expected.txt`, which lifb-hdl computed with its golden model (`compare.awk`). It prints\n\
`PASS: ...`, or `FAIL: ...` with the first differing line decoded (sample, layer, step, neuron,\n\
expected and actual) and exits non-zero.\n\n\
Files: `inputs.txt` (the harness's input: a header, then per sample its beats as\n\
`index value end_of_step`), `stim.hex` (the same for the Verilog testbench), `expected.txt`\n\
(lines `sample E tap step neuron count membrane_hex`, `sample O step index value_hex`,\n\
`sample Q tap end_of_step_beats`, `sample done class output_eos_beats pending again late beats`).\n\
The taps, in order, are the network layers {}.\n",
        net.name,
        layers.join(", ")
    );
    let files = vec![
        ("Makefile".into(), mk.into_bytes()),
        ("README.md".into(), readme.into_bytes()),
        (
            "harness.cpp".into(),
            codegen::harness_cpp(plan)?.into_bytes(),
        ),
        ("tb_lifb.v".into(), icarus::TESTBENCH.as_bytes().to_vec()),
        ("tb_dut.vh".into(), icarus::dut_include(plan)?.into_bytes()),
        ("tb_wave.v".into(), WAVE_V.as_bytes().to_vec()),
        ("stim.hex".into(), hex.into_bytes()),
        (
            "inputs.txt".into(),
            super::harness_input(&drive).into_bytes(),
        ),
        ("expected.txt".into(), normalize(&raw).into_bytes()),
        ("normalize.awk".into(), NORMALIZE_AWK.as_bytes().to_vec()),
        ("compare.awk".into(), COMPARE_AWK.as_bytes().to_vec()),
    ];
    Ok((files, words))
}
