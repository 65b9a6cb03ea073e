//! Random networks co-simulated in Verilator against the golden model, in both neuron forms, every
//! other one with its engines' state in block RAM (`--state-bram`): zero mismatches at every layer
//! and step. LIFB_COSIM_NETWORKS raises the count (default 100).
//! Networks of one structure share one Verilator build (the RTL text depends only on structure).

use crate::common;

use crate::common::{random_inputs, random_net, structures};
use lifb_hdl::codegen::{plan::apply_form, Form, Lanes, Options};
use lifb_hdl::cosim::{cosim, CosimOptions, Coverage, Stimulus};

#[test]
fn random_networks_match_golden_in_both_forms() {
    if !common::have_tool("verilator") {
        return;
    }
    let count: usize = std::env::var("LIFB_COSIM_NETWORKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let seed = common::stim_seed();
    let structs = structures();
    let steps = 6;
    let cache = common::cosim_cache();
    // coverage per (structure, form), and over everything
    let mut per: Vec<Coverage> = vec![Coverage::default(); structs.len() * 2];
    let mut all = Coverage::default();
    let mut runs = 0usize;
    for i in 0..count {
        let si = i % structs.len();
        let (spec, lanes, units) = &structs[si];
        let net = random_net(spec, 1000 + i as u64);
        let inputs = random_inputs(&net, 3, i as u64);
        // every other network keeps its accumulators and membranes in block RAM (lifb_ram)
        let state_bram: Vec<usize> = if i % 2 == 1 {
            (0..spec.layers.len()).collect()
        } else {
            Vec::new()
        };
        for (fi, form) in [Form::Native, Form::Decoupled].into_iter().enumerate() {
            let stimulus = Stimulus::verify(seed ^ (i as u64) << 1 ^ fi as u64);
            let opts = CosimOptions {
                steps,
                codegen: Options {
                    lanes: Lanes::List(lanes.clone()),
                    units: Lanes::List(units.clone()),
                    form,
                    state_bram: state_bram.clone(),
                    ..Default::default()
                },
                cache_dir: cache.clone(),
                stimulus: stimulus.clone(),
                // small FIFOs, so that they fill under the output stalls
                fifo_depth: Some(2),
                cycle_margin: None,
            };
            apply_form(&net, form).unwrap();
            let report = cosim(&net, &inputs, &opts).unwrap_or_else(|e| {
                panic!(
                    "network {i} ({}, state in block RAM: {}, {}): {e}",
                    form.name(),
                    !state_bram.is_empty(),
                    stimulus.describe()
                )
            });
            assert!(
                report.divergence.is_none(),
                "network {i} ({} form, structure {si}, state in block RAM: {}, {}): {}",
                form.name(),
                !state_bram.is_empty(),
                stimulus.describe(),
                report.divergence.unwrap()
            );
            assert_eq!(report.cycles.len(), inputs.len());
            per[si * 2 + fi].merge(&report.coverage);
            all.merge(&report.coverage);
            runs += 1;
        }
    }
    eprintln!("{runs} co-simulations (stimulus seed base {seed}, LIFB_COSIM_SEED reproduces)");
    for (k, c) in per.iter().enumerate() {
        eprintln!(
            "structure {} ({} form):\n{}",
            k / 2,
            if k % 2 == 0 { "native" } else { "decoupled" },
            c.summary()
        );
    }
    // A run that never reaches a corner does not test it: every corner must be reached.
    assert!(all.membranes_compared > 0 && all.output_beats_compared > 0);
    assert!(
        all.blocked_cycles > 0,
        "no output stall ever blocked a beat"
    );
    assert!(all.gap_cycles > 0, "no input gap");
    assert!(
        all.input_wait_cycles > 0,
        "the design never back-pressured the host"
    );
    assert!(all.resets > 0, "no reset between samples");
    assert!(all.sat_high > 0, "no membrane saturated at the top bound");
    assert!(all.sat_low > 0, "no membrane saturated at the bottom bound");
    assert!(all.ties > 0, "no argmax tie");
    if count >= 2 * structs.len() {
        for (k, c) in per.iter().enumerate() {
            let (si, form) = (k / 2, if k % 2 == 0 { "native" } else { "decoupled" });
            assert!(
                c.fifo_full_cycles.iter().all(|&f| f > 0),
                "structure {si} ({form}): a FIFO never filled: {:?}",
                c.fifo_full_cycles
            );
            assert!(
                c.every_burst_size(),
                "structure {si} ({form}): not every burst size was emitted: {:?}",
                c.bursts
            );
        }
    }
}
