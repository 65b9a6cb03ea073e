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
    parameter BANKS       = 2
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

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            wire signed [WEIGHT_BITS-1:0] w = weights[l*WEIGHT_BITS +: WEIGHT_BITS];
            // count * weight at its exact width, then sign-extended
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
            wire signed [ACC_BITS-1:0] prod = {{(ACC_BITS - PRODUCT_BITS){prod_r[PRODUCT_BITS-1]}}, prod_r};

            reg signed [ACC_BITS-1:0] acc0 [0:PASSES-1];
            wire signed [ACC_BITS-1:0] rd0 = acc0[a0_raddr];
            // init and the fire process's clear write zeros; the accumulation writes its sum
            always @(posedge clk)
                if (a0_we) acc0[a0_waddr] <= a0_add ? rd0 + prod : {ACC_BITS{1'b0}};
            if (BANKS == 1) begin : one_bank
                assign sums[l*ACC_BITS +: ACC_BITS] = rd0;
            end else begin : two_banks
                reg signed [ACC_BITS-1:0] acc1 [0:PASSES-1];
                wire signed [ACC_BITS-1:0] rd1 = acc1[a1_raddr];
                always @(posedge clk)
                    if (a1_we) acc1[a1_waddr] <= a1_add ? rd1 + prod : {ACC_BITS{1'b0}};
                assign sums[l*ACC_BITS +: ACC_BITS] = fire_bank ? rd1 : rd0;
            end
        end
    endgenerate
endmodule
`default_nettype wire
