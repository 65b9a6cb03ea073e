// Plain Verilog testbench for a generated lifb_top, for Icarus Verilog (src/cosim/icarus.rs).
// It drives the design exactly as the Verilator harness (templates/harness.cpp) does: the same
// seeded xorshift generator decides the in_valid gaps, the out_ready stalls and the held last
// end-of-step beat, so both simulators see the same cycles. It writes the same text lines
// (`S`, `E`, `O`, `B`, `Q`, `C`, `D`, `X`, `T`; see src/cosim/mod.rs), plus
// `U cycle signal` when a signal it records is unknown (X or Z: Icarus starts every register at X).
//
// Generated data, from the run folder:
//   tb_dut.vh  port widths (IN_IW, IN_CW, OUT_IW, OUT_VW, CLW), NTAPS, NFIFOS and the DUT
//              instance, its taps packed into tap_valid/eos/busy (1 bit per tap) and
//              tap_index/count (32 bits per tap), tap_v (64 bits per tap)
//   stim.hex   64-bit words for $readmemh: samples, steps, max_cycles, seed, stall ppm, stall
//              burst, gap ppm, gap burst; per sample: beats, reset; per beat {eos, index[62:32],
//              value[31:0]}
// STIM_WORDS (the number of words in stim.hex) is set on the command line (-P).
`timescale 1ns / 1ps
`default_nettype none
module tb_lifb;
    parameter STIM_WORDS = 16;

    reg clk = 1'b0;
    reg rst = 1'b0;
    reg start = 1'b0;
    reg [15:0] steps_in = 16'd0;
    reg in_valid = 1'b0;
    reg in_eos = 1'b0;
    reg out_ready = 1'b1;

`include "tb_dut.vh"

    reg [63:0] stim [0:STIM_WORDS-1];
    integer sp;
    integer fd;

    // The harness's generator: xorshift64 (13, 7, 17).
    reg [63:0] rng;
    task rng_next;
        begin
            rng = rng ^ (rng << 13);
            rng = rng ^ (rng >> 7);
            rng = rng ^ (rng << 17);
        end
    endtask

    // Holder state (stall: out_ready low, gap: in_valid low).
    reg [31:0] stall_ppm, stall_max, stall_left;
    reg [31:0] gap_ppm, gap_max, gap_left;
    reg hold_r;
    reg [63:0] tmp;

    // chance(ppm) then upto(max) - 1, as Holder::hold; the generator runs only when ppm > 0
    // (and upto only when max > 1), as in the harness.
    task hold_stall;
        begin
            if (stall_left > 0) begin
                stall_left = stall_left - 1;
                hold_r = 1'b1;
            end else begin
                hold_r = 1'b0;
                if (stall_ppm > 0) begin
                    rng_next;
                    tmp = (rng >> 11) % 64'd1000000;
                    if (tmp < stall_ppm) begin
                        hold_r = 1'b1;
                        if (stall_max > 1) begin
                            rng_next;
                            stall_left = (rng >> 11) % stall_max;
                        end else begin
                            stall_left = 0;
                        end
                    end
                end
            end
        end
    endtask

    task hold_gap;
        begin
            if (gap_left > 0) begin
                gap_left = gap_left - 1;
                hold_r = 1'b1;
            end else begin
                hold_r = 1'b0;
                if (gap_ppm > 0) begin
                    rng_next;
                    tmp = (rng >> 11) % 64'd1000000;
                    if (tmp < gap_ppm) begin
                        hold_r = 1'b1;
                        if (gap_max > 1) begin
                            rng_next;
                            gap_left = (rng >> 11) % gap_max;
                        end else begin
                            gap_left = 0;
                        end
                    end
                end
            end
        end
    endtask

    // One clock edge: inputs were set while clk is low; #1 lets combinational logic settle.
    task rise;
        begin
            clk = 1'b1;
            #1;
            clk = 1'b0;
            #1;
        end
    endtask

    task do_reset;
        integer i;
        begin
            rst = 1'b1;
            start = 1'b0;
            in_valid = 1'b0;
            out_ready = 1'b1;
            #1;
            for (i = 0; i < 4; i = i + 1) rise;
            rst = 1'b0;
            #1;
            rise;
        end
    endtask

    integer samples, steps, s, b, k, nbeats, pos, out_step, finished, final_held;
    integer busy_n [0:TAPW-1];
    integer tap_step [0:TAPW-1];
    reg [63:0] busy [0:TAPW-1][0:65535];
    reg [63:0] fifo_full [0:FIFOW-1];
    reg [63:0] max_cycles, cycles, total_cycles, stall_cycles, blocked, gap_cycles, in_wait;
    reg [63:0] beat;
    reg gapped, stalled, done_now, pending, again, late_beat, unknown;
    reg [CLW-1:0] cls;
    integer t;

    initial begin
        $readmemh("stim.hex", stim);
        fd = $fopen("outputs.txt", "w");
        samples = stim[0];
        steps = stim[1];
        max_cycles = stim[2];
        rng = stim[3] * 64'h9E3779B97F4A7C15 + 64'h2545F4914F6CDD1D;
        if (rng == 64'd0) rng = 64'd1;
        stall_ppm = stim[4];
        stall_max = stim[5];
        gap_ppm = stim[6];
        gap_max = stim[7];
        stall_left = 0;
        gap_left = 0;
        sp = 8;
        total_cycles = 0;
        unknown = 1'b0;
        do_reset;
`ifdef LIFB_LOAD_PORT
        // weights in SPRAM (generate --spram): every "address data" line of the load file through
        // the load port, one a cycle, before the first sample
        ld_fd = $fopen(`LIFB_LOAD_PORT, "r");
        if (ld_fd == 0) begin
            $display("cannot open %s", `LIFB_LOAD_PORT);
            $finish;
        end
        while ($fscanf(ld_fd, "%h %h\n", ld_addr, ld_data) == 2) begin
            wl_valid = 1'b1;
            wl_addr = ld_addr;
            wl_data = ld_data;
            #1;
            rise;
        end
        wl_valid = 1'b0;
        $fclose(ld_fd);
