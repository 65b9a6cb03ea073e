//! The testbench folder `generate` writes (DIR/sim/): `make` and `make icarus` pass on the
//! generated design and fail, with the first difference decoded, on a planted fault; the folder
//! is byte-identical on regeneration; regeneration removes the previous generation's files and
//! refuses a folder holding files it did not write unless --force.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::bin;

fn model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/digits-lifb.json")
}

fn generate(out: &Path, extra: &[&str]) -> (i32, String) {
    let o = bin()
        .args(["generate", "--model"])
        .arg(model())
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn make(sim: &Path, target: Option<&str>) -> (bool, String) {
    let mut c = Command::new("make");
    c.arg("-C").arg(sim);
    if let Some(t) = target {
        c.arg(t);
    }
    let o = c.output().unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn make_passes_and_a_planted_fault_fails_with_the_difference_decoded() {
    let dir = common::Scratch::new("sim-folder-make");
    let rtl = dir.join("rtl");
    let (code, out) = generate(&rtl, &[]);
    assert_eq!(code, 0, "{out}");
    let sim = rtl.join("sim");
    for f in [
        "Makefile",
        "README.md",
        "expected.txt",
        "inputs.txt",
        "stim.hex",
    ] {
        assert!(sim.join(f).is_file(), "sim/{f} missing");
    }
    if !common::have_tool("make") || !common::have_tool("verilator") {
        common::skip(
            "make_passes_and_a_planted_fault_fails_with_the_difference_decoded",
            "make or verilator not installed",
        );
        return;
    }
    let (ok, text) = make(&sim, None);
    assert!(ok, "{text}");
    assert!(
        text.contains("PASS: 4 samples x 4 steps (verilator)"),
        "{text}"
    );
    if common::have_tool("iverilog") {
        let (ok, text) = make(&sim, Some("icarus"));
        assert!(ok, "{text}");
        assert!(
            text.contains("PASS: 4 samples x 4 steps (icarus)"),
            "{text}"
        );
    } else {
        common::skip(
            "make_passes_and_a_planted_fault_fails_with_the_difference_decoded (icarus)",
            "iverilog not installed",
        );
    }
    // Plant a fault: the first weight words of the first engine all become 7s.
    let rom = rtl.join("lifb_top_l0_w0.hex");
    let good = std::fs::read_to_string(&rom).unwrap();
    let bad: String = good
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i < 20 {
                "7".repeat(l.len())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert_ne!(bad, good);
    std::fs::write(&rom, bad).unwrap();
    let (ok, text) = make(&sim, None);
    assert!(!ok, "make passed on a faulty ROM:\n{text}");
    assert!(text.contains("FAIL: verilator"), "{text}");
    assert!(
        text.contains("expected: sample 0 layer 1 step 0 neuron"),
        "the first difference is not decoded:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn files_under(d: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(d).unwrap() {
        let e = e.unwrap();
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            files_under(&e.path(), &format!("{name}/"), out);
        } else {
            out.push((name, std::fs::read(e.path()).unwrap()));
        }
    }
    out.sort();
}

#[test]
fn regeneration_is_byte_identical_removes_stale_files_and_refuses_foreign_ones() {
    let dir = common::Scratch::new("sim-folder-regen");
    let (a, b) = (dir.join("a"), dir.join("b"));
    assert_eq!(generate(&a, &["--lanes", "all"]).0, 0);
    assert_eq!(generate(&b, &["--lanes", "all"]).0, 0);
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    files_under(&a, "", &mut fa);
    files_under(&b, "", &mut fb);
    assert!(fa.iter().any(|(n, _)| n == "sim/expected.txt"));
    assert_eq!(fa, fb, "two runs of generate differ");

    // Regenerating with fewer lanes: fewer weight ROM slices; the old ones must go.
    let before: Vec<String> = fa.iter().map(|(n, _)| n.clone()).collect();
    assert!(before.iter().any(|n| n == "lifb_top_l0_w3.hex"));
    let (code, out) = generate(&a, &["--no-sim"]);
    assert_eq!(code, 0, "{out}");
    let mut now = Vec::new();
    files_under(&a, "", &mut now);
    let names: Vec<String> = now.iter().map(|(n, _)| n.clone()).collect();
    assert!(
        !names.iter().any(|n| n.starts_with("sim/")),
        "the previous testbench folder remains: {names:?}"
    );
    let fresh = dir.join("fresh");
    assert_eq!(generate(&fresh, &["--no-sim"]).0, 0);
    let mut want = Vec::new();
    files_under(&fresh, "", &mut want);
    assert_eq!(
        names,
        want.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        "stale files remain (before: {before:?})"
    );

    // A file generate did not write: refused (exit 2), then kept with --force.
    std::fs::write(a.join("notes.txt"), "mine").unwrap();
    let (code, out) = generate(&a, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("notes.txt") && out.contains("--force"),
        "{out}"
    );
    let (code, out) = generate(&a, &["--force"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read(a.join("notes.txt")).unwrap(), b"mine");
    assert!(a.join("sim/Makefile").is_file());
    // make's build folder is neither deleted nor counted as foreign
    std::fs::create_dir_all(a.join("sim/build")).unwrap();
    std::fs::write(a.join("sim/build/x"), "x").unwrap();
    std::fs::remove_file(a.join("notes.txt")).unwrap();
    let (code, out) = generate(&a, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(a.join("sim/build/x").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_f_lists_exactly_the_verilog_sources_and_the_core_names_them() {
    let dir = common::Scratch::new("sim-folder-integration");
    let rtl = dir.join("rtl");
    let (code, out) = generate(&rtl, &[]);
    assert_eq!(code, 0, "{out}");
    let listed: Vec<String> = std::fs::read_to_string(rtl.join("files.f"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(&rtl)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".v"))
        .collect();
    on_disk.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(
        sorted, on_disk,
        "files.f does not list exactly the .v files"
    );
    assert_eq!(
        listed.last().unwrap(),
        "lifb_top.v",
        "the top level comes last"
    );
    let core = std::fs::read_to_string(rtl.join("lifb_top.core")).unwrap();
    assert!(core.starts_with("CAPI=2:\n"), "{core}");
    for n in listed
        .iter()
        .chain(["lifb_top_l0_w0.hex".to_string()].iter())
    {
        assert!(
            core.contains(&format!("      - {n}")),
            "{n} not in the core"
        );
    }
    for t in ["  default:", "  lint:", "  sim:", "  sim_verilator:"] {
        assert!(core.contains(t), "target {t} missing:\n{core}");
    }
    if !common::have_tool("verilator") {
        common::skip(
            "files_f_lists_exactly_the_verilog_sources_and_the_core_names_them",
            "verilator not installed",
        );
        return;
    }
    let o = Command::new("verilator")
        .args([
            "--lint-only",
            "-Wno-fatal",
            "-Wno-lint",
            "--top-module",
            "lifb_top",
            "-f",
            "files.f",
        ])
        .current_dir(&rtl)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "verilator -f files.f: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The width of the port declared on the line that ends with `name,` (or `name`).
fn port_width(text: &str, name: &str) -> usize {
    let line = text
        .lines()
        .find(|l| l.contains(" wire [") && l.trim_end_matches(',').ends_with(name))
        .unwrap_or_else(|| panic!("no port {name} in {text}"));
    let t = &line[line.find('[').unwrap() + 1..];
    t[..t.find(':').unwrap()].parse::<usize>().unwrap() + 1
}

#[test]
fn the_axi_stream_wrapper_lints_and_classifies_like_the_golden_model() {
    let dir = common::Scratch::new("sim-folder-axis");
    let rtl = dir.join("rtl");
    let (code, out) = generate(&rtl, &["--axis"]);
    assert_eq!(code, 0, "{out}");
    let files_f = std::fs::read_to_string(rtl.join("files.f")).unwrap();
    assert!(files_f.ends_with("lifb_top_axis.v\n"), "{files_f}");
    if !common::have_tool("verilator") || !common::have_tool("iverilog") {
        common::skip(
            "the_axi_stream_wrapper_lints_and_classifies_like_the_golden_model",
            "verilator or iverilog not installed",
        );
        return;
    }
    let o = Command::new("verilator")
        .args([
            "--lint-only",
            "-Wno-fatal",
            "--top-module",
            "lifb_top_axis",
            "-f",
            "files.f",
        ])
        .current_dir(&rtl)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let wrapper = std::fs::read_to_string(rtl.join("lifb_top_axis.v")).unwrap();
    let sw = port_width(&wrapper, "s_axis_tdata");
    let mw = port_width(&wrapper, "m_axis_tdata");
    let clw = port_width(&wrapper, "class_out");
    let value_shift: usize = {
        let t = &wrapper[wrapper.find(".in_value(s_axis_tdata[").unwrap()..];
        let t = &t[t.find(':').unwrap() + 1..];
        t[..t.find(']').unwrap()].parse().unwrap()
    };
    // sample 0 of the testbench folder: its beats (index value eos) and its expected class
    let inputs = std::fs::read_to_string(rtl.join("sim/inputs.txt")).unwrap();
    let mut lines = inputs.lines().skip(1);
    let head: Vec<usize> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    let steps: usize = inputs.split(' ').nth(1).unwrap().parse().unwrap();
    let mut tb = format!(
        "`timescale 1ns / 1ps\nmodule tb_axis;\n    reg clk = 0, aresetn = 0, start = 0, tvalid = 0, tlast = 0;\n    reg [{}:0] tdata = 0;\n    wire tready, mvalid, mlast, done;\n    wire [{}:0] mdata;\n    wire [{}:0] cls;\n    integer k, cyc;\n    reg [{}:0] beats [0:{}];\n    lifb_top_axis dut (.aclk(clk), .aresetn(aresetn), .start(start), .steps(16'd{steps}),\n        .s_axis_tvalid(tvalid), .s_axis_tready(tready), .s_axis_tdata(tdata), .s_axis_tlast(tlast),\n        .m_axis_tvalid(mvalid), .m_axis_tready(1'b1), .m_axis_tdata(mdata), .m_axis_tlast(mlast),\n        .done(done), .class_out(cls));\n    always #5 clk = !clk;\n    initial begin\n",
        sw - 1,
        mw - 1,
        clw - 1,
        sw,
        head[0] - 1
    );
    for k in 0..head[0] {
        let b: Vec<u64> = lines
            .next()
            .unwrap()
            .split(' ')
            .map(|x| x.parse().unwrap())
            .collect();
        let word = (b[2] << sw) | (b[1] << value_shift) | b[0];
        tb.push_str(&format!("        beats[{k}] = {}'d{word};\n", sw + 1));
    }
    tb.push_str(&format!(
        "        repeat (4) @(negedge clk);\n        aresetn = 1;\n        @(negedge clk);\n        start = 1;\n        @(negedge clk);\n        start = 0;\n        k = 0;\n        while (k < {n}) begin\n            tvalid = 1; tdata = beats[k][{s1}:0]; tlast = beats[k][{sw}];\n            #1;\n            if (tready) begin\n                @(posedge clk);\n                k = k + 1;\n            end\n            @(negedge clk);\n        end\n        tvalid = 0;\n    end\n    initial begin\n        for (cyc = 0; cyc < 200000; cyc = cyc + 1) begin\n            @(negedge clk);\n            if (done === 1'b1) begin\n                $display(\"CLASS %0d\", cls);\n                $finish;\n            end\n        end\n        $display(\"TIMEOUT\");\n        $finish;\n    end\nendmodule\n",
        n = head[0],
        s1 = sw - 1,
    ));
    std::fs::write(rtl.join("tb_axis_test.sv"), tb).unwrap();
    let mut args: Vec<String> = vec![
        "-g2012".into(),
        "-o".into(),
        "axis.vvp".into(),
        "-s".into(),
        "tb_axis".into(),
        "tb_axis_test.sv".into(),
    ];
    args.extend(files_f.lines().map(String::from));
    let o = Command::new("iverilog")
        .args(&args)
        .current_dir(&rtl)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new("vvp")
        .args(["-n", "axis.vvp"])
        .current_dir(&rtl)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let expected = std::fs::read_to_string(rtl.join("sim/expected.txt")).unwrap();
    let class = expected
        .lines()
        .find(|l| l.starts_with("0 done "))
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("CLASS {class}\n")),
        "expected class {class} through the AXI4-Stream wrapper, got: {text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
