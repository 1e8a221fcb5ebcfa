# rtt-cdf.gp - the distribution of round-trip times of two probe runs, as one PNG.
#
#   gnuplot -e "tcp='tcp.csv'; udp='udp.csv'; out='rtt.png'" rtt-cdf.gp
#
# The inputs are the --csv files of "tcp-echo client -c N" and "udp-echo client -c N"
# (seq,size,sent_ms,rtt_ms,status). Each probe sent has one row with status ok (answered in
# time) or timeout (not); dup and late rows are extra replies and do not count as probes.
# Each curve is cumulative over the probes SENT: at an RTT on the x axis, the fraction of
# all probes sent that were answered at least that fast. A lost probe has no RTT, so a run
# that lost 20% of its probes stops at 0.8. For each curve one line on stderr says where it
# ends. Optional: -e "label='...'" adds a line to the title.

if (!exists("tcp") || !exists("udp") || !exists("out")) {
    print "usage: gnuplot -e \"tcp='tcp.csv'; udp='udp.csv'; out='rtt.png'\" rtt-cdf.gp"
    exit status 2
}
if (!exists("label")) label = ""

set datafile separator ','
sent(x) = strcol(5) eq 'ok' || strcol(5) eq 'timeout' ? 1 : 0
answered(x) = strcol(5) eq 'ok' ? 1 : 0
# *_sum_x: probes sent, *_sum_y: probes answered in time
stats tcp every ::1 using (sent(0)):(answered(0)) name 'T' nooutput
stats udp every ::1 using (sent(0)):(answered(0)) name 'U' nooutput
if (!exists("T_sum_x") || !exists("U_sum_x") || T_sum_x < 1 || U_sum_x < 1) {
    print "rtt-cdf.gp: a CSV file has no probe rows"
    exit status 1
}
ends(name, n, ok) = sprintf("%s: %d probes sent, %d answered: its curve ends at %.3f", \
    name, n, ok, ok / n)
print ends('TCP', T_sum_x, T_sum_y)
print ends('UDP', U_sum_x, U_sum_y)
# the slowest answer of each run (1 ms when none came back)
T_last = 1
U_last = 1
if (T_sum_y > 0) { stats tcp every ::1 using (strcol(5) eq 'ok' ? column(4) : 1/0) name 'TR' nooutput; T_last = TR_max }
if (U_sum_y > 0) { stats udp every ::1 using (strcol(5) eq 'ok' ? column(4) : 1/0) name 'UR' nooutput; U_last = UR_max }

set terminal png size 800,500
set output out
set title "Round-trip time, TCP against UDP".(label eq "" ? "" : "\n".label)
set logscale x 10
set xlabel 'round-trip time (ms, log scale)'
set ylabel 'fraction of probes sent answered this fast or faster'
set yrange [0:1.02]
set key bottom right
set grid
# Every answered probe adds 1/(probes sent) at its RTT, so a curve ends at answered/sent, not
# at 1. The other rows add 0 where the curve ends anyway (an undefined x would cut the curve
# in pieces, each summed on its own).
x(last) = strcol(5) eq 'ok' ? column(4) : last
y(n) = strcol(5) eq 'ok' ? 1.0 / n : 0
plot tcp every ::1 using (x(T_last)):(y(T_sum_x)) smooth cumulative with steps lw 2 \
         title sprintf('TCP: %d of %d answered', T_sum_y, T_sum_x), \
     udp every ::1 using (x(U_last)):(y(U_sum_x)) smooth cumulative with steps lw 2 \
         title sprintf('UDP: %d of %d answered', U_sum_y, U_sum_x)
