//! The command line end to end: exit codes (0 ok, 2 bad input), messages on stderr, no partial
//! files left behind.

use crate::common;

use crate::common::{bin, Scratch};
use lifb_hdl::format;
use lifb_hdl::golden::Trace;
use lifb_hdl::inputs::InputSet;
use lifb_hdl::ir::random::{random_network, RandomSpec};
use lifb_hdl::ir::{Layer, Leak, Network};
use std::path::Path;
use std::process::Output;

fn dir(name: &str) -> Scratch {
    Scratch::new(&format!("cli-{name}"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A float model derived from a random integer network.
fn float_model(path: &Path) -> lifb_hdl::ir::FloatNetwork {
    let int = random_network(
        4,
        &RandomSpec {
            current_readout: false,
            max_burst: 4,
            ..RandomSpec::default()
        },
    );
    let f = |v: &Vec<i32>| v.iter().map(|&x| x as f32 / 8.0).collect::<Vec<f32>>();
    let layers = int
        .layers
        .iter()
        .map(|l| match l {
            Layer::Dense(d) => Layer::Dense(lifb_hdl::ir::Dense {
                in_features: d.in_features,
                out_features: d.out_features,
                weight: f(&d.weight),
                bias: d.bias.as_ref().map(f),
            }),
            Layer::Lifb(n) => Layer::Lifb(lifb_hdl::ir::Lifb {
                leak: Leak::Lambda { lam: 0.875 },
                threshold: f(&n.threshold),
                spacing: f(&n.spacing),
                max_burst: n.max_burst,
                reset: lifb_hdl::ir::Reset::Subtract,
            }),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let net = Network {
        name: int.name.clone(),
        input: int.input.clone(),
        layers,
        fixed: None,
        meta: int.meta.clone(),
    };
    format::save(&net, path).unwrap();
    net
}

#[test]
fn pipeline_quantize_decouple_simulate() {
    let d = dir("pipe");
    let fm = d.join("float.json");
    let net = float_model(&fm);
    let im = d.join("int.json");
    let dm = d.join("lif.json");
    let inputs = d.join("inputs.json");
    let n = net.input.shape.len();
    let set = InputSet {
        samples: (0..5)
            .map(|s| {
                (0..n)
                    .map(|i| ((i * 7 + s * 3) % 11) as f32 / 10.0)
                    .collect()
            })
            .collect(),
        labels: Some(vec![0, 1, 0, 1, 0]),
    };
    set.write(&inputs).unwrap();

    let o = run(&["inspect", fm.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("parameters"), "{table}");
    // Words, not Rust debug text.
    for debug in ["Lambda {", "Fixed {", "Subtract", "Direct"] {
        assert!(!table.contains(debug), "{debug} in {table}");
    }

    let o = run(&[
        "quantize",
        "--model",
        fm.to_str().unwrap(),
        "-o",
        im.to_str().unwrap(),
        "--weight-bits",
        "6",
        "--calibration",
        inputs.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("same predicted class"));
    assert!(format::load_integer(&im).is_ok());

    let o = run(&[
        "decouple",
        "--model",
        im.to_str().unwrap(),
        "-o",
        dm.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 of"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    for model in [&fm, &im, &dm] {
        let tr = d.join("trace.json");
        let o = run(&[
            "simulate",
            model.to_str().unwrap(),
            "--input",
            inputs.to_str().unwrap(),
            "--steps",
            "3",
            "-o",
            tr.to_str().unwrap(),
            "--membranes",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let t = Trace::read(&tr).unwrap();
        assert_eq!(t.samples.len(), 5);
        assert!(t
            .samples
            .iter()
            .all(|s| s.layers.iter().all(|l| l.counts.len() == 3)));
    }
}

#[test]
fn bad_inputs_exit_2_with_a_message() {
    let d = dir("bad");
    let fm = d.join("float.json");
    float_model(&fm);
    let missing = d.join("nope.json");
    // missing model
    let o = run(&["inspect", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.json"), "{}", stderr(&o));
    // garbage model
    std::fs::write(&missing, b"{not json").unwrap();
    let o = run(&["inspect", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a valid lifb-hdl model manifest"),
        "{}",
        stderr(&o)
    );
    // wrong input width: no trace file left behind
    let inputs = d.join("inputs.json");
    std::fs::write(&inputs, br#"{"samples": [[0.5]]}"#).unwrap();
    let tr = d.join("trace.json");
    let o = run(&[
        "simulate",
        fm.to_str().unwrap(),
        "--input",
        inputs.to_str().unwrap(),
        "-o",
        tr.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("sample 0 has 1 values"),
        "{}",
        stderr(&o)
    );
    assert!(!tr.exists());
    // out-of-range option
    let o = run(&[
        "quantize",
        "--model",
        fm.to_str().unwrap(),
        "-o",
        d.join("q.json").to_str().unwrap(),
        "--weight-bits",
        "40",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--weight-bits"));
    assert!(!d.join("q.json").exists());
    // a float model where an integer one is needed
    let o = run(&[
        "decouple",
        "--model",
        fm.to_str().unwrap(),
        "-o",
        d.join("x.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("quantize it first"));
}

#[test]
fn inspect_summarises_the_training_meta_on_short_lines() {
    let o = run(&["inspect", "examples/mnist-lifb.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    let history = table
        .lines()
        .find(|l| l.starts_with("meta train_history:"))
        .expect("a train_history line");
    assert!(history.contains("15 entries, last: epoch=15"), "{history}");
    assert!(table.lines().all(|l| l.chars().count() < 160), "{table}");
}

#[test]
fn generate_quantizes_a_float_model_with_the_widths_it_was_trained_for() {
    let d = dir("float-generate");
    let q = d.join("q.json");
    // quantize with no width options takes the recorded widths (4-bit for the MNIST example)
    let o = run(&[
        "quantize",
        "--model",
        "examples/mnist-lifb.json",
        "-o",
        q.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let int = format::load_integer(&q).unwrap();
    assert_eq!(int.fixed.as_ref().unwrap().weight_bits, 4);
    // generate on the float model makes the same RTL as generate on that integer model, and says
    // that it quantized
    let (a, b) = (d.join("from-float"), d.join("from-int"));
    let o = run(&[
        "generate",
        "--model",
        "examples/mnist-lifb.json",
        "--out",
        a.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("quantized on the fly to 4-bit weights"));
    let o = run(&[
        "generate",
        "--model",
        q.to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() > 10);
    for n in names {
        let (x, y) = (a.join(&n), b.join(&n));
        if x.is_file() {
            assert_eq!(
                std::fs::read(&x).unwrap(),
                std::fs::read(&y).unwrap(),
                "{n:?} differs"
            );
        }
    }
    std::fs::remove_dir_all(&d).ok();
}

/// The commands of the README's "Step by step" block (the lines that start with `lifb-hdl`), split
/// into arguments (single quotes group, a `#` after a blank starts a comment).
fn readme_steps() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block = readme
        .split("## Step by step")
        .nth(1)
        .and_then(|s| s.split("```sh").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("README has a 'Step by step' sh block");
    let mut steps = Vec::new();
    for line in block.lines() {
        let line = line.split(" #").next().unwrap().trim();
        let Some(rest) = line.strip_prefix("lifb-hdl ") else {
            continue;
        };
        let mut args = Vec::new();
        let mut quoted = false;
        let mut cur = String::new();
        for ch in rest.chars() {
            match ch {
                '\'' => quoted = !quoted,
                c if c.is_whitespace() && !quoted => {
                    if !cur.is_empty() {
                        args.push(std::mem::take(&mut cur));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            args.push(cur);
        }
        steps.push(args);
    }
    steps
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

#[test]
fn the_readme_step_by_step_commands_run_as_written() {
    let steps = readme_steps();
    assert!(
        steps.len() >= 10,
        "found only {} README commands",
        steps.len()
    );
    let d = common::Scratch::new("readme-steps");
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        d.join("examples"),
    )
    .unwrap();
    for args in steps {
        let cmd = args[0].as_str();
        let mut args = args.clone();
        match cmd {
            "cosim" | "mutate" if args.iter().any(|a| a == "icarus") && !on_path("iverilog") => {
                common::skip("README Icarus step", "iverilog is not installed");
                continue;
            }
            "cosim" | "mutate" if !args.iter().any(|a| a == "icarus") && !on_path("verilator") => {
                common::skip("README cosim step", "verilator is not installed");
                continue;
            }
            "synth" | "sweep" if !on_path("yosys") => {
                common::skip("README synthesis step", "yosys is not installed");
                continue;
            }
            // the sweep's synthesis runs are covered by tests/commands/sweep_cli.rs; here the sweep's
            // arguments and its co-simulated variants
            "sweep" => args.extend(["--no-synth".into(), "--cosim-images".into(), "2".into()]),
            "bench" => args.extend(["--images".into(), "200".into()]),
            _ => {}
        }
        let o = bin().args(&args).current_dir(&d).output().unwrap();
        assert!(
            o.status.success(),
            "README step 'lifb-hdl {}' failed ({:?}): {}",
            args.join(" "),
            o.status.code(),
            stderr(&o)
        );
    }
    std::fs::remove_dir_all(&d).ok();
}
