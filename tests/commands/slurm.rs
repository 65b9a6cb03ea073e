//! On a real Slurm (a single-node cluster started by scripts/setup-slurm.sh): the job files that
//! `sweep plan --emit slurm`, `verify --emit slurm` and `study run --emit slurm` print are
//! submitted as 4-task job arrays, each task finds its shard in Slurm's environment, and the
//! merged results equal the unsharded runs. Skipped with a message when no Slurm answers, unless LIFB_REQUIRE_SLURM=1 (then a
//! failure).

use crate::common::{
    campaign_totals, have_tool, lifb, ok, skip_unless_required, sweep_rows, Scratch, ROOT,
};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The whole test (the three arrays) must finish within this; a stuck job is cancelled.
const TIMEOUT: Duration = Duration::from_secs(240);

/// Why Slurm cannot run jobs here, if it cannot.
fn slurm_problem() -> Option<String> {
    let o = match Command::new("sinfo").args(["-h", "-o", "%T"]).output() {
        Ok(o) => o,
        Err(e) => return Some(format!("sinfo does not run ({e})")),
    };
    let states = String::from_utf8_lossy(&o.stdout).into_owned();
    let ready = states
        .lines()
        .any(|s| matches!(s.trim(), "idle" | "mixed" | "allocated"));
    (!o.status.success() || !ready).then(|| {
        format!(
            "no Slurm node is up (sinfo: {}{})",
            states.trim(),
            String::from_utf8_lossy(&o.stderr).trim()
        )
    })
}

/// Submit a job file; returns the job id.
fn submit(script: &Path, logs: &Path) -> String {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_lifb-hdl")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cache = Path::new(ROOT).join("target").join("lifb-cosim");
    let o = Command::new("sbatch")
        .arg("--parsable")
        .arg(format!("--chdir={ROOT}"))
        .arg(format!("--output={}/%x-%A_%a.out", logs.display()))
        .arg("--time=5")
        .env("PATH", path)
        .env("LIFB_COSIM_CACHE", cache)
        .arg(script)
        .output()
        .unwrap();
    let id = ok(&o).trim().to_string();
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "sbatch said {id:?}"
    );
    id
}

