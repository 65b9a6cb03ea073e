// Priority encoder: idx is the position of the lowest set bit of req, any is high when one is set.
module lifb_prienc #(
    parameter W  = 8,
    parameter IW = 3
) (
    input  wire [W-1:0]  req,
    output reg  [IW-1:0] idx,
    output wire          any
);
    integer i;
    assign any = |req;
    always @(*) begin
        idx = {IW{1'b0}};
        for (i = W - 1; i >= 0; i = i - 1)
            if (req[i]) idx = i[IW-1:0];
    end
endmodule
