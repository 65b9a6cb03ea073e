//! The file and command-line edges, tried as a careless or hostile user would (issue 10): FIFOs and
//! devices given as input files, outputs that alias inputs, a full disk and a closed pipe on
//! stdout, huge counts, and options that would make a check check nothing. Every case must end
//! quickly with the documented exit code (2: bad input, 1: I/O failure, 0 for a closed pipe),
//! never a panic (101) or an abort (134), and leave the inputs byte-identical with nothing stray.

use crate::common::{example, Scratch};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test; LIFB_HARDENING_BIN runs these cases against another build (to show
/// that they fail on a build without the fixes).
fn bin() -> Command {
    match std::env::var_os("LIFB_HARDENING_BIN") {
        Some(b) => Command::new(b),
        None => Command::new(env!("CARGO_BIN_EXE_lifb-hdl")),
    }
}

/// Exit code, stdout and stderr of a run that must finish within `limit` (killed otherwise,
/// which fails the test: a hang).
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_within(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

fn lifb(args: &[&str]) -> Run {
    let mut c = bin();
    c.args(args);
    run_within(c, Duration::from_secs(30))
}

/// Exit code 2 with a message containing `want`, no panic.
fn expect_bad(r: &Run, want: &str, what: &str) {
    assert_eq!(
        r.code,
        Some(2),
        "{what}: expected exit 2, got {:?}; stderr: {}",
        r.code,
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    assert!(
        r.stderr.to_lowercase().contains(&want.to_lowercase()),
        "{what}: stderr lacks {want:?}: {}",
        r.stderr
    );
}

/// Every file below `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            for (k, v) in snapshot(&p) {
                m.insert(format!("{name}/{k}"), v);
            }
            m.insert(format!("{name}/"), Vec::new());
        } else {
            m.insert(name, std::fs::read(&p).unwrap_or_default());
        }
    }
    m
}

