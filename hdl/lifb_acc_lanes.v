// The accumulate lanes: LANES neurons summed in parallel, each lane holding one accumulator per
// pass (PASSES entries) in each of BANKS banks.
//
// Each input event (index, count) reads one weight word per pass: weights holds the WEIGHT_BITS
// signed weight of every lane, count the event's count (unsigned, COUNT_BITS). The lanes register
// count * weight (exact at WEIGHT_BITS + COUNT_BITS bits: by shift and add for counts of one or two
// bits, else a small multiplier, a DSP block on ECP5); a cycle later add = 1 adds the registered
// products into entry add_pass of bank add_bank.
//
// Two banks (BANKS = 2) let the accumulation of step t + 1 overlap the firing of step t: the fire
// process reads entry fire_pass of bank fire_bank (sums) while fire = 1, and clear = 1 zeroes that
// entry once read. One bank (BANKS = 1: a constant input, accumulated once) is never cleared.
// init = 1 zeroes entry fire_pass of every bank. Each bank has one read and one write address
// (the shape Yosys maps to distributed RAM): the fire process reads a bank only while the
// accumulation leaves it alone.
//
// SYNC = 1 keeps each bank in block RAM (lifb_ram: all lanes in one word per entry, a registered
// read): the caller then also gives every read address a cycle ahead, add_next/add_next_bank/
// add_next_pass (the accumulation's add of the next cycle) and fire_next_pass (the entry the fire
// process reads in the next cycle), and the sums and additions are those of the asynchronous read.
//
// ACC_BITS must exceed a single product (WEIGHT_BITS + COUNT_BITS); the caller guarantees that
// every sum fits (the accumulator bound of the network's legality check).
`default_nettype none
module lifb_acc_lanes #(
    parameter LANES       = 4,
    parameter WEIGHT_BITS = 8,
    parameter COUNT_BITS  = 1,
    parameter ACC_BITS    = 16,
    parameter PASSES      = 1,
    parameter PASS_BITS   = 1,
    parameter BANKS       = 2,
    parameter SYNC        = 0
) (
    input  wire                          clk,
    input  wire [LANES*WEIGHT_BITS-1:0]  weights,
    input  wire [COUNT_BITS-1:0]         count,
    input  wire                          add,
    input  wire                          add_bank,
    input  wire [PASS_BITS-1:0]          add_pass,
    input  wire                          fire,
    input  wire                          fire_bank,
    input  wire [PASS_BITS-1:0]          fire_pass,
    input  wire                          init,
    input  wire                          clear,
    input  wire                          add_next,
    input  wire                          add_next_bank,
    input  wire [PASS_BITS-1:0]          add_next_pass,
    input  wire [PASS_BITS-1:0]          fire_next_pass,
    output wire [LANES*ACC_BITS-1:0]     sums
);
    localparam PRODUCT_BITS = WEIGHT_BITS + COUNT_BITS;

    // Parameter checks at elaboration: a bad value instantiates a module that does not exist, whose
    // name says what is wrong (Verilator, Icarus and Yosys all stop on it).
    generate
        if (LANES < 1 || WEIGHT_BITS < 1 || COUNT_BITS < 1) begin : bad_sizes
            lifb_acc_lanes_LANES_WEIGHT_BITS_COUNT_BITS_must_be_positive bad();
        end
        if (ACC_BITS <= PRODUCT_BITS) begin : bad_acc_bits
            lifb_acc_lanes_ACC_BITS_must_exceed_WEIGHT_BITS_plus_COUNT_BITS bad();
        end
        if (PASSES < 1 || PASSES > (1 << PASS_BITS)) begin : bad_passes
            lifb_acc_lanes_PASSES_must_be_1_to_2pow_PASS_BITS bad();
        end
        if (BANKS != 1 && BANKS != 2) begin : bad_banks
            lifb_acc_lanes_BANKS_must_be_1_or_2 bad();
        end
        if (SYNC != 0 && SYNC != 1) begin : bad_sync
            lifb_acc_lanes_SYNC_must_be_0_or_1 bad();
        end
    endgenerate

    // Bank addressing: the accumulation writes (and reads) add_pass, the fire process fire_pass.
    wire a0_add;
    wire a0_fire;
    wire a0_we;
    wire a1_add;
    wire a1_fire;
    wire a1_we;
    generate
        if (BANKS == 1) begin : one_bank
            assign a0_add = add;
            assign a0_fire = fire;
            assign a0_we = init || a0_add;
            assign a1_add = 1'b0;
            assign a1_fire = 1'b0;
            assign a1_we = 1'b0;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused = add_bank | fire_bank | clear | a1_add | a1_fire | a1_we;
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : two_banks
            assign a0_add = add && !add_bank;
            assign a1_add = add && add_bank;
            assign a0_fire = fire && !fire_bank;
            assign a1_fire = fire && fire_bank;
            assign a0_we = init || a0_add || (clear && !fire_bank);
            assign a1_we = init || a1_add || (clear && fire_bank);
        end
    endgenerate
    wire [PASS_BITS-1:0] a0_raddr = a0_fire ? fire_pass : add_pass;
    wire [PASS_BITS-1:0] a0_waddr = a0_add ? add_pass : fire_pass;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [PASS_BITS-1:0] a1_raddr = a1_fire ? fire_pass : add_pass;   // (unused with one bank)
    wire [PASS_BITS-1:0] a1_waddr = a1_add ? add_pass : fire_pass;
    /* verilator lint_on UNUSEDSIGNAL */

    // The lanes' products, registered: count * weight at its exact width, then sign-extended.
    wire [LANES*ACC_BITS-1:0] prod;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            wire signed [WEIGHT_BITS-1:0] w = weights[l*WEIGHT_BITS +: WEIGHT_BITS];
            wire signed [PRODUCT_BITS-1:0] w_x = {{COUNT_BITS{w[WEIGHT_BITS-1]}}, w};
            wire signed [PRODUCT_BITS-1:0] prod_x;
            if (COUNT_BITS == 1) begin : shift_add1
                // by shift and add (1-bit count)
                assign prod_x = (count[0] ? (w_x <<< 0) : {PRODUCT_BITS{1'b0}});
            end else if (COUNT_BITS == 2) begin : shift_add2
                // by shift and add (2-bit count)
                assign prod_x = (count[0] ? (w_x <<< 0) : {PRODUCT_BITS{1'b0}})
                              + (count[1] ? (w_x <<< 1) : {PRODUCT_BITS{1'b0}});
            end else begin : multiply
                // a small multiplier (a DSP block on ECP5)
                wire signed [PRODUCT_BITS-1:0] cnt_x = {{WEIGHT_BITS{1'b0}}, count};
                assign prod_x = cnt_x * w_x;
            end
            reg signed [PRODUCT_BITS-1:0] prod_r;
            always @(posedge clk) prod_r <= prod_x;
            assign prod[l*ACC_BITS +: ACC_BITS] = {{(ACC_BITS - PRODUCT_BITS){prod_r[PRODUCT_BITS-1]}}, prod_r};
        end
    endgenerate

    // The entries: rd0/rd1 are the words at the read addresses, wd0/wd1 what the write ports write
    // (the sum, or zeros for init and clear).
    wire [LANES*ACC_BITS-1:0] rd0;
    wire [LANES*ACC_BITS-1:0] rd1;
    wire [LANES*ACC_BITS-1:0] wd0;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [LANES*ACC_BITS-1:0] wd1;      // (unused with one bank)
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        for (l = 0; l < LANES; l = l + 1) begin : sum
            assign wd0[l*ACC_BITS +: ACC_BITS] = a0_add ? rd0[l*ACC_BITS +: ACC_BITS] + prod[l*ACC_BITS +: ACC_BITS] : {ACC_BITS{1'b0}};
            assign wd1[l*ACC_BITS +: ACC_BITS] = a1_add ? rd1[l*ACC_BITS +: ACC_BITS] + prod[l*ACC_BITS +: ACC_BITS] : {ACC_BITS{1'b0}};
        end
        if (SYNC == 0) begin : distributed
            // one memory per lane and bank, read asynchronously (distributed RAM)
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_next = add_next | add_next_bank | (|add_next_pass) | (|fire_next_pass);
            /* verilator lint_on UNUSEDSIGNAL */
            for (l = 0; l < LANES; l = l + 1) begin : lane_mem
                reg signed [ACC_BITS-1:0] acc0 [0:PASSES-1];
                assign rd0[l*ACC_BITS +: ACC_BITS] = acc0[a0_raddr];
                always @(posedge clk)
                    if (a0_we) acc0[a0_waddr] <= wd0[l*ACC_BITS +: ACC_BITS];
                if (BANKS == 2) begin : bank1
                    reg signed [ACC_BITS-1:0] acc1 [0:PASSES-1];
                    assign rd1[l*ACC_BITS +: ACC_BITS] = acc1[a1_raddr];
                    always @(posedge clk)
                        if (a1_we) acc1[a1_waddr] <= wd1[l*ACC_BITS +: ACC_BITS];
                end else begin : no_bank1
                    assign rd1[l*ACC_BITS +: ACC_BITS] = {ACC_BITS{1'b0}};
                end
            end
        end else begin : block
            // one block RAM per bank, every lane in one word; each read is given a cycle ahead:
            // the add of the next cycle if it goes to this bank, else the fire process's entry
            wire n0_add = add_next && (BANKS == 1 || !add_next_bank);
            wire n1_add = add_next && add_next_bank;
            lifb_ram #(.W(LANES*ACC_BITS), .D(PASSES), .AW(PASS_BITS)) bank0 (
                .clk(clk), .raddr(n0_add ? add_next_pass : fire_next_pass), .q(rd0),
                .we(a0_we), .waddr(a0_waddr), .wdata(wd0));
            if (BANKS == 2) begin : bank1
                lifb_ram #(.W(LANES*ACC_BITS), .D(PASSES), .AW(PASS_BITS)) bank1 (
                    .clk(clk), .raddr(n1_add ? add_next_pass : fire_next_pass), .q(rd1),
                    .we(a1_we), .waddr(a1_waddr), .wdata(wd1));
            end else begin : no_bank1
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_n1 = n1_add;
                /* verilator lint_on UNUSEDSIGNAL */
                assign rd1 = {(LANES*ACC_BITS){1'b0}};
            end
            /* verilator lint_off UNUSEDSIGNAL */
            wire [2*PASS_BITS-1:0] unused_raddr = {a0_raddr, a1_raddr};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
    assign sums = (BANKS == 2 && fire_bank) ? rd1 : rd0;
endmodule
`default_nettype wire
