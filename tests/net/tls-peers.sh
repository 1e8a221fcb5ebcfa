#!/usr/bin/env bash
# tls-peers: tcp-echo --tls with real certificates and against real TLS peers, in a network
# namespace of this test's own. A CA made here signs a server certificate (for localhost and
# 127.0.0.1), one for another name, one that has expired, and a client's ("student-7"). The client checks the
# server by pin or by CA and name, and says which check failed; a server with --client-ca
# refuses a client without a certificate and names the one it lets in. openssl s_client and
# ncat --ssl talk to the server; the client talks to openssl s_server and ncat --ssl -l.
# DTLS: udp-echo's server with its own client and openssl s_client -dtls, its client with
# openssl s_server -dtls.
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest}

NAME=tls-peers
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"
udp=${UDP_ECHO:?set by ctest}

# expect_fail WHAT TEXT CMD...: CMD exits 1 with one line on stderr that holds TEXT
expect_fail() {
    local what=$1 text=$2 rc=0
    shift 2
    "$@" >out 2>err || rc=$?
    [[ $rc == 1 ]] || fail "$what: exit $rc, expected 1 ($(cat err))"
    [[ $(wc -l <err) == 1 ]] || fail "$what: expected one line, got: $(cat err)"
    grep -qF -- "$text" err || fail "$what: '$text' not in: $(cat err)"
}

# --- certificates: a CA, and what it signs -----------------------------------------------
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
sign() { # [DAYS=N] sign NAME SUBJECT [SAN]
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "${DAYS:-2}" \
        ${3:+-extfile <(printf 'subjectAltName=%s\n' "$3")} -out "$1.pem" 2>/dev/null
}
key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=socklab test CA" -days 2 -out ca.pem 2>/dev/null
sign srv localhost "DNS:localhost,IP:127.0.0.1"
sign other other.example "DNS:other.example"
sign student student-7
# good until the second it was made: expired a second later
DAYS=0 sign expired localhost "DNS:localhost,IP:127.0.0.1"

# --- a self-signed server: pinned, or not believed ----------------------------------------
serve "$tcp" self -v --tls
grep -q "(tcp, TLS, self-signed certificate SHA256:" self.out || fail "listening line: $(head -1 self.out)"
[[ $("$tcp" client --tls --fingerprint "$fp" -p "$port" -m pinned 127.0.0.1) == pinned ]] ||
    fail "the pinned client got no echo"
# the pin as sha256sum would print it: lower case, no colons
bare=$(echo "${fp#SHA256:}" | tr -d : | tr A-F a-f)
[[ $("$tcp" client --tls --fingerprint "$bare" -p "$port" -m bare 127.0.0.1) == bare ]] ||
    fail "a pin without colons was not taken"
expect_fail "a wrong pin" "not the one --fingerprint pins" \
    "$tcp" client --tls --fingerprint "SHA256:$(printf '00:%.0s' $(seq 31))00" -p "$port" -m x 127.0.0.1
# the client rejects the certificate with a bad_certificate alert, so the server can say why
wait_for self.out "^refused 127\.0\.0\.1:[0-9]*: TLS handshake: the client did not accept our certificate$"
expect_fail "no pin, no CA" "not signed by a CA you trust" "$tcp" client --tls -p "$port" -m x 127.0.0.1
expect_fail "a plain client" "it speaks TLS" "$tcp" client -p "$port" -m x 127.0.0.1
"$tcp" client --tls --insecure -p "$port" -m loud 127.0.0.1 >out 2>err
grep -q "warning: --insecure" err || fail "--insecure said nothing: $(cat err)"
[[ $(cat out) == loud ]] || fail "--insecure: no echo"

# --- a CA-signed server: the CA and the name are checked ----------------------------------
serve "$tcp" ca -v --tls --cert srv.pem --key srv.key
[[ $("$tcp" client --tls --ca ca.pem -p "$port" -m by-ca 127.0.0.1) == by-ca ]] ||
    fail "the CA's certificate for 127.0.0.1 was not believed"
[[ $("$tcp" client --tls --ca ca.pem -4 -p "$port" -m by-name localhost) == by-name ]] ||
    fail "the CA's certificate for localhost was not believed"