/// A float model (the shipped digits example) and its quantized integer model in `d`.
fn models(d: &Path) -> (PathBuf, PathBuf) {
    let f = d.join("float.json");
    std::fs::copy(example("digits-lifb.json"), &f).unwrap();
    std::fs::copy(
        example("digits-lifb.safetensors"),
        d.join("digits-lifb.safetensors"),
    )
    .unwrap();
    let i = d.join("int.json");
    let r = lifb(&[
        "quantize",
        "--model",
        f.to_str().unwrap(),
        "-o",
        i.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    (f, i)
}

fn inputs_file(d: &Path, n_inputs: usize, samples: usize) -> PathBuf {
    let p = d.join("inputs.json");
    let s: Vec<Vec<f32>> = (0..samples)
        .map(|s| (0..n_inputs).map(|i| ((i + s) % 5) as f32 / 4.0).collect())
        .collect();
    std::fs::write(&p, serde_json::json!({ "samples": s }).to_string()).unwrap();
    p
}

fn mkfifo(p: &Path) -> bool {
    Command::new("mkfifo")
        .arg(p)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn fifos_devices_and_directories_as_input_files_are_refused_without_hanging() {
    let d = Scratch::new("hardening-fifo");
    let (_, int) = models(&d);
    let fifo = d.join("pipe.json");
    if !mkfifo(&fifo) {
        eprintln!("SKIP: mkfifo is not available");
        return;
    }
    let f = fifo.to_str().unwrap();
    let m = int.to_str().unwrap();
    // model, input set, NIR file, state-dict weights and architecture
    expect_bad(&lifb(&["inspect", f]), "FIFO", "FIFO as model");
    expect_bad(
        &lifb(&["simulate", m, "--input", f, "--steps", "2"]),
        "FIFO",
        "FIFO as input set",
    );
    let out = d.join("imp.json");
    let o = out.to_str().unwrap();
    expect_bad(
        &lifb(&["import", "--nir", f, "-o", o]),
        "FIFO",
        "FIFO as NIR",
    );
    expect_bad(
        &lifb(&["import", "--safetensors", f, "--arch", f, "-o", o]),
        "FIFO",
        "FIFO as state dict",
    );
    assert!(!out.exists());
    // a model whose tensors file is a FIFO, then a link to /dev/zero, then a directory
    let tensors = d.join("int.safetensors");
    std::fs::remove_file(&tensors).unwrap();
    assert!(mkfifo(&tensors));
    expect_bad(&lifb(&["inspect", m]), "FIFO", "FIFO as tensors file");
    std::fs::remove_file(&tensors).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/dev/zero", &tensors).unwrap();
        expect_bad(
            &lifb(&["inspect", m]),
            "device",
            "/dev/zero as tensors file",
        );
        std::fs::remove_file(&tensors).unwrap();
    }
    std::fs::create_dir(&tensors).unwrap();
    expect_bad(
        &lifb(&["inspect", m]),
        "directory",
        "directory as tensors file",
    );
    expect_bad(
        &lifb(&["inspect", d.to_str().unwrap()]),
        "directory",
        "directory as model",
    );
}

#[test]
fn stdout_on_a_full_disk_fails_with_a_message_and_a_closed_pipe_is_quiet() {
    let d = Scratch::new("hardening-stdout");
    let (f, _) = models(&d);
    let f = f.to_str().unwrap();
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        for args in [vec!["inspect", f, "--json"], vec!["inspect", f]] {
            let mut c = bin();
            c.args(&args);
            let o = c.stdout(full.try_clone().unwrap()).output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{args:?} > /dev/full: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(err.contains("standard output"), "{err}");
        }
    }
    // A reader that goes away before the output is written (`| head -c0`).
    for args in [vec!["inspect", f, "--json"], vec!["inspect", f]] {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?} | closed pipe: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn outputs_never_overwrite_inputs_or_each_other() {
    let d = Scratch::new("hardening-alias");
    let (f, i) = models(&d);
    let inputs = inputs_file(&d, 64, 2);
    std::fs::create_dir(d.join("adir")).unwrap();
    let before = snapshot(&d);
    let (fs, is) = (f.to_str().unwrap(), i.to_str().unwrap());
    let p = |n: &str| d.join(n).to_string_lossy().into_owned();
    let cases: Vec<(Vec<String>, &str)> = vec![
        // decouple onto the input's own tensors file: both models would be lost
        (
            vec![
                "decouple".into(),
                "--model".into(),
                is.into(),
                "-o".into(),
                p("int.safetensors"),
            ],
            "would overwrite",
        ),
        // -o equal to --model, also spelled differently
        (
            vec![
                "decouple".into(),
                "--model".into(),
                is.into(),
                "-o".into(),
                is.into(),
            ],
            "would overwrite",
        ),
        (
            vec![
                "decouple".into(),
                "--model".into(),
                is.into(),
                "-o".into(),
                p("adir/../int.json"),
            ],
            "would overwrite",
        ),
        (
            vec![
                "quantize".into(),
                "--model".into(),
                fs.into(),
                "-o".into(),
                p("digits-lifb.json"),
            ],
            "would overwrite",
        ),
        // a manifest named .safetensors is its own tensors file
        (
            vec![
                "quantize".into(),
                "--model".into(),
                fs.into(),
                "-o".into(),
                p("q.safetensors"),
            ],
            "same file",
        ),
        // onto a directory
        (
            vec![
                "decouple".into(),
                "--model".into(),
                is.into(),
                "-o".into(),
                p("adir"),
            ],
            "directory",
        ),
        // the trace onto the input set or the model
        (
            vec![
                "simulate".into(),
                is.into(),
                "--input".into(),
                inputs.to_string_lossy().into(),
                "-o".into(),
                inputs.to_string_lossy().into(),
            ],
            "would overwrite",
        ),
        (
            vec![
                "simulate".into(),
                is.into(),
                "--input".into(),
                inputs.to_string_lossy().into(),
                "-o".into(),
                p("int.safetensors"),
            ],
            "would overwrite",
        ),
        (
            vec![
                "export".into(),
                "--model".into(),
                is.into(),
                "--nir".into(),
                is.into(),
            ],
            "would overwrite",
        ),
    ];
    for (args, want) in &cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        expect_bad(&lifb(&a), want, &args.join(" "));
        assert_eq!(snapshot(&d), before, "{}: files changed", args.join(" "));
    }
}

#[test]
fn huge_counts_are_refused_quickly() {
    let d = Scratch::new("hardening-huge");
    let (f, i) = models(&d);
    let inputs = inputs_file(&d, 64, 2);
    let (fs, is, ins) = (
        f.to_str().unwrap(),
        i.to_str().unwrap(),
        inputs.to_str().unwrap(),
    );
    let out = d.join("out.json");
    let o = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "quantize",
                "--model",
                fs,
                "-o",
                o,
                "--calibration",
                ins,
                "--steps",
                "1000000000",
            ],
            "--steps",
        ),
        (
            vec![
                "eval",
                "--model",
                fs,
                "--steps",
                "1000000000",
                "--limit",
                "2",
            ],
            "--steps",
        ),
        (
            vec!["decouple", "--model", is, "-o", o, "--steps", "1000000000"],
            "--steps",
        ),
        (
            vec![
                "decouple",
                "--model",
                is,
                "-o",
                o,
                "--check",
                "100000000000",
            ],
            "--check",
        ),
        (
            vec!["bench", "--steps", "1000000000", "--images", "1"],
            "--steps",
        ),
        (
            vec!["bench", "--arch", "100000000-100000000", "--images", "1"],
            "--arch",
        ),
        (vec!["bench", "--images", "1000000000000"], "--images"),
        (
            vec![
                "cosim",
                "--model",
                is,
                "--random",
                "1000000000000",
                "--steps",
                "2",
            ],
            "--random",
        ),
        (
            vec![
                "cosim", "--model", is, "--random", "1", "--steps", "1000000",
            ],
            "--steps",
        ),
        (
            vec!["flow", "--model", fs, "--no-synth", "--steps", "1000000"],
            "--steps",
        ),
        (
            vec![
                "train",
                "--data",
                "digits",
                "-o",
                o,
                "--epochs",
                "1000000000",
            ],
            "--epochs",
        ),
        (
            vec![
                "train",
                "--data",
                "digits",
                "-o",
                o,
                "--batch",
                "100000000000",
            ],
            "--batch",
        ),
    ];
    for (args, want) in &cases {
        let t = Instant::now();
        expect_bad(&lifb(args), want, &args.join(" "));
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{}: slow",
            args.join(" ")
        );
        assert!(!out.exists(), "{}", args.join(" "));
    }
    // A trace with membranes at the maximum steps is estimated before it is built.
    let big = inputs_file(&d, 64, 200);
    let r = lifb(&[
        "simulate",
        is,
        "--input",
        big.to_str().unwrap(),
        "--steps",
        "65536",
        "--membranes",
        "-o",
        o,
    ]);
    expect_bad(&r, "limit", "simulate --membranes at 65536 steps");
    assert!(!out.exists());
}

