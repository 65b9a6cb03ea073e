// The engine core: everything a layer engine does after its input walker has chosen a weight word,
// shared by the dense and the convolution engines (templates/engine.v, templates/conv_engine.v).
//
// Two processes share the accumulate lanes (lifb_acc_lanes):
// - The accumulator process takes the walker's words: in each cycle with ev_valid and not ev_eos it
//   takes one word (ev_take; the walker addresses the weight ROM with it in the same cycle and
//   advances), adding ev_count * weights into accumulator entry ev_entry when ev_word. The beat is
//   consumed (ev_ready) with its last word (ev_last) or as an end-of-step beat, which marks the
//   step's accumulator bank complete a cycle later. Step t accumulates into bank t % 2 (CONST_IN:
//   one bank, accumulated once, fired every step).
// - The fire process, started by start, zeroes the membranes (S_INIT), waits for the bank of the
//   step it fires (S_WAIT), then walks the fire words (pass, unit group) in order (S_FIRE): stage A
//   (compute_now) has the UNITS fire units (lifb_fire_unit) read their lanes' sums, membranes and
//   parameters (params: the neuron-ROM word of the fire word, addressed by the wrapper a cycle
//   ahead); stage B hands the word's events to the pending queue once that has drained. Pending
//   events leave one per cycle through out_*; the wrapper names each one's index (event_index) from
//   the word's tag (word_tag, captured with the word: pend_tag) and its place in the word
//   (pend_event). After the last word and the last event comes the end-of-step beat; the engine
//   stops after step steps_m1.
// The walk of the fire words is visible to the wrapper (f_pass, f_sub, f_word, walk_next,
// walk_zero) so that it can walk its own coordinates (channel group, position) in step with it.
// fire_partial = 1 marks a fire word in a partial lane group: only its first LAST_LANES lanes
// hold neurons. f_ahead is the fire word stage A reads in the next cycle: the wrapper addresses
// its neuron ROM with it (a registered read); SYNC_STATE = 1 reads the accumulators and the
// membranes from block RAM the same way (lifb_ram), for FPGAs without distributed RAM.
`default_nettype none
module lifb_engine_core #(
    // the neuron (lifb_fire_unit)
    parameter NEURON          = "lifb",
    parameter RESET           = "zero",
    parameter LEAK            = "none",
    parameter LEAK_SHIFT      = 1,
    parameter LEAK_MUL        = 1,
    parameter LEAK_MUL_BITS   = 1,
    parameter LEAK_FRAC       = 0,
    parameter THRESHOLDS      = 1,
    parameter RHO_BITS        = 1,
    parameter RHO_PREFIX      = 0,
    // structure
    parameter CONST_IN        = 0,
    parameter SYNC_STATE      = 0,
    parameter LANES           = 1,
    parameter PASSES          = 1,
    parameter LAST_LANES      = 1,
    parameter UNITS           = 1,
    parameter UNIT_GROUPS     = 1,
    parameter WORDS           = 1,
    parameter EVENTS          = 1,
    parameter PENDING         = 1,
    // widths of values
    parameter IN_COUNT_BITS   = 1,
    parameter OUT_INDEX_BITS  = 1,
    parameter OUT_COUNT_BITS  = 1,
    parameter STATE_BITS      = 8,
    parameter WEIGHT_BITS     = 8,
    parameter ACC_BITS        = 16,
    parameter MEMBRANE_BITS   = 8,
    parameter SUM_BITS        = 10,
    parameter PARAM_BITS      = 16,
    parameter TAG_BITS        = 1,
    // widths of counters and indices
    parameter PASS_BITS       = 1,
    parameter PASS_COUNT_BITS = 1,
    parameter GROUP_BITS      = 1,
    parameter WORD_BITS       = 1,
    parameter WORD_COUNT_BITS = 1,
    parameter PENDING_BITS    = 1,
    parameter UNIT_BITS       = 1
) (
    input  wire                             clk,
    input  wire                             rst,
    input  wire                             start,
    input  wire [15:0]                      steps_m1,
    // the input walker
    input  wire                             ev_valid,
    input  wire                             ev_eos,
    input  wire                             ev_last,
    input  wire                             ev_word,
    input  wire [PASS_BITS-1:0]             ev_entry,
    input  wire [IN_COUNT_BITS-1:0]         ev_count,
    output wire                             ev_take,
    output wire                             ev_ready,
    input  wire [LANES*WEIGHT_BITS-1:0]     weights,
    // the fire walk
    output reg  [PASS_COUNT_BITS-1:0]       f_pass,
    output reg  [GROUP_BITS-1:0]            f_sub,
    output reg  [WORD_COUNT_BITS-1:0]       f_word,
    output wire                             f_sub_last,
    output wire [GROUP_BITS-1:0]            f_sub_adv,
    output wire                             compute_now,
    output wire                             walk_next,
    output wire                             walk_zero,
    output wire [WORD_COUNT_BITS-1:0]       f_ahead,
    input  wire                             fire_partial,
    input  wire [UNITS*PARAM_BITS-1:0]      params,
    input  wire [TAG_BITS-1:0]              word_tag,
    output reg  [TAG_BITS-1:0]              pend_tag,
    output wire [PENDING_BITS-1:0]          pend_event,
    input  wire [OUT_INDEX_BITS-1:0]        event_index,
    // the output stream
    output reg                              out_valid,
    input  wire                             out_ready,
    output reg                              out_eos,
    output reg  [OUT_INDEX_BITS-1:0]        out_index,
    output reg  [OUT_COUNT_BITS-1:0]        out_count,
    output reg  [STATE_BITS-1:0]            out_v,
    output wire                             busy
);
    // The sizes agree with each other (a bad combination instantiates a module that does not
    // exist, whose name says what is wrong).
    generate
        if (UNIT_GROUPS * UNITS < LANES || WORDS != PASSES * UNIT_GROUPS
            || PENDING != UNITS * EVENTS || LAST_LANES < 1 || LAST_LANES > LANES
            || (CONST_IN != 0 && CONST_IN != 1)) begin : bad_sizes
            lifb_engine_core_sizes_disagree_LANES_UNITS_WORDS_PENDING_LAST_LANES bad();
        end
    endgenerate

    localparam [1:0] S_IDLE = 2'd0, S_INIT = 2'd1, S_WAIT = 2'd2, S_FIRE = 2'd3;
    // The fire process walks words = (pass, unit group): UNITS units read lanes g*UNITS .. g*UNITS+UNITS-1.
    localparam [WORD_COUNT_BITS-1:0] ALL_WORDS = WORDS;
    localparam [31:0] LAST_WORD_32 = WORDS - 1;
    localparam [31:0] LAST_SUB_32 = UNIT_GROUPS - 1;
    localparam [WORD_COUNT_BITS-1:0] LAST_WORD = LAST_WORD_32[WORD_COUNT_BITS-1:0];
    localparam [GROUP_BITS-1:0] LAST_SUB = LAST_SUB_32[GROUP_BITS-1:0];

    reg  [1:0]                       state;       // fire process
    reg  [15:0]                      step;        // step being fired
    reg                              a_on;        // accumulator process running
    reg  [15:0]                      a_step;      // step being accumulated
    reg  [1:0]                       full;        // bank holds a complete step, not yet fired
    reg                              b_valid;     // accumulate stage: weight word arrives this cycle
    reg  [PASS_BITS-1:0]             b_idx;
    reg  [IN_COUNT_BITS-1:0]         b_cnt;
    reg                              b_bank;
    reg                              r_valid;     // weight stage: the ROM word is registered
    reg  [PASS_BITS-1:0]             r_idx;
    reg  [IN_COUNT_BITS-1:0]         r_cnt;
    reg                              r_bank;
    reg  [LANES*WEIGHT_BITS-1:0]     w_r;
    reg                              eos_d;       // a step's inputs ended last cycle (its bank completes)
    reg                              eos_bank;
    reg                              c_valid;     // add stage: the lanes' products are registered
    reg  [PASS_BITS-1:0]             c_idx;
    reg                              c_bank;
    reg  [PENDING-1:0]               pend_mask;   // events of the last fired word still to send
    reg  [UNITS*OUT_COUNT_BITS-1:0]  pend_cnt;
    reg  [UNITS*STATE_BITS-1:0]      pend_v;
    reg                              s_valid;     // fire stage B holds a word
    reg  [TAG_BITS-1:0]              s_tag;
    reg  [WORD_BITS-1:0]             s_word;

    // The step counter: the engine stops after step steps_m1 (the host's T - 1).
    wire last_step = (step == steps_m1);
    wire a_last_step;
    wire a_bank;
    wire f_bank;
    wire next_full;
    wire [1:0] full_clr;
    wire fire_done;
    generate
        if (CONST_IN) begin : one_bank
            // Constant input: one group of events per sample, accumulated once into bank 0,
            // which stays for every step.
            assign a_last_step = 1'b1;
            assign a_bank = 1'b0;
            assign f_bank = 1'b0;
            assign next_full = 1'b1;
            assign full_clr = 2'b00;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [15:0] a_step_unused = a_step;
            wire [3:0] bank_unused = {full[1], b_bank, c_bank, r_bank};
            wire eos_bank_unused = eos_bank;
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : two_banks
            assign a_last_step = (a_step == steps_m1);
            assign a_bank = a_step[0];
            assign f_bank = step[0];
            assign next_full = full[~f_bank];
            assign full_clr = fire_done ? (2'b01 << f_bank) : 2'b00;
        end
    endgenerate
    localparam BANKS = CONST_IN ? 1 : 2;

    wire a_can = a_on && !full[a_bank];
    assign ev_take = a_can && ev_valid && !ev_eos;
    assign ev_ready = a_can && (ev_eos || ev_last);
    assign busy = (state == S_INIT) || (state == S_FIRE)
                  || (a_can && ev_valid) || b_valid || r_valid || c_valid;

    // Fire-phase state shared with the lanes.
    wire [PASS_BITS-1:0] f_idx = f_pass[PASS_BITS-1:0];
    wire [WORD_BITS-1:0] f_widx = f_word[WORD_BITS-1:0];
    // membranes: one write port (init zeros, or stage B's result for its word)
    wire init_we = (state == S_INIT);
    wire s_accept;
    wire vm_we = init_we || s_accept;
    wire [WORD_BITS-1:0] vm_waddr = init_we ? f_widx : s_word;
    assign f_sub_last = (f_sub == LAST_SUB);
    wire [PASS_COUNT_BITS-1:0] f_pass_adv = f_sub_last ? f_pass + 1'b1 : f_pass;
    assign f_sub_adv = f_sub_last ? {GROUP_BITS{1'b0}} : f_sub + 1'b1;
    wire fire_active = (state == S_FIRE);
    wire out_free    = !out_valid || out_ready;
    wire [PENDING_BITS-1:0] pe_idx;
    wire pe_any;
    lifb_prienc #(.W(PENDING), .IW(PENDING_BITS)) penc (.req(pend_mask), .idx(pe_idx), .any(pe_any));
    assign pend_event = pe_idx;
    wire emit_now = fire_active && pe_any && out_free;
    localparam [PENDING-1:0] FIRST_PENDING = 1;
    // Sending an event clears the lowest pending bit, the one lifb_prienc names (x & (x - 1)).
    wire [PENDING-1:0] pend_after = emit_now ? (pend_mask & (pend_mask - FIRST_PENDING)) : pend_mask;
    // The fire process is a two-stage pipeline: stage A reads word f_word (compute_now), stage B
    // (s_valid) finishes it and hands its events to the pending queue once that has drained.
    assign s_accept = s_valid && (pend_after == {PENDING{1'b0}});
    assign compute_now = fire_active && (f_word != ALL_WORDS) && (!s_valid || s_accept);
    // a pass's accumulators are cleared once its last unit group has read them
    wire clear_now = compute_now && f_sub_last;
    assign fire_done = fire_active && !emit_now && (f_word == ALL_WORDS) && !s_valid && !pe_any && out_free;
    // the walk advances a word (init or fire) or returns to word 0
    wire init_last = init_we && (f_word == LAST_WORD);
    assign walk_next = !start && ((init_we && !init_last) || compute_now);
    assign walk_zero = start || init_last || (!emit_now && fire_done);
    // The word (and its pass) stage A reads in the next cycle: the next one after a compute, word
    // 0 after the last (or between steps), else the current one.
    wire f_at_end = (f_word == ALL_WORDS);
    wire [WORD_COUNT_BITS-1:0] f_next = (f_word == LAST_WORD || f_at_end) ? {WORD_COUNT_BITS{1'b0}} : f_word + 1'b1;
    assign f_ahead = compute_now ? f_next : (f_at_end ? {WORD_COUNT_BITS{1'b0}} : f_word);
    /* verilator lint_off UNUSEDSIGNAL */
    wire [PASS_COUNT_BITS-1:0] f_pass_ahead = compute_now ? ((f_word == LAST_WORD) ? {PASS_COUNT_BITS{1'b0}} : f_pass_adv)
                                                          : (f_at_end ? {PASS_COUNT_BITS{1'b0}} : f_pass);
    /* verilator lint_on UNUSEDSIGNAL */

    wire [PENDING-1:0]              fire_mask;
    wire [UNITS*OUT_COUNT_BITS-1:0] fire_cnt;
    wire [UNITS*STATE_BITS-1:0]     fire_v;
    // The fire process's view of the accumulators: lane l's entry of the pass being fired.
    wire [LANES*ACC_BITS-1:0] lane_acc;

    lifb_acc_lanes #(
        .LANES(LANES), .WEIGHT_BITS(WEIGHT_BITS), .COUNT_BITS(IN_COUNT_BITS), .ACC_BITS(ACC_BITS),
        .PASSES(PASSES), .PASS_BITS(PASS_BITS), .BANKS(BANKS), .SYNC(SYNC_STATE)
    ) lanes (
        .clk(clk), .weights(w_r), .count(r_cnt),
        .add(c_valid), .add_bank(c_bank), .add_pass(c_idx),
        .fire(fire_active), .fire_bank(f_bank), .fire_pass(f_idx),
        .init(init_we), .clear(clear_now),
        .add_next(r_valid), .add_next_bank(r_bank), .add_next_pass(r_idx),
        .fire_next_pass(f_pass_ahead[PASS_BITS-1:0]), .sums(lane_acc));

    genvar u;
    generate
        for (u = 0; u < UNITS; u = u + 1) begin : unit
            // Unit u fires lane g*UNITS + u of the pass in unit group g = f_sub.
            wire signed [ACC_BITS-1:0] x_acc;
            wire unit_ok;
            if (UNIT_GROUPS == 1) begin : one_group
                assign x_acc = lane_acc[u*ACC_BITS +: ACC_BITS];
                assign unit_ok = !fire_partial || (u < LAST_LANES);
            end else begin : groups
                wire [UNIT_GROUPS*ACC_BITS-1:0] cand;
                genvar g;
                for (g = 0; g < UNIT_GROUPS; g = g + 1) begin : grp
                    if (g * UNITS + u < LANES) begin : on
                        assign cand[g*ACC_BITS +: ACC_BITS] = lane_acc[(g*UNITS+u)*ACC_BITS +: ACC_BITS];
                    end else begin : off
                        assign cand[g*ACC_BITS +: ACC_BITS] = {ACC_BITS{1'b0}};
                    end
                end
                reg signed [ACC_BITS-1:0] x_sel;
                integer gi;
                always @(*) begin
                    x_sel = cand[0 +: ACC_BITS];
                    for (gi = 1; gi < UNIT_GROUPS; gi = gi + 1)
                        if (f_sub == gi[GROUP_BITS-1:0]) x_sel = cand[gi*ACC_BITS +: ACC_BITS];
                end
                assign x_acc = x_sel;
                // lanes beyond LANES (a partial last unit group) and beyond LAST_LANES (a partial
                // lane group) hold no neuron
                /* verilator lint_off UNUSEDSIGNAL */
                wire [31:0] u_lane = {{(32 - GROUP_BITS){1'b0}}, f_sub} * UNITS + u;
                /* verilator lint_on UNUSEDSIGNAL */
                assign unit_ok = !fire_partial ? (u_lane < LANES) : (u_lane < LAST_LANES);
            end
            lifb_fire_unit #(
                .NEURON(NEURON), .RESET(RESET), .LEAK(LEAK),
                .LEAK_SHIFT(LEAK_SHIFT), .LEAK_MUL(LEAK_MUL), .LEAK_MUL_BITS(LEAK_MUL_BITS), .LEAK_FRAC(LEAK_FRAC),
                .ACC_BITS(ACC_BITS), .MEMBRANE_BITS(MEMBRANE_BITS), .STATE_BITS(STATE_BITS), .SUM_BITS(SUM_BITS),
                .THRESHOLDS(THRESHOLDS), .RHO_BITS(RHO_BITS), .RHO_PREFIX(RHO_PREFIX), .COUNT_BITS(OUT_COUNT_BITS), .EVENTS(EVENTS),
                .PARAM_BITS(PARAM_BITS), .WORDS(WORDS), .WORD_BITS(WORD_BITS), .SYNC(SYNC_STATE)
            ) fu (
                .clk(clk), .compute(compute_now), .ok(unit_ok), .acc(x_acc),
                .params(params[u*PARAM_BITS +: PARAM_BITS]),
                .rd_word(f_widx), .rd_next(f_ahead[WORD_BITS-1:0]), .v_we(vm_we), .v_init(init_we), .wr_word(vm_waddr),
                .fire_mask(fire_mask[u*EVENTS +: EVENTS]),
                .count(fire_cnt[u*OUT_COUNT_BITS +: OUT_COUNT_BITS]),
                .v_next(fire_v[u*STATE_BITS +: STATE_BITS]));
        end
    endgenerate

    // Which unit an event of the pending word belongs to (sub-units of one neuron share its membrane).
    wire [UNIT_BITS-1:0] pe_unit;
    // pe_idx / EVENTS, without a divider on the path to the output registers: the lowest pending
    // event lies in the lowest unit that has one pending.
    generate
        if (EVENTS > 1) begin : shared
            wire [UNITS-1:0] unit_pending;
            genvar ui;
            for (ui = 0; ui < UNITS; ui = ui + 1) begin : unit_any
                assign unit_pending[ui] = |pend_mask[ui*EVENTS +: EVENTS];
            end
            /* verilator lint_off UNUSEDSIGNAL */
            wire unit_any_pending;
            /* verilator lint_on UNUSEDSIGNAL */
            lifb_prienc #(.W(UNITS), .IW(UNIT_BITS)) uenc (.req(unit_pending), .idx(pe_unit), .any(unit_any_pending));
        end else begin : own
            assign pe_unit = pe_idx;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
            step <= 16'd0;
            f_pass <= {PASS_COUNT_BITS{1'b0}};
            f_sub <= {GROUP_BITS{1'b0}};
            f_word <= {WORD_COUNT_BITS{1'b0}};
            b_valid <= 1'b0;
            b_bank <= 1'b0;
            c_valid <= 1'b0;
            c_idx <= {PASS_BITS{1'b0}};
            c_bank <= 1'b0;
            r_valid <= 1'b0;
            r_idx <= {PASS_BITS{1'b0}};
            r_cnt <= {IN_COUNT_BITS{1'b0}};
            r_bank <= 1'b0;
            w_r <= {(LANES*WEIGHT_BITS){1'b0}};
            eos_d <= 1'b0;
            eos_bank <= 1'b0;
            a_on <= 1'b0;
            a_step <= 16'd0;
            full <= 2'b00;
            b_idx <= {PASS_BITS{1'b0}};
            b_cnt <= {IN_COUNT_BITS{1'b0}};
            pend_mask <= {PENDING{1'b0}};
            pend_cnt <= {(UNITS*OUT_COUNT_BITS){1'b0}};
            pend_v <= {(UNITS*STATE_BITS){1'b0}};
            pend_tag <= {TAG_BITS{1'b0}};
            s_valid <= 1'b0;
            s_tag <= {TAG_BITS{1'b0}};
            s_word <= {WORD_BITS{1'b0}};
            out_valid <= 1'b0;
            out_eos <= 1'b0;
            out_index <= {OUT_INDEX_BITS{1'b0}};
            out_count <= {OUT_COUNT_BITS{1'b0}};
            out_v <= {STATE_BITS{1'b0}};
        end else begin
            if (out_valid && out_ready) out_valid <= 1'b0;
            b_valid <= 1'b0;
            // accumulate pipeline: ROM word (b) -> registered word (r) -> product (c) -> add
            r_valid <= b_valid;
            r_idx <= b_idx;
            r_cnt <= b_cnt;
            r_bank <= b_bank;
            w_r <= weights;
            c_valid <= r_valid;
            c_idx <= r_idx;
            c_bank <= r_bank;
            eos_d <= 1'b0;
            if (start) begin
                state <= S_INIT;
                step <= 16'd0;
                f_pass <= {PASS_COUNT_BITS{1'b0}};
                f_sub <= {GROUP_BITS{1'b0}};
                f_word <= {WORD_COUNT_BITS{1'b0}};
                a_on <= 1'b0;
                a_step <= 16'd0;
                full <= 2'b00;
                pend_mask <= {PENDING{1'b0}};
                s_valid <= 1'b0;
                // nothing in flight from before (the protocol already guarantees it)
                r_valid <= 1'b0;
                c_valid <= 1'b0;
                eos_d <= 1'b0;
                out_valid <= 1'b0;
            end else begin
                // accumulator process (a word without a weight, ev_word = 0, is taken but not added)
                if (ev_take) begin
                    b_valid <= ev_word;
                    b_idx <= ev_entry;
                    b_cnt <= ev_count;
                    b_bank <= a_bank;
                end
                // end of the step's inputs: the bank is marked complete a cycle later (eos_d); its
                // last add lands two cycles after this one, before the fire process can read it
                if (a_can && ev_valid && ev_eos) begin
                    a_step <= a_step + 16'd1;
                    if (a_last_step) a_on <= 1'b0;
                    eos_d <= 1'b1;
                    eos_bank <= a_bank;
                end
                full <= (full | (eos_d ? (2'b01 << eos_bank) : 2'b00)) & ~full_clr;
                // fire process
                case (state)
                    S_INIT: begin
                        if (init_last) begin
                            f_pass <= {PASS_COUNT_BITS{1'b0}};
                            f_sub <= {GROUP_BITS{1'b0}};
                            f_word <= {WORD_COUNT_BITS{1'b0}};
                            state <= S_WAIT;
                            a_on <= 1'b1;
                        end else begin
                            f_pass <= f_pass_adv;
                            f_sub <= f_sub_adv;
                            f_word <= f_word + 1'b1;
                        end
                    end
                    // neuron-ROM word 0 is already addressed (f_pass = 0). The bank's last add is
                    // written in the first cycle its full flag is seen; the fire process reads it
                    // one cycle later (after this state change), never in that same cycle
                    S_WAIT: if (full[f_bank]) state <= S_FIRE;
                    S_FIRE: begin
                        if (compute_now) begin
                            s_valid <= 1'b1;
                            s_tag <= word_tag;
                            s_word <= f_widx;
                            f_pass <= f_pass_adv;
                            f_sub <= f_sub_adv;
                            f_word <= f_word + 1'b1;
                        end else if (s_accept) begin
                            s_valid <= 1'b0;
                        end
                        if (s_accept) begin
                            pend_mask <= fire_mask;
                            pend_cnt <= fire_cnt;
                            pend_v <= fire_v;
                            pend_tag <= s_tag;
                        end else begin
                            pend_mask <= pend_after;
                        end
                        if (emit_now) begin
                            out_valid <= 1'b1;
                            out_eos <= 1'b0;
                            out_index <= event_index;
                            out_count <= pend_cnt[pe_unit*OUT_COUNT_BITS +: OUT_COUNT_BITS];
                            out_v <= pend_v[pe_unit*STATE_BITS +: STATE_BITS];
                        end else if (fire_done) begin
                            // end of this step: send the end-of-step beat
                            out_valid <= 1'b1;
                            out_eos <= 1'b1;
                            f_pass <= {PASS_COUNT_BITS{1'b0}};
                            f_sub <= {GROUP_BITS{1'b0}};
                            f_word <= {WORD_COUNT_BITS{1'b0}};
                            if (last_step) begin
                                state <= S_IDLE;
                            end else begin
                                step <= step + 16'd1;
                                // the ROM reads word 0 this cycle (f_word = WORDS): fire at once
                                // if the next step's bank is complete
                                state <= next_full ? S_FIRE : S_WAIT;
                            end
                        end
                    end
                    default: ;
                endcase
            end
        end
    end
endmodule
`default_nettype wire
