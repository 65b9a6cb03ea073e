//! Sharded runs (docs/scale-out.md): a sweep planned, run in four shards and merged equals the
//! one-shot sweep; the result cache makes a re-run read every point and redoes a corrupt entry;
//! a verification campaign split into shards adds up to the unsharded campaign, and a case's
//! reproducer replays with `lifb-hdl cosim`.

use crate::common::{
    bin, campaign_totals as totals, have_tool, lifb, ok, sweep_rows, Scratch, ROOT,
};
use std::path::Path;

const MODEL: &str = "examples/digits-lifb.json";
/// Two forms x three lane settings; "all" and "64,64" both give one lane per neuron (32, 10), so
/// the merge must mark the second as the same design, whichever shard measured it.
const SWEEP: &[&str] = &[
    "--model",
    MODEL,
    "--no-synth",
    "--forms",
    "native,decoupled",
    "--lanes",
    "4,4;all;64,64",
    "--cosim-images",
    "3",
];

#[test]
fn sharded_sweep_merges_to_the_one_shot_sweep_and_reruns_from_the_cache() {
    if !have_tool("verilator") {
        return;
    }
    let dir = Scratch::new("scale_sweep");
    let one = dir.join("one-shot");
    let sharded = dir.join("sharded");
    let cache = dir.join("cache");
    let plan = dir.join("plan.json");
    let s = |p: &Path| p.display().to_string();

    let mut args = vec!["sweep"];
    args.extend_from_slice(SWEEP);
    let one_s = s(&one);
    args.extend(["--out", &one_s]);
    ok(&lifb(&args));

    let mut args = vec!["sweep", "plan"];
    args.extend_from_slice(SWEEP);
    let (sharded_s, plan_s, cache_s) = (s(&sharded), s(&plan), s(&cache));
    args.extend(["--out", &sharded_s, "-o", &plan_s]);
    let said = ok(&lifb(&args));
    assert!(said.contains("6 points"), "{said}");
    let plan_bytes = std::fs::read(&plan).unwrap();
    // planning is deterministic
    ok(&lifb(&args));
    assert_eq!(std::fs::read(&plan).unwrap(), plan_bytes);

    // merging before every shard ran names what is missing
    let run = |shard: &str| {
        lifb(&[
            "sweep", "run", "--plan", &plan_s, "--shard", shard, "--cache", &cache_s,
        ])
    };
    ok(&run("0/4"));
    let early = lifb(&["sweep", "merge", "--plan", &plan_s]);
    assert_eq!(early.status.code(), Some(2));
    let err = String::from_utf8_lossy(&early.stderr);
    assert!(err.contains("4 of 6 points have no result"), "{err}");
    for shard in ["1/4", "2/4", "3/4"] {
        ok(&run(shard));
    }
    let merged = ok(&lifb(&["sweep", "merge", "--plan", &plan_s]));
    assert!(merged.contains("merged 4 shard result(s)"), "{merged}");
    assert_eq!(
        sweep_rows(&sharded),
        sweep_rows(&one),
        "sharded != one-shot"
    );
    let rows = sweep_rows(&sharded);
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[2]["same_design_as"], "native-all", "{}", rows[2]);
    assert_eq!(rows[5]["same_design_as"], "decoupled-all", "{}", rows[5]);
    assert!(rows.iter().all(|r| r["spike_exact"] == true));
    let table_one = std::fs::read_to_string(one.join("sweep.html")).unwrap();
    let table_sharded = std::fs::read_to_string(sharded.join("sweep.html")).unwrap();
    assert_eq!(
        table_one.replace(&one_s, "OUT"),
        table_sharded.replace(&sharded_s, "OUT"),
        "the pages differ"
    );

    // a re-run reads every point of its shard from the cache
    let again = ok(&run("1/2"));
    assert!(
        again.contains("3 points (3 from the result cache"),
        "{again}"
    );
    // a damaged entry is detected, removed and redone
    let entries: Vec<_> = walk(&cache);
    assert_eq!(
        entries.len(),
        4,
        "one entry per distinct design: {entries:?}"
    );
    for e in &entries {
        let mut b = std::fs::read(e).unwrap();
        b.truncate(b.len() - 5);
        std::fs::write(e, b).unwrap();
    }
    let redo = run("0/1");
    let redo_out = ok(&redo);
    assert!(
        redo_out.contains("6 points (0 from the result cache, 4 corrupt entries redone)"),
        "{redo_out}"
    );
    let again = ok(&run("0/1"));
    assert!(
        again.contains("6 points (6 from the result cache"),
        "{again}"
    );
    ok(&lifb(&["sweep", "merge", "--plan", &plan_s]));
    assert_eq!(sweep_rows(&sharded), sweep_rows(&one));

    // a plan whose model changed is refused
    let edited = dir.join("edited-plan.json");
    let text = String::from_utf8(plan_bytes)
        .unwrap()
        .replace("\"model_sha256\": \"", "\"model_sha256\": \"0");
    std::fs::write(&edited, text).unwrap();
    let refused = lifb(&["sweep", "run", "--plan", &s(&edited), "--no-cache"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("changed since the plan was made"));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn job_files_for_slurm_and_kubernetes() {
    let dir = Scratch::new("scale_emit");
    let plan = dir.join("plan.json");
    let plan_s = plan.display().to_string();
    let mut args = vec!["sweep", "plan"];
    args.extend_from_slice(SWEEP);
    args.extend(["-o", &plan_s, "--emit", "slurm", "--shards", "3"]);
    let script = ok(&lifb(&args));
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    assert!(script.contains("#SBATCH --array=0-2\n"), "{script}");
    assert!(script.contains(&format!("exec lifb-hdl sweep run --plan {plan_s}\n")));
    assert!(plan.is_file());
    let k8s = ok(&lifb(&[
        "verify",
        "--random-networks",
        "100",
        "--seed",
        "3",
        "--emit",
        "k8s",
        "--shards",
        "5",
    ]));
    for want in [
        "completionMode: Indexed",
        "completions: 5",
        "\"--random-networks\", \"100\", \"--seed\", \"3\"",
        "value: \"5\"",
    ] {
        assert!(k8s.contains(want), "{want} not in\n{k8s}");
    }
}

#[test]
fn sharded_campaign_adds_up_to_the_unsharded_one() {
    if !have_tool("iverilog") {
        return;
    }
    let dir = Scratch::new("scale_verify");
    let whole = dir.join("whole").display().to_string();
    let parts = dir.join("parts").display().to_string();
    let campaign = |out: &str, shard: &str| {
        lifb(&[
            "verify",
            "--random-networks",
            "9",
            "--seed",
            "11",
            "--out",
            out,
            "--shard",
            shard,
        ])
    };
    ok(&campaign(&whole, "0/1"));
    for shard in ["0/3", "1/3", "2/3"] {
        let o = ok(&campaign(&parts, shard));
        assert!(o.contains(&format!("shard {shard}: 3 networks")), "{o}");
    }
    let a = ok(&lifb(&["verify", "merge", "--out", &whole]));
    let b = ok(&lifb(&["verify", "merge", "--out", &parts]));
    assert!(b.contains("3 shards"), "{b}");
    assert!(a.contains("networks 9 ("), "{a}");
    assert!(a.contains("divergences 0, tool errors 0"), "{a}");
    assert_eq!(totals(&a), totals(&b));
    // a missing shard is named
    std::fs::remove_file(dir.join("parts/shards/shard-0001-of-0003.json")).unwrap();
    let m = lifb(&["verify", "merge", "--out", &parts]);
    assert_eq!(m.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&m.stderr).contains("shards 1/3 have not finished"));
}

