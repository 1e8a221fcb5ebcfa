#!/usr/bin/env bash
# probe-loss: probes over a real link that drops every 5th packet. Two network namespaces
# (lessons/lab/twohosts), nftables on the server's input. UDP must report exactly the
# loss the link made (4 of 20 probes, 20.0%); TCP must report none, because it
# retransmits (host a's TcpRetransSegs counts it).
set -euo pipefail

TEST=probe-loss
# shellcheck source=hosts.sh
source "$(dirname "$0")/hosts.sh"

# field JSON NAME: a number from the summary line
field() { jq -r "select(.event == \"summary\") | $2" <<<"$1"; }

"$twohosts" up --loss-every 5 --loss-proto all >/dev/null

port=$(serve "$udp" udp)
[[ -n $port ]] || fail "udp-echo server did not start in host b"
out=$("$twohosts" run a "$udp" client 10.77.0.2 -p "$port" -c 20 -i 0.02 -W 0.3 --json) || true
[[ $(field "$out" .transmitted) == 20 ]] || fail "udp: transmitted $(field "$out" .transmitted), expected 20"
[[ $(field "$out" .received) == 16 ]] || fail "udp: received $(field "$out" .received), expected 16"
[[ $(field "$out" .lost) == 4 ]] || fail "udp: lost $(field "$out" .lost), expected 4"
[[ $(field "$out" .loss_percent) == 20 ]] || fail "udp: loss $(field "$out" .loss_percent)%, expected 20"
timeouts=$(jq -r 'select(.event == "probe" and .status == "timeout") | .seq' <<<"$out" | tr '\n' ' ')
[[ $timeouts == "5 10 15 20 " ]] || fail "udp: timed out: $timeouts, expected 5 10 15 20"

port=$(serve "$tcp" tcp)
[[ -n $port ]] || fail "tcp-echo server did not start in host b"
# TCP's retransmissions, counted in host a (a namespace of this test's: nothing else there
# speaks TCP)
resent() { "$twohosts" run a nstat -asz TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2 }'; }
before=$(resent)
out=$("$twohosts" run a "$tcp" client 10.77.0.2 -p "$port" -c 20 -i 0.02 -W 5 --json) ||
    fail "tcp probe run failed: $out"
resent=$(($(resent) - before))
[[ $(field "$out" .received) == 20 ]] || fail "tcp: received $(field "$out" .received), expected 20"
[[ $(field "$out" .lost) == 0 ]] || fail "tcp: lost $(field "$out" .lost), expected 0"
# the probes the link dropped were sent again: the application lost nothing, TCP repaired it
((resent >= 1)) || fail "tcp: no segment resent, yet the link dropped every 5th packet"
max=$(field "$out" .rtt_ms.max)
echo "PASS probe-loss: udp lost 4 of 20 (20.0%), tcp lost 0 of 20 ($resent segments resent, slowest probe ${max} ms)"
