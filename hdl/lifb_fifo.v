// Synchronous first-word-fall-through FIFO: rd_data is valid whenever rd_valid is high.
// Depth is 2**AW words. Hand-written primitive shared by every generated design.
module lifb_fifo #(
    parameter W  = 8,
    parameter AW = 4
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         wr_valid,
    output wire         wr_ready,
    input  wire [W-1:0] wr_data,
    output wire         rd_valid,
    input  wire         rd_ready,
    output wire [W-1:0] rd_data
);
    reg [W-1:0] mem [0:(1<<AW)-1];
    reg [AW:0]  wptr;
    reg [AW:0]  rptr;
    // The flags are registers (no comparator between the pointers and the engines' handshakes),
    // computed from the next pointers, so each always equals its definition on the current ones:
    // empty = (wptr == rptr), full = same address, other wrap bit.
    reg         empty;
    reg         full;
    wire        do_wr = wr_valid && !full;
    wire        do_rd = rd_ready && !empty;
    // increment, then select: the handshakes are not the carry chain's input
    wire [AW:0] wptr_n = do_wr ? wptr + 1'b1 : wptr;
    wire [AW:0] rptr_n = do_rd ? rptr + 1'b1 : rptr;
    assign wr_ready = !full;
    assign rd_valid = !empty;
    assign rd_data  = mem[rptr[AW-1:0]];
    always @(posedge clk) begin
        if (rst) begin
            wptr <= {(AW+1){1'b0}};
            rptr <= {(AW+1){1'b0}};
            empty <= 1'b1;
            full <= 1'b0;
        end else begin
            if (do_wr) mem[wptr[AW-1:0]] <= wr_data;
            wptr <= wptr_n;
            rptr <= rptr_n;
            empty <= (wptr_n == rptr_n);
            full <= (wptr_n[AW-1:0] == rptr_n[AW-1:0]) && (wptr_n[AW] != rptr_n[AW]);
        end
    end
endmodule
