//! The results study tool on a tiny grid (digits, 2 epochs, 2 seeds, T = 1 and 2, LIF and LIFB;
//! seconds): every cell is trained and measured, a re-run trains nothing, the summary's mean and
//! standard deviation are those of the cell files, the figures are written, two shards run at once
//! share the cells, `--emit` prints the job file that runs the shards, and bad grid files are
//! clear errors (exit 2) that write nothing.

use crate::common::{bin, Scratch};
use serde_json::Value;
use std::path::Path;

/// The tiny grid (8 cells); also run as a Slurm array in tests/commands/slurm.rs.
pub(crate) const TINY: &str = r#"{"data": ["digits"], "arch": ["64-32-10"],
 "neurons": [{"burst": 1, "steps": [1, 2]}, {"burst": 3, "steps": [1, 2]}],
 "seeds": [0, 1],
 "recipe": {"epochs": 2, "qat_epochs": 1, "lr": 0.01, "batch": 128, "weight_bits": 4, "input_bits": 4}}"#;

fn study(args: &[&str]) -> std::process::Output {
    bin().arg("study").args(args).output().unwrap()
}

fn run(grid: &Path, out: &Path) -> std::process::Output {
    run_with(grid, out, &[])
}

/// `study run --grid GRID --out OUT` and `extra`, outside any scheduler's job array (whose
/// variables would pick a shard).
fn run_with(grid: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    run_env(grid, out, extra, &[])
}

fn run_env(grid: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = run_command(grid, out, extra);
    c.envs(env.iter().copied()).output().unwrap()
}

