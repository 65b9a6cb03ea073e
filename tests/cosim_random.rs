//! Random networks co-simulated in Verilator against the golden model, in both neuron forms:
//! zero mismatches at every layer and step. LIFB_COSIM_NETWORKS raises the count (default 100).
//! Networks of one structure share one Verilator build (the RTL text depends only on structure).

mod hw_common;

use hw_common::{random_inputs, random_net, Neuron, Spec};
use lifb_hdl::codegen::{plan::apply_form, Form, Lanes, Options};
use lifb_hdl::cosim::{cosim, CosimOptions};
use lifb_hdl::golden::{IntSim, TraceOptions};
use lifb_hdl::ir::{Encoding, Reset};

/// (structure, lanes per engine, fire units per engine; 0 = all). The units cover one unit per
/// lane, a single unit, and unit groups that leave the last group of a pass partly empty.
pub fn structures() -> Vec<(Spec, Vec<usize>, Vec<usize>)> {
    use Neuron::*;
    use Reset::*;
    vec![
        (
            Spec {
                inputs: 16,
                layers: vec![(10, Lifb(8, Subtract, 3)), (6, Lifb(2, Zero, 0))],
                encoding: Encoding::Direct,
                weight_bits: 6,
                membrane_bits: 12,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            vec![3, 0],
            vec![2, 4],
        ),
        (
            Spec {
                inputs: 12,
                layers: vec![
                    (8, Lifb(1, Subtract, 8)),
                    (5, Lifb(5, Subtract, 1)),
                    (4, None),
                ],
                encoding: Encoding::Rate { seed: 11 },
                weight_bits: 5,
                membrane_bits: 10,
                input_bits: 3,
                leak_frac_bits: 4,
            },
            vec![1, 2, 0],
            vec![1, 1, 3],
        ),
        (
            Spec {
                inputs: 20,
                layers: vec![(9, Lifb(4, Zero, 16)), (3, Lifb(7, Subtract, 5))],
                encoding: Encoding::Burst { max_count: 6 },
                weight_bits: 7,
                membrane_bits: 11,
                input_bits: 5,
                leak_frac_bits: 4,
            },
            vec![4, 1],
            vec![0, 1],
        ),
        (
            Spec {
                inputs: 10,
                layers: vec![
                    (7, Lifb(3, Subtract, 2)),
                    (7, Lifb(6, Zero, 7)),
                    (4, Lifb(1, Subtract, 0)),
                ],
                encoding: Encoding::Direct,
                weight_bits: 8,
                membrane_bits: 14,
                input_bits: 3,
                leak_frac_bits: 3,
            },
            vec![0, 3, 2],
            vec![3, 0, 1],
        ),
        (
            Spec {
                inputs: 14,
                layers: vec![(6, Group(3, Subtract, 4)), (4, Group(2, Zero, 0))],
                encoding: Encoding::Direct,
                weight_bits: 6,
                membrane_bits: 12,
                input_bits: 4,
                leak_frac_bits: 4,
            },
            vec![2, 0],
            vec![1, 3],
        ),
    ]
}

#[test]
fn random_networks_match_golden_in_both_forms() {
    if !hw_common::have_tool("verilator") {
        return;
    }
    let count: usize = std::env::var("LIFB_COSIM_NETWORKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let structs = structures();
    let steps = 6;
    let cache = std::path::PathBuf::from("target").join("lifb-cosim-test");
    let (mut saturated, mut full_burst, mut runs) = (0usize, 0usize, 0usize);
    for i in 0..count {
        let (spec, lanes, units) = &structs[i % structs.len()];
        let net = random_net(spec, 1000 + i as u64);
        let inputs = random_inputs(&net, 3, i as u64);
        // Evidence that the tests reach saturation and full bursts (golden side).
        let fx = net.fixed.as_ref().unwrap();
        let sim = IntSim::new(&net).unwrap();
        for (s, x) in inputs.iter().enumerate() {
            let t = sim
                .run(
                    x,
                    s as u64,
                    steps,
                    TraceOptions {
                        counts: true,
                        membranes: true,
                    },
                )
                .unwrap();
            for l in &t.layers {
                let m = l.membranes.as_ref().unwrap();
                saturated += m
                    .iter()
                    .flatten()
                    .filter(|&&v| v == fx.v_min() as f64)
                    .count();
                let b = net.layers[l.layer].max_count().unwrap();
                if b > 1 {
                    full_burst += l.counts.iter().flatten().filter(|&&c| c == b).count();
                }
            }
        }
        for form in [Form::Native, Form::Decoupled] {
            let opts = CosimOptions {
                steps,
                codegen: Options {
                    lanes: Lanes::List(lanes.clone()),
                    units: Lanes::List(units.clone()),
                    form,
                },
                cache_dir: cache.clone(),
                stall: i % 2 == 1,
            };
            apply_form(&net, form).unwrap();
            let report = cosim(&net, &inputs, &opts)
                .unwrap_or_else(|e| panic!("network {i} ({}): {e}", form.name()));
            assert!(
                report.divergence.is_none(),
                "network {i} ({} form, structure {}): {}",
                form.name(),
                i % structs.len(),
                report.divergence.unwrap()
            );
            assert_eq!(report.cycles.len(), inputs.len());
            runs += 1;
        }
    }
    eprintln!("{runs} co-simulations, {saturated} membranes at the negative saturation bound, {full_burst} full bursts");
    assert!(
        saturated > 0,
        "no random network reached membrane saturation"
    );
    assert!(full_burst > 0, "no random network reached a full burst");
}
