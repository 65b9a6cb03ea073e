// One fire unit: the leak / integrate / fire / reset update of one neuron per fire word, as a
// two-stage pipeline, with the membranes of the WORDS neurons it serves in a memory of its own.
//
// Stage A (compute = 1): register the lane's sum ACC, X = ACC + bias, leak(V) of the stored
// membrane of word rd_word, and the neuron's parameters. Stage B (combinational on the registered
// values): H = sat(leak(V) + X) to MEMBRANE_BITS, the comparisons with the thresholds, the output
// and the next membrane. One write port: v_init writes zeros, v_we stage B's next membrane.
//
// NEURON = "lifb":    B = THRESHOLDS burst thresholds theta + (k-1) D; count = how many H reaches
//                     (0..B), fire_mask = count > 0. Reset "zero": V = 0 after a spike;
//                     "subtract": V = H minus the highest threshold reached.
// NEURON = "group":   THRESHOLDS binary sub-units sharing one membrane; fire_mask bit k = H reaches
//                     threshold k (count is 1). Reset "zero": V = 0 if any fired; "subtract":
//                     V = H minus the rho (RHO_BITS, unsigned) of every sub-unit that fired.
//                     RHO_PREFIX = 1 (the generator proved every neuron's thresholds ascending, so
//                     the sub-units that fire are always 0..c-1): the word holds the prefix sums
//                     rho_0 + .. + rho_k instead, and V = H minus the prefix sum of the highest
//                     sub-unit that fired - k parallel subtractions and a select, as the LIFB
//                     subtract reset, instead of an adder chain after the comparisons.
// NEURON = "current": no neuron: X = ACC + bias is the output (count = X, fire_mask = 1); no
//                     membrane (STATE_BITS = 1, v_next = 0).
// LEAK = "none" | "shift" (V - (V >>> LEAK_SHIFT)) | "mul" (V - ((V * LEAK_MUL) >>> LEAK_FRAC),
// a floor shift; LEAK_MUL < 2**LEAK_MUL_BITS).
//
// SYNC = 1 keeps the membranes in block RAM (lifb_ram, a registered read): the caller gives the
// word stage A reads a cycle ahead in rd_next, and rd_word is unused.
//
// The neuron-parameter word (PARAM_BITS), least significant field first: bias (MEMBRANE_BITS),
// THRESHOLDS thresholds (MEMBRANE_BITS each), then for a subtract-reset group THRESHOLDS rho
// values (RHO_BITS each); all signed except rho.
`default_nettype none
module lifb_fire_unit #(
    parameter NEURON        = "lifb",
    parameter RESET         = "zero",
    parameter LEAK          = "none",
    parameter LEAK_SHIFT    = 1,
    parameter LEAK_MUL      = 1,
    parameter LEAK_MUL_BITS = 1,
    parameter LEAK_FRAC     = 0,
    parameter ACC_BITS      = 8,
    parameter MEMBRANE_BITS = 8,
    parameter STATE_BITS    = 8,
    parameter SUM_BITS      = 10,
    parameter THRESHOLDS    = 1,
    parameter RHO_BITS      = 1,
    parameter RHO_PREFIX    = 0,
    parameter COUNT_BITS    = 1,
    parameter EVENTS        = 1,
    parameter PARAM_BITS    = 16,
    parameter WORDS         = 1,
    parameter WORD_BITS     = 1,
    parameter SYNC          = 0
) (
    input  wire                         clk,
    input  wire                         compute,
    input  wire                         ok,
    input  wire signed [ACC_BITS-1:0]   acc,
    input  wire [PARAM_BITS-1:0]        params,
    input  wire [WORD_BITS-1:0]         rd_word,
    input  wire [WORD_BITS-1:0]         rd_next,
    input  wire                         v_we,
    input  wire                         v_init,
    input  wire [WORD_BITS-1:0]         wr_word,
    output wire [EVENTS-1:0]            fire_mask,
    output wire [COUNT_BITS-1:0]        count,
    output wire [STATE_BITS-1:0]        v_next
);
    localparam MB = MEMBRANE_BITS;
    localparam K = THRESHOLDS;
    // The modes, compared once (a string parameter is as wide as the text given for it).
    /* verilator lint_off WIDTH */
    localparam IS_CURRENT = (NEURON == "current");
    localparam IS_LIFB = (NEURON == "lifb");
    localparam IS_GROUP = (NEURON == "group");
    localparam SUBTRACT = (RESET == "subtract");
    localparam RESET_OK = (RESET == "zero") || SUBTRACT;
    localparam LEAK_SHIFTS = (LEAK == "shift");
    localparam LEAK_MULTIPLIES = (LEAK == "mul");
    localparam LEAK_OK = (LEAK == "none") || LEAK_SHIFTS || LEAK_MULTIPLIES;
    /* verilator lint_on WIDTH */
    localparam RHO_FIELD = (IS_GROUP && SUBTRACT) ? K * RHO_BITS : 0;
    localparam WIDEST = (ACC_BITS > STATE_BITS ? ACC_BITS : STATE_BITS) > MB
                        ? (ACC_BITS > STATE_BITS ? ACC_BITS : STATE_BITS) : MB;

    // Parameter checks at elaboration: a bad value instantiates a module that does not exist, whose
    // name says what is wrong (Verilator, Icarus and Yosys all stop on it).
    generate
        if (!IS_CURRENT && !IS_LIFB && !IS_GROUP) begin : bad_neuron
            lifb_fire_unit_NEURON_must_be_lifb_group_or_current bad();
        end
        if (!RESET_OK) begin : bad_reset
            lifb_fire_unit_RESET_must_be_zero_or_subtract bad();
        end
        if (!LEAK_OK) begin : bad_leak
            lifb_fire_unit_LEAK_must_be_none_shift_or_mul bad();
        end
        if (PARAM_BITS != MB * (IS_CURRENT ? 1 : 1 + K) + RHO_FIELD) begin : bad_param_bits
            lifb_fire_unit_PARAM_BITS_must_hold_bias_thresholds_and_rho bad();
        end
        if (SUM_BITS < WIDEST + 2) begin : bad_sum_bits
            lifb_fire_unit_SUM_BITS_must_exceed_the_widest_operand_by_2 bad();
        end
        if (!IS_CURRENT && (K < 1 || STATE_BITS < MB)) begin : bad_state
            lifb_fire_unit_needs_THRESHOLDS_ge_1_and_STATE_BITS_ge_MEMBRANE_BITS bad();
        end
        if (IS_LIFB && (STATE_BITS != MB || K >= (1 << COUNT_BITS) || EVENTS != 1)) begin : bad_lifb
            lifb_fire_unit_lifb_needs_STATE_BITS_eq_MEMBRANE_BITS_B_lt_2pow_COUNT_BITS_EVENTS_1 bad();
        end
        if (IS_GROUP && (COUNT_BITS != 1 || EVENTS != K)) begin : bad_group
            lifb_fire_unit_group_needs_COUNT_BITS_1_and_EVENTS_eq_THRESHOLDS bad();
        end
        if (IS_CURRENT && (EVENTS != 1 || STATE_BITS != 1 || COUNT_BITS > SUM_BITS)) begin : bad_current
            lifb_fire_unit_current_needs_EVENTS_1_STATE_BITS_1_COUNT_BITS_le_SUM_BITS bad();
        end
        if (RHO_PREFIX != 0 && RHO_PREFIX != 1) begin : bad_rho_prefix
            lifb_fire_unit_RHO_PREFIX_must_be_0_or_1 bad();
        end
        if (WORDS < 1 || WORDS > (1 << WORD_BITS)) begin : bad_words
            lifb_fire_unit_WORDS_must_be_1_to_2pow_WORD_BITS bad();
        end
    endgenerate

    wire signed [MB-1:0] bias = params[MB-1:0];
    // X = acc + bias at the sum width (no overflow: SUM_BITS exceeds both by two bits)
    wire signed [SUM_BITS-1:0] xb = {{(SUM_BITS - ACC_BITS){acc[ACC_BITS-1]}}, acc}
                                  + {{(SUM_BITS - MB){bias[MB-1]}}, bias};
    reg s_ok;

    generate
        if (IS_CURRENT) begin : current
            // (X fits ACC_BITS: the accumulator width bounds |acc + bias|)
            /* verilator lint_off UNUSEDSIGNAL */
            reg signed [SUM_BITS-1:0] s_xb;
            wire unused = v_we | v_init | (|rd_word) | (|rd_next) | (|wr_word);
            /* verilator lint_on UNUSEDSIGNAL */
            always @(posedge clk) begin
                if (compute) begin
                    s_ok <= ok;
                    s_xb <= xb;
                end
            end
            // Stage B: current readout, X = acc + bias is the output.
            assign fire_mask = s_ok;
            assign count = s_xb[COUNT_BITS-1:0];
            assign v_next = 1'b0;
        end else begin : neuron
            wire signed [STATE_BITS-1:0] v_old;
            wire signed [STATE_BITS-1:0] v_upd;
            wire [STATE_BITS-1:0] v_wdata = v_init ? {STATE_BITS{1'b0}} : v_upd;
            // one write port: init writes zeros, stage B writes the updated membrane
            if (SYNC == 0) begin : distributed
                /* verilator lint_off UNUSEDSIGNAL */
                wire [WORD_BITS-1:0] unused_next = rd_next;
                /* verilator lint_on UNUSEDSIGNAL */
                reg signed [STATE_BITS-1:0] vm [0:WORDS-1];
                assign v_old = vm[rd_word];
                always @(posedge clk)
                    if (v_we) vm[wr_word] <= v_wdata;
            end else begin : block
                /* verilator lint_off UNUSEDSIGNAL */
                wire [WORD_BITS-1:0] unused_word = rd_word;
                /* verilator lint_on UNUSEDSIGNAL */
                lifb_ram #(.W(STATE_BITS), .D(WORDS), .AW(WORD_BITS)) vm (
                    .clk(clk), .raddr(rd_next), .q(v_old),
                    .we(v_we), .waddr(wr_word), .wdata(v_wdata));
            end
            wire signed [STATE_BITS-1:0] v_lk;
            if (LEAK_SHIFTS) begin : leak_shift
                // leak: V - ((V * 2^k) >> f) = V - (V >>> LEAK_SHIFT)
                assign v_lk = v_old - (v_old >>> LEAK_SHIFT);
            end else if (LEAK_MULTIPLIES) begin : leak_mul
                // leak: V - ((V * LEAK_MUL) >> LEAK_FRAC), floor shift
                localparam signed [STATE_BITS + LEAK_MUL_BITS:0] LEAK_MUL_S = LEAK_MUL;
                wire signed [STATE_BITS + LEAK_MUL_BITS:0] v_prod =
                    {{(LEAK_MUL_BITS + 1){v_old[STATE_BITS-1]}}, v_old} * LEAK_MUL_S;
                /* verilator lint_off UNUSEDSIGNAL */
                wire signed [STATE_BITS + LEAK_MUL_BITS:0] v_sh = v_prod >>> LEAK_FRAC;
                /* verilator lint_on UNUSEDSIGNAL */
                assign v_lk = v_old - v_sh[STATE_BITS-1:0];
            end else begin : leak_none
                assign v_lk = v_old;
            end
            reg signed [SUM_BITS-1:0] s_xb;
            reg signed [STATE_BITS-1:0] s_vlk;
            reg [PARAM_BITS-MB-1:0] s_nw;
            always @(posedge clk) begin
                if (compute) begin
                    s_ok <= ok;
                    s_xb <= xb;
                    s_vlk <= v_lk;
                    s_nw <= params[PARAM_BITS-1:MB];
                end
            end
            // Stage B: H = sat(leak(V) + X) to MB bits; the range check reads the top bits.
            localparam signed [MB-1:0] V_MAX = {1'b0, {(MB - 1){1'b1}}};
            localparam signed [MB-1:0] V_MIN = {1'b1, {(MB - 1){1'b0}}};
            wire signed [SUM_BITS-1:0] h_sum = {{(SUM_BITS - STATE_BITS){s_vlk[STATE_BITS-1]}}, s_vlk} + s_xb;
            wire h_hi = !h_sum[SUM_BITS-1] && (h_sum[SUM_BITS-2:MB-1] != {(SUM_BITS - MB){1'b0}});
            wire h_lo = h_sum[SUM_BITS-1] && (h_sum[SUM_BITS-2:MB-1] != {(SUM_BITS - MB){1'b1}});
            wire signed [MB-1:0] h = h_hi ? V_MAX : h_lo ? V_MIN : h_sum[MB-1:0];
            // d_k = H - threshold_k: its sign is the comparison, its value the subtract reset.
            wire [K-1:0] fired;
            wire [K*(MB+1)-1:0] d;
            genvar k;
            for (k = 0; k < K; k = k + 1) begin : cmp
                wire signed [MB-1:0] th = s_nw[MB*k +: MB];
                assign d[k*(MB+1) +: MB+1] = {h[MB-1], h} - {th[MB-1], th};
                assign fired[k] = !d[k*(MB+1) + MB];
            end
            if (IS_LIFB) begin : lifb
                // c = number of burst thresholds theta + (k-1)D that H reaches (a thermometer code).
                reg [COUNT_BITS-1:0] c;
                integer i;
                if (!SUBTRACT) begin : zero
                    always @(*) begin
                        c = {COUNT_BITS{1'b0}};
                        for (i = 0; i < K; i = i + 1)
                            if (fired[i]) c = c + 1'b1;
                    end
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [K*(MB+1)-1:0] d_unused = d;
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign v_upd = fired[0] ? $signed({STATE_BITS{1'b0}}) : h;
                end else begin : subtract
                    // subtract reset: H minus the highest threshold reached
                    reg signed [STATE_BITS-1:0] v_sub;
                    always @(*) begin
                        c = {COUNT_BITS{1'b0}};
                        v_sub = h;
                        for (i = 0; i < K; i = i + 1)
                            if (fired[i]) begin
                                c = c + 1'b1;
                                v_sub = d[i*(MB+1) +: STATE_BITS];
                            end
                    end
                    assign v_upd = v_sub;
                end
                assign fire_mask = s_ok && fired[0];
                assign count = c;
            end else begin : group
                /* verilator lint_off UNUSEDSIGNAL */
                wire [K*(MB+1)-1:0] d_unused = d;
                /* verilator lint_on UNUSEDSIGNAL */
                if (!SUBTRACT) begin : zero
                    assign v_upd = (|fired) ? $signed({STATE_BITS{1'b0}}) : h;
                end else if (RHO_PREFIX == 1) begin : subtract_prefix
                    // the fired sub-units are 0..c-1: subtract the prefix sum of the highest one
                    wire signed [STATE_BITS-1:0] h_x = {{(STATE_BITS - MB){h[MB-1]}}, h};
                    reg signed [STATE_BITS-1:0] v_sub;
                    integer i;
                    always @(*) begin
                        v_sub = h_x;
                        for (i = 0; i < K; i = i + 1)
                            if (fired[i]) v_sub = h_x - $signed({{(STATE_BITS - RHO_BITS){1'b0}}, s_nw[MB*K + RHO_BITS*i +: RHO_BITS]});
                    end
                    assign v_upd = v_sub;
                end else begin : subtract
                    // subtract the rho of every sub-unit that fired
                    reg [STATE_BITS-1:0] removed;
                    integer i;
                    always @(*) begin
                        removed = {STATE_BITS{1'b0}};
                        for (i = 0; i < K; i = i + 1)
                            if (fired[i]) removed = removed + {{(STATE_BITS - RHO_BITS){1'b0}}, s_nw[MB*K + RHO_BITS*i +: RHO_BITS]};
                    end
                    assign v_upd = {{(STATE_BITS - MB){h[MB-1]}}, h} - $signed(removed);
                end
                assign fire_mask = s_ok ? fired : {K{1'b0}};
                assign count = 1'b1;
            end
            assign v_next = v_upd;
        end
    endgenerate
endmodule
`default_nettype wire