#[test]
fn checks_that_would_check_nothing_are_refused() {
    let d = Scratch::new("hardening-zero");
    let (f, i) = models(&d);
    let (fs, is) = (f.to_str().unwrap(), i.to_str().unwrap());
    let out = d.join("out.json");
    let o = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["decouple", "--model", is, "-o", o, "--steps", "0"],
            "--steps",
        ),
        (vec!["eval", "--model", fs, "--limit", "0"], "--limit"),
        (vec!["eval", "--model", fs, "--steps", "0"], "--steps"),
        (
            vec!["train", "--data", "digits", "-o", o, "--train-limit", "0"],
            "--train-limit",
        ),
        (
            vec!["train", "--data", "digits", "-o", o, "--epochs", "0"],
            "--epochs",
        ),
        (
            vec!["train", "--data", "digits", "-o", o, "--alpha", "NaN"],
            "--alpha",
        ),
        (
            vec!["train", "--data", "digits", "-o", o, "--lr", "inf"],
            "--lr",
        ),
        (
            vec!["train", "--data", "digits", "-o", o, "--lam=-1"],
            "--lam",
        ),
        (
            vec!["train", "--data", "digits", "-o", o, "--shift", "8"],
            "--shift",
        ),
        (
            vec![
                "train",
                "--data",
                "digits",
                "-o",
                o,
                "--coding",
                "burst",
                "--coding-max",
                "0",
            ],
            "--coding-max",
        ),
        (
            vec!["bench", "--encoding", "burst", "--images", "1"],
            "burst",
        ),
        (
            vec!["bench", "--active", "NaN", "--images", "1"],
            "--active",
        ),
        (
            vec!["flow", "--model", fs, "--no-synth", "--cosim-images", "0"],
            "--cosim-images",
        ),
        (
            vec!["flow", "--model", fs, "--no-synth", "--limit", "0"],
            "--limit",
        ),
        (
            vec!["quantize", "--model", fs, "-o", o, "--steps", "0"],
            "--steps",
        ),
        (
            vec!["export", "--model", fs, "--nir", o, "--dt", "NaN"],
            "--dt",
        ),
    ];
    for (args, want) in &cases {
        expect_bad(&lifb(args), want, &args.join(" "));
        assert!(!out.exists(), "{}", args.join(" "));
    }
}

