//! Random convolutional networks (conv2d, sum pooling, flatten, dense) co-simulated in Verilator
//! against the golden model, in both neuron forms, with output stalls and input gaps: zero
//! mismatches at every layer and step. LIFB_COSIM_CONV_NETWORKS sets the count (default 100;
//! each network runs in both forms). Networks of one structure share one Verilator build.

use crate::common;

use crate::common::conv::{conv_structures, random_conv_net};
use crate::common::random_inputs;
use lifb_hdl::codegen::{Form, Lanes, Options};
use lifb_hdl::cosim::{cosim, CosimOptions, Coverage, Stimulus};

fn opts(
    lanes: &[usize],
    units: &[usize],
    form: Form,
    stimulus: Stimulus,
    margin: Option<f64>,
) -> CosimOptions {
    CosimOptions {
        steps: 4,
        codegen: Options {
            lanes: Lanes::List(lanes.to_vec()),
            units: Lanes::List(units.to_vec()),
            form,
            ..Default::default()
        },
        cache_dir: std::path::PathBuf::from("target").join("lifb-cosim-conv-test"),
        stimulus,
        fifo_depth: Some(4),
        cycle_margin: margin,
    }
}

#[test]
fn random_conv_networks_match_golden_in_both_forms() {
    if !common::have_tool("verilator") {
        return;
    }
    let count: usize = std::env::var("LIFB_COSIM_CONV_NETWORKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let seed = common::stim_seed();
    let structs = conv_structures();
    let mut all = Coverage::default();
    let mut runs = 0usize;
    for i in 0..count {
        let si = i % structs.len();
        let (spec, lanes, units) = &structs[si];
        let net = random_conv_net(spec, 5000 + i as u64);
        let inputs = random_inputs(&net, 2, i as u64);
        for (fi, form) in [Form::Native, Form::Decoupled].into_iter().enumerate() {
            let stimulus = Stimulus::verify(seed ^ (i as u64) << 1 ^ fi as u64);
            let o = opts(lanes, units, form, stimulus.clone(), None);
            let report = cosim(&net, &inputs, &o).unwrap_or_else(|e| {
                panic!("conv network {i} (structure {si}, {}): {e}", form.name())
            });
            assert!(
                report.divergence.is_none(),
                "conv network {i} ({} form, structure {si}, {}): {}",
                form.name(),
                stimulus.describe(),
                report.divergence.unwrap()
            );
            assert_eq!(report.cycles.len(), inputs.len());
            all.merge(&report.coverage);
            runs += 1;
        }
    }
    eprintln!(
        "{runs} conv co-simulations (stimulus seed base {seed})\n{}",
        all.summary()
    );
    assert!(all.membranes_compared > 0 && all.output_beats_compared > 0);
    assert!(
        all.blocked_cycles > 0,
        "no output stall ever blocked a beat"
    );
    assert!(all.sat_high > 0, "no membrane saturated at the top bound");
}

/// Without stalls the conv cycle model holds: every sample within the default 10 % budget.
#[test]
fn conv_cycle_model_holds_within_the_budget() {
    if !common::have_tool("verilator") {
        return;
    }
    let structs = conv_structures();
    for (si, (spec, lanes, units)) in structs.iter().enumerate() {
        let net = random_conv_net(spec, 77 + si as u64);
        let inputs = random_inputs(&net, 3, si as u64);
        let o = opts(lanes, units, Form::Native, Stimulus::quiet(), Some(0.10));
        let report = cosim(&net, &inputs, &o).unwrap();
        assert!(
            report.divergence.is_none(),
            "structure {si}: {:?}",
            report.divergence
        );
        assert!(
            report.budget_violation.is_none(),
            "structure {si}: {:?} ({})",
            report.budget_violation,
            report.budget_note
        );
        eprintln!("structure {si}: {}", report.budget_note);
    }
}

/// Pools the routing cannot fold are refused with a clear error (exit 2 class), never lowered
/// wrongly: overlapping windows, and two pools in a row (the first feeds no synaptic layer).
#[test]
fn unsupported_pools_are_refused_clearly() {
    use lifb_hdl::codegen::plan;
    use lifb_hdl::ir::{Layer, Pool, PoolKind};
    let (spec, ..) = &conv_structures()[0];
    let net = random_conv_net(spec, 1);
    let pool_at = net
        .layers
        .iter()
        .position(|l| matches!(l, Layer::Pool(_)))
        .unwrap();
    let refuse = |net: &lifb_hdl::ir::IntNetwork, want: &str| {
        let e = plan(net, &Options::default()).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
        assert_eq!(e.exit_code(), 2, "{e}");
    };
    let mut overlap = net.clone();
    overlap.layers[pool_at] = Layer::Pool(Pool {
        kind: PoolKind::Sum,
        kernel: [3, 3],
        stride: [2, 2],
    });
    refuse(&overlap, "non-overlapping windows");
    let mut chain = net.clone();
    chain.layers.insert(
        pool_at,
        Layer::Pool(Pool {
            kind: PoolKind::Sum,
            kernel: [1, 1],
            stride: [1, 1],
        }),
    );
    chain.fixed.as_mut().unwrap().scales.push(1.0);
    // the first pool of the two feeds no synaptic layer
    refuse(&chain, "must feed a synaptic layer");
    // the trained-model shape (conv, lifb, pool, flatten, dense) plans, with the pool routed
    let p = plan(&net, &Options::default()).unwrap();
    assert!(p.engines[1]
        .route
        .as_ref()
        .is_some_and(|r| r.pool == [2, 2]));
    assert!(p.engines[0].conv.is_some() && p.engines[1].conv.is_none());
}
