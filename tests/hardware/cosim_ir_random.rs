//! Random structures from `lifb_hdl::ir::random` (random widths, depths, encodings, readouts):
//! each is its own Verilator build, so the count is small (LIFB_COSIM_STRUCTURES raises it).

use crate::common;

use lifb_hdl::codegen::{Form, Lanes, Options};
use lifb_hdl::cosim::{cosim, CosimOptions, Stimulus};
use lifb_hdl::ir::random::{random_inputs, random_network, RandomSpec};

#[test]
fn random_structures_match_golden() {
    if !common::have_tool("verilator") {
        return;
    }
    let count: u64 = std::env::var("LIFB_COSIM_STRUCTURES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    for seed in 0..count {
        let net = random_network(seed, &RandomSpec::default());
        let inputs = random_inputs(&net, seed, 4, 0.6);
        for (fi, form) in [Form::Native, Form::Decoupled].into_iter().enumerate() {
            let lanes = Lanes::List(vec![1 + (seed as usize + fi) % 5]);
            let units = Lanes::List(vec![1 + (seed as usize) % 3]);
            let opts = CosimOptions {
                steps: 5,
                codegen: Options {
                    lanes,
                    units,
                    form,
                    ..Default::default()
                },
                cache_dir: common::cosim_cache(),
                stimulus: Stimulus::verify(common::stim_seed() ^ seed),
                fifo_depth: Some(4),
                cycle_margin: None,
            };
            let r = cosim(&net, &inputs, &opts)
                .unwrap_or_else(|e| panic!("seed {seed} ({}): {e}", form.name()));
            assert!(
                r.divergence.is_none(),
                "seed {seed} ({} form): {}",
                form.name(),
                r.divergence.unwrap()
            );
        }
    }
}