#[test]
fn messages_name_the_file_once_and_help_links_real_docs() {
    let d = Scratch::new("hardening-msg");
    let missing = d.join("nope-model.json");
    let r = lifb(&["inspect", missing.to_str().unwrap()]);
    expect_bad(&r, "nope-model.json", "missing model");
    assert_eq!(
        r.stderr.matches("nope-model.json").count(),
        1,
        "{}",
        r.stderr
    );
    let r = lifb(&["simulate", "--help"]);
    assert_eq!(r.code, Some(0));
    for doc in r.stdout.split_whitespace().filter(|w| w.contains("docs/")) {
        let doc = doc.trim_matches(|c: char| {
            !(c.is_alphanumeric() || c == '/' || c == '.' || c == '-' || c == '_')
        });
        let doc = doc.trim_end_matches('.');
        let start = doc.find("docs/").unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&doc[start..]);
        assert!(
            path.is_file(),
            "simulate --help links {doc}, which does not exist"
        );
    }
    // A state-dict architecture error names the architecture file, not the weights file.
    let arch = d.join("my-arch.json");
    std::fs::write(
        &arch,
        br#"{"convention": "keras", "input": [64], "layers": []}"#,
    )
    .unwrap();
    let r = lifb(&[
        "import",
        "--safetensors",
        example("digits-lifb.safetensors").to_str().unwrap(),
        "--arch",
        arch.to_str().unwrap(),
        "-o",
        d.join("imp.json").to_str().unwrap(),
    ]);
    expect_bad(&r, "my-arch.json: convention 'keras'", "architecture error");
    // An error found after parsing (a tensor missing) names the manifest.
    let (_, i) = models(&d);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&i).unwrap()).unwrap();
    v["layers"][0]["in_features"] = 63.into();
    std::fs::write(&i, serde_json::to_vec(&v).unwrap()).unwrap();
    let r = lifb(&["inspect", i.to_str().unwrap()]);
    expect_bad(&r, "int.json", "post-parse error names the file");
}

/// A small NIR file declaring twelve 512 MB datasets (no data stored: HDF5 fill values). It must be
/// refused from the declared sizes, before anything is read, in bounded memory (the run gets a
/// 1 GiB address-space limit where `prlimit` exists).
#[test]
fn a_nir_file_declaring_huge_datasets_is_refused_in_bounded_memory() {
    use hdf5_writer::{DatasetBuilder, Hdf5Builder};
    let d = Scratch::new("hardening-nirbomb");
    let mut b = Hdf5Builder::new();
    let s = |name: &str, v: &str| {
        DatasetBuilder::vlen_string_data(name, Vec::<u64>::new(), &[v]).unwrap()
    };
    b = b.dataset(s("version", "0.5.0"));
    b = b.dataset(s("node/type", "NIRGraph"));
    for k in 0..12 {
        b = b.dataset(s(&format!("node/nodes/n{k}/type"), "Affine"));
        // 8192 x 8192 f64 = 512 MiB each, exactly the per-tensor element limit.
        b = b.dataset(
            DatasetBuilder::typed::<f64>(format!("node/nodes/n{k}/weight"), vec![8192u64, 8192])
                .fill_value(0f64.to_le_bytes().to_vec()),
        );
    }
    let bytes = b
        .into_plan()
        .unwrap()
        .encode(hdf5_writer::WriteOptions::default())
        .unwrap();
    assert!(bytes.len() < 64 << 10, "{} bytes", bytes.len());
    let nir = d.join("bomb.nir");
    std::fs::write(&nir, &bytes).unwrap();
    let out = d.join("out.json");
    let exe = std::env::var_os("LIFB_HARDENING_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_lifb-hdl").into());
    let limited = Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut c = if limited {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={}", 1u64 << 30)).arg("--").arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    c.args(["import", "--nir"]).arg(&nir).arg("-o").arg(&out);
    let t = Instant::now();
    let r = run_within(c, Duration::from_secs(30));
    expect_bad(&r, "elements", "NIR file declaring 6 GiB of datasets");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "slow: {:?}",
        t.elapsed()
    );
    assert!(!out.exists());
}