#[test]
fn a_reproducer_replays_its_case_with_cosim() {
    use lifb_hdl::cosim::Simulator;
    use lifb_hdl::verify::campaign;
    if !have_tool("iverilog") {
        return;
    }
    let dir = Scratch::new("scale_reproducer");
    // a case with a readout, stalls and a small FIFO, so the replay exercises every option
    let k = (0..200)
        .map(|i| campaign::case(4, i))
        .find(|k| k.fifo_depth.is_some() && k.stimulus.stall_prob > 0.0 && k.inputs.len() > 2)
        .expect("such a case");
    campaign::write_reproducer(&k, Simulator::Icarus, &dir).unwrap();
    let args = campaign::replay_args(&k, Simulator::Icarus);
    let o = bin()
        .current_dir(&dir)
        .env(
            "LIFB_COSIM_CACHE",
            Path::new(ROOT).join("target").join("lifb-cosim"),
        )
        .args(&args)
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(
        out.contains(&format!(
            "co-simulation OK: {} samples x {} steps",
            k.inputs.len(),
            k.steps
        )),
        "{out}"
    );
    let stimulus = format!("seed {}, out_ready stalls", k.stimulus.seed);
    assert!(
        out.contains(&stimulus),
        "the replay uses the case's stimulus: {out}"
    );
    let script = std::fs::read_to_string(dir.join("replay.sh")).unwrap();
    assert!(script.contains("exec lifb-hdl cosim --model model.json --inputs inputs.json"));
}

#[test]
fn the_plan_carries_the_input_choice() {
    let dir = Scratch::new("scale_plan_inputs");
    let plan = dir.join("plan.json");
    let plan_s = plan.display().to_string();
    let o = lifb(&[
        "sweep",
        "plan",
        "--model",
        MODEL,
        "--no-synth",
        "--forms",
        "native",
        "--lanes",
        "4,4",
        "--random",
        "5",
        "--seed",
        "7",
        "--cosim-images",
        "3",
        "-o",
        &plan_s,
    ]);
    let said = ok(&o);
    assert!(said.contains("1 points"), "{said}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(
        v["sweep"]["inputs"],
        serde_json::json!({"random": {"n": 5, "seed": 7}}),
        "{v}"
    );
    assert_eq!(v["sweep"]["cosim_images"], 3);
    // another seed gives other inputs: another plan
    let other = dir.join("other.json");
    let other_s = other.display().to_string();
    ok(&lifb(&[
        "sweep",
        "plan",
        "--model",
        MODEL,
        "--no-synth",
        "--forms",
        "native",
        "--lanes",
        "4,4",
        "--random",
        "5",
        "--seed",
        "8",
        "--cosim-images",
        "3",
        "-o",
        &other_s,
    ]));
    let w: serde_json::Value = serde_json::from_slice(&std::fs::read(&other).unwrap()).unwrap();
    assert_ne!(v["inputs_sha256"], w["inputs_sha256"]);
    assert_eq!(v["model_sha256"], w["model_sha256"]);
}
