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
    wire        empty = (wptr == rptr);
    wire        full  = (wptr[AW-1:0] == rptr[AW-1:0]) && (wptr[AW] != rptr[AW]);
    assign wr_ready = !full;
    assign rd_valid = !empty;
    assign rd_data  = mem[rptr[AW-1:0]];
    always @(posedge clk) begin
        if (rst) begin
            wptr <= {(AW+1){1'b0}};
            rptr <= {(AW+1){1'b0}};
        end else begin
            if (wr_valid && !full) begin
                mem[wptr[AW-1:0]] <= wr_data;
                wptr <= wptr + 1'b1;
            end
            if (rd_ready && !empty) rptr <= rptr + 1'b1;
        end
    end
endmodule