/// The `study run` command, with the scheduler variables that pick a shard removed.
fn run_command(grid: &Path, out: &Path, extra: &[&str]) -> std::process::Command {
    let mut c = bin();
    for v in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"] {
        c.env_remove(v);
    }
    c.args(["study", "run", "--grid", grid.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args(extra);
    c
}

fn cell_files(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(out.join("cells"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn tiny_grid_runs_resumes_and_summarizes() {
    let dir = Scratch::new("study");
    let grid = dir.join("grid.json");
    std::fs::write(&grid, TINY).unwrap();
    let out = dir.join("out");

    // Two shards at once into one directory, as two machines (or array tasks) would: each
    // trains its half of the cells and leaves the report to the merge step.
    let shards: Vec<_> = ["0/2", "1/2"]
        .iter()
        .map(|s| {
            run_command(&grid, &out, &["--shard", s])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (s, child) in ["0/2", "1/2"].iter().zip(shards) {
        let o = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(
            stdout.contains("4 cells trained, 0 already done")
                && stdout.contains(&format!("shard {s} done")),
            "{stdout}"
        );
    }
    assert!(
        !out.join("results.json").exists(),
        "a shard does not report"
    );
    let cells = cell_files(&out);
    assert_eq!(cells.len(), 8);
    // The unsharded run finds every cell done and reports.
    let first = run(&grid, &out);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success());
    assert!(
        stdout.contains("0 cells trained, 8 already done"),
        "{stdout}"
    );
    assert_eq!(cells.len(), 8);
    assert!(
        !out.join("models").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".ckpt.safetensors")),
        "finished cells leave no checkpoint behind"
    );

    // Resume: nothing is trained again and no result changes.
    let second = run(&grid, &out);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success());
    assert!(
        stdout.contains("0 cells trained, 8 already done"),
        "{stdout}"
    );
    assert_eq!(cell_files(&out), cells);

    // The summary: one group per (neuron, T) with both seeds; mean and sample std recomputed
    // from the cell files.
    let results: Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    let groups = results["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4);
    for g in groups {
        let (b, t) = (g["burst"].as_u64().unwrap(), g["steps"].as_u64().unwrap());
        assert_eq!(g["seeds"], serde_json::json!([0, 1]));
        let accs: Vec<f64> = cells
            .iter()
            .map(|(_, bytes)| serde_json::from_slice::<Value>(bytes).unwrap())
            .filter(|c| c["cell"]["burst"] == b && c["cell"]["steps"] == t)
            .map(|c| 100.0 * c["integer_accuracy"].as_f64().unwrap())
            .collect();
        assert_eq!(accs.len(), 2);
        let mean = (accs[0] + accs[1]) / 2.0;
        let std = (accs[0] - accs[1]).abs() / 2f64.sqrt();
        let s = &g["integer_accuracy"];
        assert!((s["mean"].as_f64().unwrap() - mean).abs() < 1e-9, "{g}");
        assert!((s["std"].as_f64().unwrap() - std).abs() < 1e-9, "{g}");
        // The decoupled model is spike-exact with the integer model in every cell.
        assert_eq!(g["decoupled_counts_mismatched"], 0);
        assert!(g["decoupled_counts_compared"].as_u64().unwrap() > 0);
        assert!(g["cycles"]["mean"].as_f64().unwrap() > 0.0);
        assert!(g["synaptic_ops"]["mean"].as_f64().unwrap() > 0.0);
    }
    // LIFB against LIF at each T: the gain is the difference of the groups' means.
    let comps = results["comparisons"].as_array().unwrap();
    assert_eq!(comps.len(), 2);
    for c in comps {
        let mean = |b: u64| {
            groups
                .iter()
                .find(|g| g["burst"] == b && g["steps"] == c["steps"])
                .unwrap()["integer_accuracy"]["mean"]
                .as_f64()
                .unwrap()
        };
        let gain = c["integer_gain"].as_f64().unwrap();
        assert!((gain - (mean(3) - mean(1))).abs() < 1e-9, "{c}");
        // Two seeds a side: a standard error is given.
        assert!(c["integer_gain_se"].as_f64().unwrap() >= 0.0, "{c}");
    }
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("LIFB against LIF at the same T"), "{md}");
    let (groups_md, comps_md) = md.split_once("LIFB against LIF").unwrap();
    let rows = |t: &str| t.lines().filter(|l| l.starts_with("| digits ")).count();
    assert_eq!((rows(groups_md), rows(comps_md)), (4, 2), "{md}");
    for fig in ["acc-vs-T", "acc-vs-cycles"] {
        let svg = std::fs::read_to_string(out.join(format!("{fig}_digits_64-32-10.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        // One error bar per group, one marker per group, two neurons in the legend.
        assert!(svg.matches("<line class=\"err\" x1").count() >= 4);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("LIF B=1") && svg.contains("LIFB B=3"));
    }
    // `study report` alone regenerates the same files.
    let before = std::fs::read(out.join("results.json")).unwrap();
    let rep = study(&["report", "--out", out.to_str().unwrap()]);
    assert!(rep.status.success());
    assert_eq!(std::fs::read(out.join("results.json")).unwrap(), before);

    // Another recipe in the same directory is refused, not mixed in.
    std::fs::write(&grid, TINY.replace("\"epochs\": 2", "\"epochs\": 3")).unwrap();
    let other = run(&grid, &out);
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("another recipe"));
    // ... also for a grid whose cells are all new (a shard started with another grid file).
    let new_seed = TINY
        .replace("\"epochs\": 2", "\"epochs\": 3")
        .replace("[0, 1]", "[7]");
    std::fs::write(&grid, new_seed).unwrap();
    let other = run(&grid, &out);
    assert_eq!(other.status.code(), Some(2));
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("recipe.json") && err.contains("another recipe"),
        "{err}"
    );
    assert_eq!(cell_files(&out).len(), 8, "nothing was trained");
    // A folder from before recipe.json existed: its finished cells are checked instead.
    std::fs::remove_file(out.join("recipe.json")).unwrap();
    let other = run(&grid, &out);
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("another recipe"));
    assert!(!out.join("recipe.json").exists());
    assert_eq!(cell_files(&out).len(), 8, "nothing was trained");
}

#[test]
fn a_study_that_trained_nothing_takes_another_recipe() {
    let dir = Scratch::new("study-first");
    let (grid, out) = (dir.join("grid.json"), dir.join("out"));
    // A first run that stops before any cell is trained (no MNIST in this folder) ...
    let mnist = TINY
        .replace("\"digits\"", "\"mnist\"")
        .replace("64-32-10", "784-16-10");
    std::fs::write(&grid, mnist).unwrap();
    let o = run_with(
        &grid,
        &out,
        &["--data-dir", dir.join("none").to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        out.join("recipe.json").exists(),
        "the first run got as far as the recipe"
    );
    // ... commits the folder to nothing: a grid with another recipe runs there.
    std::fs::write(&grid, TINY.replace("\"epochs\": 2", "\"epochs\": 3")).unwrap();
    let o = run(&grid, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(cell_files(&out).len(), 8);
}

#[test]
fn bad_grid_files_are_clear_errors() {
    let dir = Scratch::new("study-bad");
    let cases: &[(&str, &str)] = &[
        (r#"{"data": ["digits"]}"#, "missing field"),
        (&TINY.replace("\"seeds\"", "\"seed\""), "unknown field"),
        (&TINY.replace("[0, 1]", "[]"), "\"seeds\" is empty"),
        (&TINY.replace("[0, 1]", "[1, 1]"), "lists 1 twice"),
        (
            &TINY.replace("\"digits\"", "\"cifar\""),
            "not one of digits",
        ),
        (
            &TINY.replace("64-32-10", "784-256-10"),
            "does not fit data set digits",
        ),
        (
            &TINY.replace("\"qat_epochs\": 1", "\"qat_epochs\": 5"),
            "exceeds",
        ),
        (
            &TINY.replace("\"burst\": 3", "\"burst\": 0"),
            "outside 1..=64",
        ),
        (&TINY.replace("[1, 2]}, {", "[0]}, {"), "outside 1..=256"),
        ("not json", "grid file"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let grid = dir.join(format!("grid{i}.json"));
        std::fs::write(&grid, text).unwrap();
        let out = dir.join(format!("out{i}"));
        let o = run(&grid, &out);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "case {i}: {err}");
        assert!(
            err.contains("grid file") && err.contains(want),
            "case {i}: {err}"
        );
        assert!(!out.exists(), "case {i}: a bad grid writes nothing");
    }
    for (shard, want) in [("2/2", "not below"), ("x", "I/N")] {
        let good = dir.join("good.json");
        std::fs::write(&good, TINY).unwrap();
        let o = run_with(&good, &dir.join("out"), &["--shard", shard]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("--shard") && err.contains(want), "{err}");
        assert!(!dir.join("out").exists());
    }
    // The shard from a Slurm array's variables is checked the same way.
    let good = dir.join("good.json");
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "5"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
    ];
    let o = run_env(&good, &dir.join("out"), &[], &slurm);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("Slurm") && err.contains("not below"), "{err}");
    assert!(!dir.join("out").exists());
    // --shard has no meaning with --emit (each task finds its own).
    let o = run_with(
        &good,
        &dir.join("out"),
        &["--emit", "slurm", "--shard", "0/2"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--shard"));
    let o = run(&dir.join("missing.json"), &dir.join("out"));
    assert_eq!(o.status.code(), Some(2));
    let o = study(&["report", "--out", dir.join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("study run"));
}

#[test]
fn emitted_job_runs_every_shard_then_reports() {
    let dir = Scratch::new("study-emit");
    let grid = dir.join("grid.json");
    std::fs::write(&grid, TINY).unwrap();
    let out = dir.join("out dir");
    let o = run_with(&grid, &out, &["--emit", "slurm", "--shards", "3"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = String::from_utf8_lossy(&o.stdout);
    assert!(script.contains("--array=0-2"), "{script}");
    // The out folder has a space: quoted for the shell that runs the script.
    let quoted = format!("'{}'", out.display());
    let shard_line = format!(
        "exec lifb-hdl study run --grid {} --out {quoted} --data-dir data\n",
        grid.display()
    );
    assert!(script.contains(&shard_line), "{script}");
    assert!(
        script.contains(&format!("lifb-hdl study report --out {quoted}")),
        "{script}"
    );
    assert!(!out.exists(), "--emit trains nothing");
    // A bad grid fails before any job file is printed.
    std::fs::write(&grid, "not json").unwrap();
    let o = run_with(&grid, &out, &["--emit", "k8s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}