expect_fail "a pin given to a CA-signed server" "not the one --fingerprint pins" \
    "$tcp" client --tls --fingerprint "$bare" -p "$port" -m x 127.0.0.1
serve "$tcp" other -v --tls --cert other.pem --key other.key
expect_fail "another name" "for another name" "$tcp" client --tls --ca ca.pem -p "$port" -m x 127.0.0.1
serve "$tcp" expired -v --tls --cert expired.pem --key expired.key
sleep 1.1
expect_fail "an expired certificate" "its certificate has expired" \
    "$tcp" client --tls --ca ca.pem -p "$port" -m x 127.0.0.1

# --- client certificates: --client-ca refuses a client without one -------------------------
serve "$tcp" students -v --tls --cert srv.pem --key srv.key --client-ca ca.pem
grep -q "client certificates required" students.out || fail "listening line: $(head -1 students.out)"
[[ $("$tcp" client --tls --ca ca.pem --client-cert student.pem --client-key student.key \
    -p "$port" -m me 127.0.0.1) == me ]] || fail "student-7 was not served"
expect_fail "no client certificate" "client certificate" \
    "$tcp" client --tls --ca ca.pem -p "$port" -m x 127.0.0.1
sleep 0.2
grep -q "^secured 127.0.0.1:[0-9]*: TLS 1.3, .*: student-7$" students.out ||
    fail "the server did not name student-7: $(cat students.out)"
grep -q "^refused 127.0.0.1:[0-9]*: TLS handshake: the client sent no certificate" students.out ||
    fail "the refusal was not noticed: $(cat students.out)"
# DTLS likewise; DTLS 1.2 refuses with a bare handshake_failure, which the client explains
# from the CertificateRequest it had been sent; a pinned client is refused for the missing
# certificate, not for a server certificate OpenSSL alone would not believe
serve "$udp" dstudents -v --tls --cert srv.pem --key srv.key --client-ca ca.pem
[[ $("$udp" client --tls --ca ca.pem --client-cert student.pem --client-key student.key \
    -p "$port" -m me 127.0.0.1) == me ]] || fail "DTLS: student-7 was not served"
expect_fail "DTLS: no client certificate" "the server wants a client certificate (give one with" \
    "$udp" client --tls --ca ca.pem -p "$port" -m x 127.0.0.1
expect_fail "DTLS: no client certificate, pinned" "the server wants a client certificate (give" \
    "$udp" client --tls --fingerprint "$fp" -p "$port" -m x 127.0.0.1
sleep 0.2
grep -q "^secured 127.0.0.1:[0-9]*: DTLS 1.2, .*: student-7$" dstudents.out ||
    fail "DTLS: the server did not name student-7: $(cat dstudents.out)"
[[ $(grep -c "^refused 127.0.0.1:[0-9]*: DTLS handshake: the client sent no certificate$" dstudents.out) == 2 ]] ||
    fail "DTLS: the refusals were not noticed: $(cat dstudents.out)"

# --- other peers: openssl s_client and ncat against the server -----------------------------
# s_client does not half-close: the server ends the connection once it has been idle a second
serve "$tcp" peers -v --tls --cert srv.pem --key srv.key --idle-timeout 1
out=$(printf 'from openssl\n' | timeout 20 openssl s_client -connect "127.0.0.1:$port" -CAfile ca.pem \
    -verify_return_error -brief -ign_eof 2>s_client.err) || fail "s_client: $(cat s_client.err)"
[[ $out == "from openssl" ]] || fail "s_client got '$out'"
grep -q "Protocol version: TLSv1.3" s_client.err || fail "s_client: not TLS 1.3: $(cat s_client.err)"
out=$(printf 'from ncat\n' | timeout 10 ncat -4 --ssl --ssl-verify --ssl-trustfile ca.pem localhost "$port") ||
    fail "ncat --ssl failed"
[[ $out == "from ncat" ]] || fail "ncat --ssl got '$out'"

