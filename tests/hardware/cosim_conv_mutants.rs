//! Planted faults in the convolution engine and the event routing (src/cosim/mutate.rs,
//! `conv_catalogue`) on the conv campaign network: every one must be caught by the
//! co-simulation (a divergence or the cycle budget). Runs in Icarus (fast compiles) when it is
//! installed, else in Verilator.

use crate::common;

use lifb_hdl::codegen::generate_with_fifo_depth;
use lifb_hdl::cosim::mutate::{
    apply, campaign_inputs, campaign_of, campaign_options, conv_campaign_codegen,
    conv_campaign_network, conv_catalogue, score,
};
use lifb_hdl::cosim::Simulator;

#[test]
fn conv_catalogue_follows_the_sources() {
    let net = conv_campaign_network();
    net.validate().unwrap();
    let d = generate_with_fifo_depth(&net, &conv_campaign_codegen(), Some(2)).unwrap();
    for m in &conv_catalogue() {
        let x = apply(&d, m).unwrap_or_else(|e| panic!("{}: {e}", m.id));
        assert_ne!(x.files, d.files, "{} changes nothing", m.id);
    }
}

#[test]
fn conv_mutants_are_all_caught() {
    let sim = if common::have_tool("iverilog") {
        Simulator::Icarus
    } else if common::have_tool("verilator") {
        Simulator::Verilator
    } else {
        return;
    };
    let net = conv_campaign_network();
    let inputs = campaign_inputs(&net, 4, 3);
    let cache = std::path::PathBuf::from("target").join("lifb-cosim-conv-test");
    let opts = campaign_options(4, conv_campaign_codegen(), cache, common::stim_seed());
    let out = campaign_of(conv_catalogue(), sim, &net, &inputs, &opts, &[], |o| {
        eprintln!(
            "{:<24} {}: {}",
            o.id,
            if o.caught { "caught" } else { "ESCAPED" },
            o.detail.lines().next().unwrap_or("")
        )
    })
    .unwrap();
    let (caught, live, share) = score(&out);
    eprintln!(
        "conv mutants caught: {caught}/{live} ({:.0} %)",
        share * 100.0
    );
    let escaped: Vec<&str> = out
        .iter()
        .filter(|o| !o.caught && o.equivalent.is_none())
        .map(|o| o.id.as_str())
        .collect();
    assert!(escaped.is_empty(), "escaped: {escaped:?}");
}
