{# The module header, ports and named sizes every engine wrapper shares (their values from
   src/codegen/rtl.rs); a wrapper adds what is particular to its layer kind after them. #}`default_nettype none
module {= module =} #(
    parameter IN_INDEX_BITS  = {= g.in_index_bits =},
    parameter IN_COUNT_BITS  = {= g.in_count_bits =},
    parameter OUT_INDEX_BITS = {= g.out_index_bits =},
    parameter OUT_COUNT_BITS = {= g.out_count_bits =},
    parameter STATE_BITS     = {= g.state_bits =}
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      start,
    input  wire [15:0]               steps_m1,
    input  wire                      in_valid,
    output wire                      in_ready,
    input  wire                      in_eos,
    input  wire [IN_INDEX_BITS-1:0]  in_index,
    input  wire [IN_COUNT_BITS-1:0]  in_count,
    output wire                      out_valid,
    input  wire                      out_ready,
    output wire                      out_eos,
    output wire [OUT_INDEX_BITS-1:0] out_index,
    output wire [OUT_COUNT_BITS-1:0] out_count,
    output wire [STATE_BITS-1:0]     out_v,
    output wire                      busy{% match spram %}{% when Some with (sp) %},
    // weight load port (lifb_spram): slice ld_slice of weight word ld_row, while idle
    input  wire                      ld_en,
    input  wire [{= g.weight_addr_bits - 1 =}:0]   ld_row,
    input  wire [1:0]                ld_slice,
    input  wire [15:0]               ld_data{% when None %}{% endmatch %}
);
    // Structure.
    localparam NEURONS           = {= g.neurons =};
    localparam LANES             = {= g.lanes =};     // neurons accumulated in parallel
    localparam PASSES            = {= g.passes =};     // weight words per input event: ceil(NEURONS / LANES)
    localparam LAST_PASS_NEURONS = {= g.last_pass_neurons =};     // neurons in the last pass
    localparam UNITS             = {= g.units =};     // fire units: neurons updated per fire word
    localparam UNIT_GROUPS       = {= g.unit_groups =};     // fire words per pass: ceil(LANES / UNITS)
    localparam WORDS             = {= g.words =};     // fire words per step: PASSES * UNIT_GROUPS
    localparam EVENTS            = {= g.events =};     // output events per fire unit (a group's sub-units)
    localparam PENDING           = {= g.pending =};     // output events per fire word: UNITS * EVENTS
    localparam CONST_IN          = {% if const_in %}1{% else %}0{% endif %};     // 1: the same input every step, accumulated once
    // Neuron: "{= g.neuron =}", reset "{= g.reset =}", leak "{= g.leak =}" (docs/hardware.md).
    localparam THRESHOLDS        = {= g.thresholds =};     // burst thresholds B, or sub-units per group
    localparam LEAK_SHIFT        = {= g.leak_shift =};
    localparam LEAK_MUL          = {= g.leak_mul =};
    localparam LEAK_MUL_BITS     = {= g.leak_mul_bits =};
    localparam LEAK_FRAC         = {= g.leak_frac =};
    // Widths of values.
    localparam WEIGHT_BITS       = {= g.weight_bits =};
    localparam ACC_BITS          = {= g.acc_bits =};     // lane accumulator: bounds |sum + bias|
    localparam MEMBRANE_BITS     = {= g.membrane_bits =};     // saturation range of the membrane
    localparam SUM_BITS          = {= g.sum_bits =};     // leak(V) + sum + bias before saturation
    localparam RHO_BITS          = {= g.rho_bits =};
    localparam RHO_PREFIX        = {= g.rho_prefix =};     // 1: the neuron ROM holds prefix sums of rho
    localparam PARAM_BITS        = {= g.param_bits =};     // neuron-ROM bits per fire unit
    // Widths of counters and indices.
    localparam PASS_BITS         = {= g.pass_bits =};     // a pass index, 0..PASSES-1
    localparam PASS_COUNT_BITS   = {= g.pass_count_bits =};     // a pass counter, 0..PASSES
    localparam GROUP_BITS        = {= g.group_bits =};     // a unit group index, 0..UNIT_GROUPS-1
    localparam WORD_BITS         = {= g.word_bits =};     // a fire word index, 0..WORDS-1
    localparam WORD_COUNT_BITS   = {= g.word_count_bits =};     // a fire word counter, 0..WORDS
    localparam PENDING_BITS      = {= g.pending_bits =};     // an index into the pending events
    localparam UNIT_BITS         = {= g.unit_bits =};     // a fire unit index
    // Memories.
    localparam WEIGHT_DEPTH      = {= g.weight_depth =};     // weight words: inputs * PASSES
    localparam WEIGHT_ADDR_BITS  = {= g.weight_addr_bits =};
    localparam NEURON_ROM_BLOCK  = {= g.neuron_rom_block =};     // 1: the neuron ROM goes to block RAM
    localparam SYNC_STATE        = {= g.sync_state =};     // 1: accumulators and membranes in block RAM (lifb_ram)
