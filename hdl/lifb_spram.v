// Weight memory in iCE40 UltraPlus single-port RAM (SB_SPRAM256KA: 16K words of 16 bits, four on
// a UP5K), for weights too large for its block RAM. A W-bit word is cut into SLICES columns of
// 16 bits and the words into BANKS rows of 16K; q is mem[addr] one cycle later, as lifb_rom.
// The blocks cannot be initialised by the bitstream: the load port writes slice ld_slice of word
// ld_row while ld_en is high (one 16-bit beat a cycle, the engine idle). A block has one port, so
// a load beat takes the address from the reader; a logic reset keeps the contents.
`default_nettype none
module lifb_spram #(
    parameter W      = 16,
    parameter D      = 2,
    parameter AW     = 1,
    parameter SLICES = 1,
    parameter BANKS  = 1
) (
    input  wire          clk,
    input  wire [AW-1:0] addr,
    output wire [W-1:0]  q,
    input  wire          ld_en,
    input  wire [AW-1:0] ld_row,
    input  wire [1:0]    ld_slice,
    input  wire [15:0]   ld_data
);
    localparam BANK_BITS = (BANKS > 1) ? AW - 14 : 1;
    generate
        if (SLICES * 16 < W || SLICES > 4 || BANKS * 16384 < D || D > (1 << AW)
            || (BANKS > 1 && AW <= 14) || (BANKS == 1 && AW > 14)) begin : bad_sizes
            lifb_spram_sizes_disagree_W_AW_SLICES_BANKS bad();
        end
    endgenerate
    wire [AW-1:0] a = ld_en ? ld_row : addr;
    wire [13:0] a_word;
    wire [BANK_BITS-1:0] a_bank;
    generate
        if (BANKS > 1) begin : banked
            assign a_word = a[13:0];
            assign a_bank = a[AW-1:14];
        end else if (AW == 14) begin : whole
            assign a_word = a;
            assign a_bank = 1'b0;
        end else begin : flat
            assign a_word = {{(14 - AW){1'b0}}, a};
            assign a_bank = 1'b0;
        end
    endgenerate
    // The bank read in the last cycle selects the output (the blocks' outputs are registered).
    reg [BANK_BITS-1:0] q_bank;
    always @(posedge clk) q_bank <= a_bank;
    wire [BANKS*SLICES*16-1:0] dout;
    genvar b, s;
    generate
        for (b = 0; b < BANKS; b = b + 1) begin : bank
            for (s = 0; s < SLICES; s = s + 1) begin : slice
                lifb_spram_block blk (
                    .clk(clk), .addr(a_word),
                    .we(ld_en && ld_slice == s && a_bank == b),
                    .din(ld_data), .dout(dout[(b * SLICES + s) * 16 +: 16]));
            end
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */
    wire [SLICES*16-1:0] row = dout[q_bank * SLICES * 16 +: SLICES * 16];
    /* verilator lint_on UNUSEDSIGNAL */
    assign q = row[W-1:0];
endmodule

/* verilator lint_off DECLFILENAME */
// One 16K x 16 block: the SB_SPRAM256KA primitive in synthesis (always selected and powered),
// its behaviour in simulation (read registered; a write cycle leaves the output as it was).
module lifb_spram_block (
    input  wire        clk,
    input  wire [13:0] addr,
    input  wire        we,
    input  wire [15:0] din,
    output wire [15:0] dout
);
`ifdef SYNTHESIS
    SB_SPRAM256KA ram (
        .ADDRESS(addr), .DATAIN(din), .MASKWREN(4'b1111), .WREN(we), .CHIPSELECT(1'b1),
        .CLOCK(clk), .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1), .DATAOUT(dout));
`else
    reg [15:0] mem [0:16383];
    reg [15:0] q;
    always @(posedge clk) begin
        if (we) mem[addr] <= din;
        else q <= mem[addr];
    end
    assign dout = q;
`endif
endmodule
/* verilator lint_on DECLFILENAME */
`default_nettype wire