# --- and the client against openssl s_server and ncat --ssl -l -----------------------------
# s_server -rev answers each line reversed
openssl s_server -accept 127.0.0.1:7443 -cert srv.pem -key srv.key -rev -quiet >s_server.out 2>&1 &
pids+=($!)
for _ in $(seq 100); do ss -ltn | grep -q ':7443 ' && break; sleep 0.05; done
out=$("$tcp" client --tls --ca ca.pem -p 7443 -W 5 -m $'hello\n' 127.0.0.1 2>client.err || true)
[[ $out == olleh* ]] || fail "s_server -rev: got '$out' ($(cat client.err))"
ncat --ssl -l 127.0.0.1 7444 --ssl-cert srv.pem --ssl-key srv.key -e /bin/cat >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do ss -ltn | grep -q ':7444 ' && break; sleep 0.05; done
# probes: ncat ends its side as soon as ours is closed, before cat's echo of a -m message
"$tcp" client --tls --ca ca.pem -p 7444 -c 3 -i 0.05 127.0.0.1 >out 2>&1 ||
    fail "probes to ncat --ssl -l: $(cat out)"
grep -q "^3 sent, 3 received, 0 lost" out || fail "probes to ncat --ssl -l: $(cat out)"
# DTLS: udp-echo's client against openssl s_server -dtls, which sends a line of its own once
# a client is in, and prints what the client sent
(printf 'from s_server\n'; sleep 15) | timeout 20 openssl s_server -dtls -accept 127.0.0.1:7446 \
    -cert srv.pem -key srv.key -quiet >dtls_server.out 2>&1 &
pids+=($!)
for _ in $(seq 100); do ss -lun | grep -q ':7446 ' && break; sleep 0.05; done
out=$("$udp" client --tls --ca ca.pem -p 7446 -W 10 -v -m "from udp-echo" 127.0.0.1 2>client.err) ||
    fail "udp-echo --tls against s_server -dtls: $(cat client.err)"
grep -q "^secured 127.0.0.1:7446: DTLS 1.2, " <<<"$out" || fail "DTLS: not secured: $out"
grep -q "^from s_server$" <<<"$out" || fail "DTLS: s_server's line did not arrive: $out"
wait_for dtls_server.out "from udp-echo"

# DTLS: udp-echo's server, with udp-echo's client pinned, and with openssl s_client -dtls
serve "$udp" dtls -v --tls
grep -q "(udp, DTLS, self-signed certificate SHA256:" dtls.out || fail "listening line: $(head -1 dtls.out)"
[[ $("$udp" client --tls --fingerprint "$fp" -p "$port" -m "over dtls" 127.0.0.1) == "over dtls" ]] ||
    fail "udp-echo --tls: no echo from its own server"
"$udp" client --tls --fingerprint "$fp" -p "$port" -c 20 -i 0.01 127.0.0.1 >out 2>&1 ||
    fail "DTLS probes: $(cat out)"
grep -q "^20 sent, 20 received, 0 lost" out || fail "DTLS probes: $(cat out)"
expect_fail "DTLS: a wrong pin" "not the one --fingerprint pins" \
    "$udp" client --tls --fingerprint "$bare" -p "$port" -m x 127.0.0.1
out=$( (printf 'from s_client -dtls\n'; sleep 3) | timeout 6 openssl s_client -dtls \
    -connect "127.0.0.1:$port" -quiet 2>dtls_client.err || true)
[[ $out == "from s_client -dtls" ]] || fail "s_client -dtls got '$out': $(cat dtls_client.err)"
# a plain datagram is no ClientHello: the DTLS server answers nothing, keeps nothing
rc=0
"$udp" client -p "$port" -W 0.5 -m plain 127.0.0.1 >out 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q "no reply" out || fail "a plain datagram to a DTLS server: $(cat out)"

# the cost of setting up (--connect-each): a new connection or socket, and session, per
# probe, timed apart; --resume offers the last session, and every one after the first is
# resumed
"$udp" client --tls --fingerprint "$fp" -p "$port" --connect-each --resume -c 4 -i 0 127.0.0.1 >out 2>&1 ||
    fail "DTLS --connect-each: $(cat out)"
[[ $(grep -c '^seq=[2-4] connect=[0-9.]* ms handshake=[0-9.]* ms (resumed) rtt=[0-9.]* ms$' out) == 3 ]] ||
    fail "DTLS --connect-each --resume: $(cat out)"
