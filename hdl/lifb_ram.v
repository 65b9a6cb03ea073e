// A simple dual-port RAM with a registered read, the shape Yosys maps to block RAM on every FPGA
// (also where there is no distributed RAM, as on iCE40): q is mem[raddr] as it stands after the
// write of the cycle raddr is given in ("write first": a write to raddr in that cycle is seen,
// through a bypass register, since block RAM itself would return the old word). So a memory read
// asynchronously at address A in cycle k reads the same word as this one given A in cycle k - 1:
// the engines turn their state memories into block RAM by issuing each read a cycle ahead.
`default_nettype none
module lifb_ram #(
    parameter W  = 8,
    parameter D  = 2,
    parameter AW = 1
) (
    input  wire          clk,
    input  wire [AW-1:0] raddr,
    output wire [W-1:0]  q,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [W-1:0]  wdata
);
    reg [W-1:0] mem [0:D-1];
    reg [W-1:0] q_ram;
    reg [W-1:0] q_byp;
    reg         byp;
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        q_ram <= mem[raddr];
        byp <= we && (waddr == raddr);
        q_byp <= wdata;
    end
    assign q = byp ? q_byp : q_ram;
endmodule
`default_nettype wire
