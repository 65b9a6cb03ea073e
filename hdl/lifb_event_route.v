// Event routing: decode the flat CHW index of an arriving event into (channel, row, column) of
// the source map, fold a non-overlapping sum pool (window PY x PX, stride = window) by mapping
// the event to its pooled coordinate, and give the pooled map's flat index too. Three pipeline
// stages (one event per cycle, three cycles of latency; each stage takes a new beat when it is
// empty or the stage after it moves), at most two dependent constant multiplies in each:
// 1. channel c = i / (H*W) and the rest r; 2. row y = r / W and column x; 3. the pooled row and
// column, the pooled flat index and whether the pool keeps the event. The cycle model counts the
// latency (src/cosim/cycles.rs, `ROUTE_STAGES`).
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
    // stage 1: channel and rest
    wire [WIDE-1:0] i  = {{(WIDE - IN_BITS){1'b0}}, in_index};
    wire [WIDE-1:0] c  = (i * M_HW) >> S_HW;
    wire [WIDE-1:0] r  = i - c * SRC_HW;
    reg                  s1_valid, s1_eos;
    reg [COUNT_BITS-1:0] s1_count;
    reg [WIDE-1:0]       s1_c, s1_r;
    // stage 2: row and column of the source map
    wire [WIDE-1:0] y  = (s1_r * M_W) >> S_W;
    wire [WIDE-1:0] x  = s1_r - y * SRC_W;
    reg                  s2_valid, s2_eos;
    reg [COUNT_BITS-1:0] s2_count;
    reg [WIDE-1:0]       s2_c, s2_y, s2_x;
    // stage 3: pooled coordinates, pooled flat index, keep
    wire [WIDE-1:0] yp = (s2_y * M_PY) >> S_PY;
    wire [WIDE-1:0] xp = (s2_x * M_PX) >> S_PX;
    wire [WIDE-1:0] flat = (s2_c * HP + yp) * WP + xp;
    /* verilator lint_on UNUSEDSIGNAL */
    wire keep = (yp < HP) && (xp < WP);
    wire move3 = !out_valid || out_ready;
    wire move2 = !s2_valid || move3;
    wire move1 = !s1_valid || move2;
    assign in_ready = move1;
    always @(posedge clk) begin
        if (rst) begin
            s1_valid <= 1'b0;
            s2_valid <= 1'b0;
            out_valid <= 1'b0;
            s1_eos <= 1'b0;
            s2_eos <= 1'b0;
            out_eos <= 1'b0;
            s1_count <= {COUNT_BITS{1'b0}};
            s2_count <= {COUNT_BITS{1'b0}};
            s1_c <= {WIDE{1'b0}};
            s1_r <= {WIDE{1'b0}};
            s2_c <= {WIDE{1'b0}};
            s2_y <= {WIDE{1'b0}};
            s2_x <= {WIDE{1'b0}};
            out_c <= {C_BITS{1'b0}};
            out_y <= {Y_BITS{1'b0}};
            out_x <= {X_BITS{1'b0}};
            out_index <= {OUT_BITS{1'b0}};
            out_count <= {COUNT_BITS{1'b0}};
        end else begin
            if (move1) begin
                s1_valid <= in_valid;
                s1_eos <= in_eos;
                s1_count <= in_count;
                s1_c <= c;
                s1_r <= r;
            end
            if (move2) begin
                s2_valid <= s1_valid;
                s2_eos <= s1_eos;
                s2_count <= s1_count;
                s2_c <= s1_c;
                s2_y <= y;
                s2_x <= x;
            end
            if (move3) begin
                out_valid <= s2_valid && (s2_eos || keep);
                out_eos <= s2_eos;
                out_c <= s2_c[C_BITS-1:0];
                out_y <= yp[Y_BITS-1:0];
                out_x <= xp[X_BITS-1:0];
                out_index <= flat[OUT_BITS-1:0];
                out_count <= s2_count;
            end
        end
    end
endmodule
`default_nettype wire