`endif
        for (s = 0; s < samples && !unknown; s = s + 1) begin
            nbeats = stim[sp];
            if (stim[sp + 1] != 64'd0) do_reset;
            sp = sp + 2;
            $fwrite(fd, "S %0d\n", s);
            for (k = 0; k < TAPW; k = k + 1) begin
                busy_n[k] = 0;
                tap_step[k] = 0;
                busy[k][0] = 64'd0;
            end
            for (k = 0; k < FIFOW; k = k + 1) fifo_full[k] = 64'd0;
            stall_cycles = 0;
            blocked = 0;
            gap_cycles = 0;
            in_wait = 0;
            out_step = 0;
            out_ready = 1'b1;
            in_valid = 1'b0;
            start = 1'b1;
            steps_in = steps;
            #1;
            rise;
            start = 1'b0;
            cycles = 1;
            pos = 0;
            finished = 0;
            final_held = 0;
            while (cycles <= max_cycles && !finished && !unknown) begin
                gapped = 1'b0;
                if (pos < nbeats) begin
                    hold_gap;
                    gapped = hold_r;
                end
                if (gapped) gap_cycles = gap_cycles + 1;
                in_valid = (pos < nbeats) && !gapped;
                if (pos < nbeats) begin
                    beat = stim[sp + pos];
                    in_index = beat[62:32];
                    in_value = beat[31:0];
                    in_eos = beat[63];
                end
                #1;
                // With stalls on, the sample's last end-of-step beat is held, half of the time,
                // for 1..4x the longest burst: done must wait for it.
                if (stall_ppm > 0 && !final_held && out_valid === 1'b1 && out_eos === 1'b1
                    && out_step + 1 == steps) begin
                    final_held = 1;
                    rng_next;
                    if (rng[0]) begin
                        if (4 * stall_max > 1) begin
                            rng_next;
                            stall_left = stall_left + 1 + (rng >> 11) % (4 * stall_max);
                        end else begin
                            stall_left = stall_left + 1;
                        end
                    end
                end
                hold_stall;
                stalled = hold_r;
                if (stalled) stall_cycles = stall_cycles + 1;
                out_ready = !stalled;
                #1;
                if ((^{in_ready, out_valid, done, tap_valid, tap_eos, tap_busy}) === 1'bx) begin
                    $fwrite(fd, "U %0d handshake (in_ready, out_valid, done or a tap's valid, eos or busy)\n",
                            cycles);
                    unknown = 1'b1;
                end
                if (!unknown) begin
                    if (in_valid && !in_ready) in_wait = in_wait + 1;
                    if (out_valid && !out_ready) blocked = blocked + 1;
                    for (k = 0; k < NFIFOS; k = k + 1)
                        if (dut.cov_fifo_full[k] === 1'b1) fifo_full[k] = fifo_full[k] + 1;
                    if (in_valid && in_ready) pos = pos + 1;
                    for (k = 0; k < NTAPS; k = k + 1) begin
                        if (tap_busy[k]) busy[k][tap_step[k]] = busy[k][tap_step[k]] + 1;
                        if (tap_valid[k]) begin
                            if (tap_eos[k]) begin
                                tap_step[k] = tap_step[k] + 1;
                                if (tap_step[k] > busy_n[k] && tap_step[k] <= 65535) begin
                                    busy_n[k] = tap_step[k];
                                    busy[k][tap_step[k]] = 64'd0;
                                end
                            end else if ((^{tap_index[k*32 +: 32], tap_count[k*32 +: 32],
                                           tap_v[k*64 +: 64]}) === 1'bx) begin
                                $fwrite(fd, "U %0d tap %0d index, count or membrane\n", cycles, k);
                                unknown = 1'b1;
                            end else begin
                                $fwrite(fd, "E %0d %0d %0d %0d %0h\n", k, tap_step[k],
                                        tap_index[k*32 +: 32], tap_count[k*32 +: 32],
                                        tap_v[k*64 +: 64]);
                            end
                        end
                    end
                    if (out_valid && out_ready) begin
                        if (out_eos === 1'bx) begin
                            $fwrite(fd, "U %0d out_eos\n", cycles);
                            unknown = 1'b1;
                        end else if (out_eos) begin
                            out_step = out_step + 1;
                        end else if ((^{out_index, out_value}) === 1'bx) begin
                            $fwrite(fd, "U %0d out_index or out_value\n", cycles);
                            unknown = 1'b1;
                        end else begin
                            $fwrite(fd, "O %0d %0d %0h\n", out_step, out_index, out_value);
                        end
                    end
                end
                done_now = done;
                cls = class_out;
                pending = out_valid && !out_ready;
                rise;
                if (!unknown && done_now) begin
                    if ((^cls) === 1'bx) begin
                        $fwrite(fd, "U %0d class_out\n", cycles);
                        unknown = 1'b1;
                    end
                    // done is a one-cycle pulse: look at the next cycle (idle, output ready)
                    in_valid = 1'b0;
                    out_ready = 1'b1;
                    #1;
                    again = done === 1'b1;
                    late_beat = out_valid === 1'b1;
                    rise;
                    if (!unknown)
                        $fwrite(fd, "D %0d %0d %0d %0d %0d %0d %0d\n", cycles, cls, out_step,
                                pending, again, late_beat, pos);
                    finished = 1;
                end else begin
                    cycles = cycles + 1;
                end
            end
            for (k = 0; k < NTAPS; k = k + 1) begin
                for (t = 0; t <= busy_n[k]; t = t + 1)
                    $fwrite(fd, "B %0d %0d %0d\n", k, t, busy[k][t]);
                $fwrite(fd, "Q %0d %0d\n", k, tap_step[k]);
            end
            $fwrite(fd, "C %0d %0d %0d %0d", stall_cycles, blocked, gap_cycles, in_wait);
            for (k = 0; k < NFIFOS; k = k + 1) $fwrite(fd, " %0d", fifo_full[k]);
            $fwrite(fd, "\n");
            total_cycles = total_cycles + cycles;
            sp = sp + nbeats;
            if (!finished && !unknown) begin
                $fwrite(fd, "X %0d\n", cycles);
                s = samples;
            end
        end
        $fwrite(fd, "T %0d\n", total_cycles);
        $fclose(fd);
        $finish;
    end
endmodule
`default_nettype wire