/// Wait until the jobs have left the queue; cancel them and fail after [`TIMEOUT`].
fn wait(jobs: &[String], logs: &Path, start: Instant) {
    let list = jobs.join(",");
    loop {
        let o = Command::new("squeue")
            .args(["-h", "-j", &list, "-o", "%i %T"])
            .output()
            .unwrap();
        let q = String::from_utf8_lossy(&o.stdout).into_owned();
        if o.status.success() && q.trim().is_empty() {
            return;
        }
        if start.elapsed() > TIMEOUT {
            let _ = Command::new("scancel").args(jobs).status();
            panic!(
                "the Slurm jobs did not finish within {} s (queue: {q}); logs:\n{}",
                TIMEOUT.as_secs(),
                read_logs(logs)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn read_logs(logs: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            format!(
                "--- {}\n{}",
                p.display(),
                std::fs::read_to_string(p).unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn four_shard_arrays_on_slurm_equal_the_unsharded_runs() {
    if let Some(why) = slurm_problem() {
        let setup = "scripts/setup-slurm.sh as root";
        skip_unless_required("LIFB_REQUIRE_SLURM", "slurm", &why, setup);
        return;
    }
    if !have_tool("verilator") || !have_tool("iverilog") {
        return;
    }
    let dir = Scratch::new("slurm");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let s = |p: &Path| p.display().to_string();
    let model = Path::new(ROOT).join("examples/digits-lifb.json");
    let model_s = s(&model);
    let sweep = [
        "--model",
        model_s.as_str(),
        "--no-synth",
        "--forms",
        "native,decoupled",
        "--lanes",
        "4,4;all",
        "--cosim-images",
        "3",
    ];
    let (one, sharded, plan) = (dir.join("one"), dir.join("sharded"), dir.join("plan.json"));
    let (one_s, sharded_s, plan_s) = (s(&one), s(&sharded), s(&plan));
    let campaign = ["--random-networks", "16", "--seed", "9"];
    let (v_one, v_sharded) = (s(&dir.join("verify-one")), s(&dir.join("verify-sharded")));

    // The unsharded runs (they also fill the Verilator build cache the tasks read).
    let mut a = vec!["sweep"];
    a.extend_from_slice(&sweep);
    a.extend(["--out", &one_s]);
    ok(&lifb(&a));
    let mut a = vec!["verify"];
    a.extend_from_slice(&campaign);
    a.extend(["--out", &v_one]);
    ok(&lifb(&a));

    // The job files, as a user would make them.
    let mut a = vec!["sweep", "plan"];
    a.extend_from_slice(&sweep);
    a.extend([
        "--out", &sharded_s, "-o", &plan_s, "--emit", "slurm", "--shards", "4",
    ]);
    let sweep_job = dir.join("sweep.sbatch");
    std::fs::write(&sweep_job, ok(&lifb(&a))).unwrap();
    let mut a = vec!["verify"];
    a.extend_from_slice(&campaign);
    a.extend(["--out", &v_sharded, "--emit", "slurm", "--shards", "4"]);
    let verify_job = dir.join("verify.sbatch");
    std::fs::write(&verify_job, ok(&lifb(&a))).unwrap();

    // The results study on the tiny grid (8 trainings of seconds each).
    let grid = dir.join("grid.json");
    std::fs::write(&grid, crate::study::TINY).unwrap();
    let (grid_s, st_one, st_sharded) = (s(&grid), dir.join("study-one"), dir.join("study-sharded"));
    let (st_one_s, st_sharded_s) = (s(&st_one), s(&st_sharded));
    ok(&lifb(&[
        "study", "run", "--grid", &grid_s, "--out", &st_one_s,
    ]));
    let study_args = ["study", "run", "--grid", &grid_s, "--out", &st_sharded_s];
    let mut a = study_args.to_vec();
    a.extend(["--emit", "slurm", "--shards", "4"]);
    let study_job = dir.join("study.sbatch");
    std::fs::write(&study_job, ok(&lifb(&a))).unwrap();

    let start = Instant::now();
    let jobs = [
        submit(&sweep_job, &logs),
        submit(&verify_job, &logs),
        submit(&study_job, &logs),
    ];
    wait(&jobs, &logs, start);
    eprintln!(
        "slurm: the three 4-task arrays finished in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let log_text = read_logs(&logs);
    for k in 0..4 {
        let shard = format!("shard {k}/4");
        assert!(
            log_text.matches(&shard).count() >= 3,
            "{shard} of each array reports: {log_text}"
        );
    }

    let merged = lifb(&["sweep", "merge", "--plan", &plan_s]);
    assert!(
        merged.status.success(),
        "{}\n{log_text}",
        String::from_utf8_lossy(&merged.stderr)
    );
    assert!(String::from_utf8_lossy(&merged.stdout).contains("merged 4 shard result(s)"));
    assert_eq!(
        sweep_rows(&sharded),
        sweep_rows(&one),
        "Slurm sweep != unsharded"
    );

    let a = ok(&lifb(&["verify", "merge", "--out", &v_one]));
    let b = lifb(&["verify", "merge", "--out", &v_sharded]);
    let b_out = String::from_utf8_lossy(&b.stdout);
    assert!(b.status.success(), "{b_out}\n{log_text}");
    assert!(b_out.contains("4 shards"), "{b_out}");
    assert!(a.contains("networks 16 ("), "{a}");
    assert_eq!(campaign_totals(&a), campaign_totals(&b_out));

    // Every cell trained once by some task, with the results of the unsharded study (training
    // is deterministic; only the wall times differ).
    let cells = |d: &Path| -> Vec<serde_json::Value> {
        let mut v: Vec<(String, serde_json::Value)> = std::fs::read_dir(d.join("cells"))
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let mut c: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                for k in ["train_seconds", "measure_seconds"] {
                    c.as_object_mut().unwrap().remove(k);
                }
                (p.file_name().unwrap().to_string_lossy().into_owned(), c)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, c)| c).collect()
    };
    // Each task trained its own two cells, with the shard from Slurm's variables.
    for k in 0..4 {
        let study_shard = format!(", shard {k}/4, results in");
        assert!(log_text.contains(&study_shard), "{study_shard}: {log_text}");
    }
    let trained = log_text
        .matches("study: 2 cells trained, 0 already done")
        .count();
    assert_eq!(trained, 4, "{log_text}");
    let sharded_cells = cells(&st_sharded);
    assert_eq!(sharded_cells.len(), 8, "{log_text}");
    assert_eq!(sharded_cells, cells(&st_one), "Slurm study != unsharded");
    ok(&lifb(&["study", "report", "--out", &st_sharded_s]));
    assert!(st_sharded.join("results.json").exists());
}
