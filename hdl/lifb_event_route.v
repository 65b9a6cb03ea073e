// Event routing: decode the flat CHW index of an arriving event into (channel, row, column) of
// the source map, fold a non-overlapping sum pool (window PY x PX, stride = window) by mapping
// the event to its pooled coordinate, and give the pooled map's flat index too. One register
// stage (a pipeline register with a combinational ready: one event per cycle).
//
// No divider: every division is an exact reciprocal multiplication q = (i * M) >> S, with M and
// S chosen by the generator (src/codegen/conv.rs, `reciprocal`) and checked there for every
// index below the bound. Events in the rows and columns beyond the last whole pool window
// (y / PY >= HP or x / PX >= WP) are consumed and dropped, as the pool drops them. End-of-step
// beats pass through.
`default_nettype none
module lifb_event_route #(
    parameter IN_BITS    = 8,     // source flat index
    parameter COUNT_BITS = 1,
    parameter WIDE       = 32,    // width of every product and intermediate
    parameter C_BITS     = 1,     // channel of the map (source and pooled)
    parameter Y_BITS     = 1,     // pooled row
    parameter X_BITS     = 1,     // pooled column
    parameter OUT_BITS   = 8,     // pooled flat index
    parameter SRC_HW     = 1,     // source rows * columns
    parameter SRC_W      = 1,     // source columns
    parameter M_HW = 1, parameter S_HW = 0,   // / SRC_HW
    parameter M_W  = 1, parameter S_W  = 0,   // / SRC_W
    parameter M_PY = 1, parameter S_PY = 0,   // / PY
    parameter M_PX = 1, parameter S_PX = 0,   // / PX
    parameter HP = 1,                         // pooled rows, columns
    parameter WP = 1
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  in_valid,
    output wire                  in_ready,
    input  wire                  in_eos,
    input  wire [IN_BITS-1:0]    in_index,
    input  wire [COUNT_BITS-1:0] in_count,
    output reg                   out_valid,
    input  wire                  out_ready,
    output reg                   out_eos,
    output reg  [C_BITS-1:0]     out_c,
    output reg  [Y_BITS-1:0]     out_y,
    output reg  [X_BITS-1:0]     out_x,
    output reg  [OUT_BITS-1:0]   out_index,
    output reg  [COUNT_BITS-1:0] out_count
);
    generate
        if (IN_BITS > WIDE || OUT_BITS > WIDE || C_BITS > WIDE || Y_BITS > WIDE || X_BITS > WIDE
            || WIDE > 64) begin : bad_widths
            lifb_event_route_WIDE_must_hold_every_field_and_be_at_most_64 bad();
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */
    wire [WIDE-1:0] i  = {{(WIDE - IN_BITS){1'b0}}, in_index};
    wire [WIDE-1:0] c  = (i * M_HW) >> S_HW;
    wire [WIDE-1:0] r  = i - c * SRC_HW;
    wire [WIDE-1:0] y  = (r * M_W) >> S_W;
    wire [WIDE-1:0] x  = r - y * SRC_W;
    wire [WIDE-1:0] yp = (y * M_PY) >> S_PY;
    wire [WIDE-1:0] xp = (x * M_PX) >> S_PX;
    wire [WIDE-1:0] flat = (c * HP + yp) * WP + xp;
    /* verilator lint_on UNUSEDSIGNAL */
    wire keep = (yp < HP) && (xp < WP);
    assign in_ready = !out_valid || out_ready;
    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            out_eos <= 1'b0;
            out_c <= {C_BITS{1'b0}};
            out_y <= {Y_BITS{1'b0}};
            out_x <= {X_BITS{1'b0}};
            out_index <= {OUT_BITS{1'b0}};
            out_count <= {COUNT_BITS{1'b0}};
        end else if (in_ready) begin
            out_valid <= in_valid && (in_eos || keep);
            out_eos <= in_eos;
            out_c <= c[C_BITS-1:0];
            out_y <= yp[Y_BITS-1:0];
            out_x <= xp[X_BITS-1:0];
            out_index <= flat[OUT_BITS-1:0];
            out_count <= in_count;
        end
    end
endmodule
`default_nettype wire
