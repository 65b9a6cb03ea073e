// Read-only memory with a registered read port, initialised from a $readmemh file: the shape
// Yosys infers as block RAM on iCE40 and ECP5. D words of W bits; q is mem[addr] one cycle later.
// BLOCK = 1 asks for block RAM even where Yosys would build a shallow, wide ROM from logic.
module lifb_rom #(
    parameter W     = 8,
    parameter D     = 2,
    parameter AW    = 1,
    parameter FILE  = "",
    parameter BLOCK = 0
) (
    input  wire          clk,
    input  wire [AW-1:0] addr,
    output reg  [W-1:0]  q
);
    // Guarded so that reading this file alone (default parameters) opens no file.
    generate
        if (BLOCK != 0) begin : blk
            (* rom_style = "block", ram_style = "block" *) reg [W-1:0] mem [0:D-1];
            if (FILE != "") begin : load
                initial $readmemh(FILE, mem);
            end
            always @(posedge clk) q <= mem[addr];
        end else begin : any
            reg [W-1:0] mem [0:D-1];
            if (FILE != "") begin : load
                initial $readmemh(FILE, mem);
            end
            always @(posedge clk) q <= mem[addr];
        end
    endgenerate
endmodule
