// Read-only memory with a registered read port, initialised from a $readmemh file: the shape
// Yosys infers as block RAM on iCE40 and ECP5. D words of W bits; q is mem[addr] one cycle later.
module lifb_rom #(
    parameter W    = 8,
    parameter D    = 2,
    parameter AW   = 1,
    parameter FILE = ""
) (
    input  wire          clk,
    input  wire [AW-1:0] addr,
    output reg  [W-1:0]  q
);
    reg [W-1:0] mem [0:D-1];
    // Guarded so that reading this file alone (default parameters) opens no file.
    generate
        if (FILE != "") begin : load
            initial $readmemh(FILE, mem);
        end
    endgenerate
    always @(posedge clk) q <= mem[addr];
endmodule