grep -q "^4 probes, 4 answered, 3 sessions resumed$" out || fail "DTLS --connect-each: $(cat out)"
# --once: the server ends once it has echoed one message, not once a handshake is done
serve "$udp" dtls-once --tls --once
[[ $("$udp" client --tls --fingerprint "$fp" -p "$port" -m "just once" 127.0.0.1) == "just once" ]] ||
    fail "DTLS --once: the message did not come back: $(cat dtls-once.out)"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
grep -q "^summary: 1 peers, 1 datagrams received, 1 sent, 9 bytes in" dtls-once.out ||
    fail "DTLS --once: $(cat dtls-once.out)"
serve "$tcp" crr -v --tls
"$tcp" client --tls --fingerprint "$fp" -p "$port" --connect-each -c 4 -i 0 --json 127.0.0.1 >out 2>&1 ||
    fail "TLS --connect-each: $(cat out)"
[[ $(jq -s '[.[] | select(.event == "setup" and .handshake_ms > 0 and .resumed == false)] | length' out) == 4 ]] ||
    fail "TLS --connect-each: 4 full handshakes expected: $(cat out)"
[[ $(jq -s '.[-1] | [.probes, .answered, .resumed, (.setup_share_pct > 0)] | join(" ")' -r out) == "4 4 0 true" ]] ||
    fail "TLS --connect-each summary: $(tail -1 out)"
rc=0
"$tcp" client --tls --resume -p "$port" 127.0.0.1 2>err || rc=$?
[[ $rc == 2 ]] && grep -q "needs --tls and --connect-each" err || fail "--resume alone: exit $rc: $(cat err)"

serve "$tcp" plain -v
"$tcp" client -p "$port" --connect-each -c 3 -i 0 127.0.0.1 >out 2>&1 || fail "TCP --connect-each: $(cat out)"
[[ $(grep -c '^seq=[1-3] connect=[0-9.]* ms rtt=[0-9.]* ms$' out) == 3 ]] || fail "TCP --connect-each: $(cat out)"
expect_fail "TLS against a plain echo server" "plain echo server" \
    "$tcp" client --tls --ca ca.pem -p "$port" -m x 127.0.0.1
# a DTLS peer that dies without close_notify, then a new one on the same port: served, after
# a cookie exchange, in place of the old session (RFC 6347, 4.2.8); socat can choose its port
serve "$udp" drestart -v --tls
for word in first second; do
    out=$( (echo "$word"; sleep 3) | timeout -s KILL 2 socat - \
        "OPENSSL-DTLS-CLIENT:127.0.0.1:$port,sourceport=40123,verify=0" 2>/dev/null || true)
    [[ $out == "$word" ]] || fail "DTLS, a client again on port 40123: '$word' came back as '$out'"
done
[[ $(grep -c "^secured 127.0.0.1:40123: DTLS 1.2, " drestart.out) == 2 ]] ||
    fail "DTLS, a client again on its port: $(cat drestart.out)"

# a server that says nothing: the handshake ends at -W, not never, and says what was heard
socat TCP-LISTEN:7445,bind=127.0.0.1,reuseaddr SYSTEM:'sleep 20' >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do ss -ltn | grep -q ':7445 ' && break; sleep 0.05; done
start=$SECONDS
expect_fail "TLS: a silent server" "no answer within 1 s (the server took the connection but said nothing" \
    timeout 20 "$tcp" client --tls --ca ca.pem -p 7445 -W 1 -m x 127.0.0.1
((SECONDS - start <= 5)) || fail "TLS: a silent server held the client $((SECONDS - start)) s"
# --allow drops a DTLS client's datagrams before any handshake: it hears nothing
serve "$udp" dallow -v --tls --allow 10.0.0.0/8
expect_fail "DTLS: a server whose --allow leaves us out" "no answer within 1 s (UDP hears nothing" \
    timeout 20 "$udp" client --tls --fingerprint "$fp" -p "$port" -W 1 -m x 127.0.0.1
grep -q "^refused 127.0.0.1:[0-9]*: not in --allow$" dallow.out || fail "DTLS --allow: $(cat dallow.out)"
! grep -q "^first datagram" dallow.out || fail "DTLS --allow: an outsider got a session: $(cat dallow.out)"
stop_servers
echo "PASS tls-peers"
