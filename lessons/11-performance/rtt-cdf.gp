# rtt-cdf.gp - the distribution of round-trip times of two probe runs, as one PNG.
#
#   gnuplot -e "tcp='tcp.csv'; udp='udp.csv'; out='rtt.png'" rtt-cdf.gp
#
# The inputs are the --csv files of "tcp-echo client -c N" and "udp-echo client -c N"
# (seq,size,sent_ms,rtt_ms,status). Only answered probes (status ok) are drawn. Each curve
# is cumulative: at an RTT on the x axis, the fraction of probes that were at least as fast.
# Optional: -e "label='...'" adds a line to the title.

if (!exists("tcp") || !exists("udp") || !exists("out")) {
    print "usage: gnuplot -e \"tcp='tcp.csv'; udp='udp.csv'; out='rtt.png'\" rtt-cdf.gp"
    exit status 2
}
if (!exists("label")) label = ""

set datafile separator ','
set terminal png size 800,500
set output out
set title "Round-trip time, TCP against UDP".(label eq "" ? "" : "\n".label)
set logscale x 10
set xlabel 'round-trip time (ms, log scale)'
set ylabel 'fraction of probes answered this fast or faster'
set yrange [0:1.02]
set key bottom right
set grid
ok(c) = strcol(5) eq 'ok' ? column(c) : 1/0
plot tcp every ::1 using (ok(4)):(1.0) smooth cnormal with steps lw 2 title 'TCP', \
     udp every ::1 using (ok(4)):(1.0) smooth cnormal with steps lw 2 title 'UDP'
