#!/usr/bin/env bash
# ladder-browser: every lesson's ladder.html in a real browser (headless Chromium, from a
# file URL, nothing fetched). Each page, once its script has run: one arrow per packet
# tshark counts in the capture (up to the 200 drawn), every arrow labelled, the packet named
# in the address shown in the detail panel, and not a single console message; the
# capstone's and lesson 15's HTML reports with their tables, plots and ladder as the browser
# builds them; a screenshot of lesson 03's page at a fixed size that is not blank.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
ladder_test browser NO_LADDER
browser=$(command -v chromium || true)
[[ -n $browser ]] || { echo "FAIL ladder-browser: no chromium (Debian: apt-get install chromium)" >&2; exit 1; }

# chromium ARGS... URL: headless, a profile of its own, console messages on stderr
chromium_run() {
    timeout 120 "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 "$@"
}

# the arrows of the page as the browser built them: "ID|LABEL" per element of class pkt,
# then the detail panel's first line
read_dom() {
    python3 -c '
import sys
from html.parser import HTMLParser

class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.arrows, self.detail, self.in_detail = [], "", False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "pkt" in (a.get("class") or "").split():
            self.arrows.append((a.get("id", ""), a.get("data-label", "")))
        self.in_detail = a.get("id") == "detail"
    def handle_endtag(self, tag):
        self.in_detail = False
    def handle_data(self, data):
        if self.in_detail:
            self.detail += data

p = Page()
p.feed(sys.stdin.read())
for i, label in p.arrows:
    print(f"{i}|{label}")
print("detail|" + p.detail.split("\n")[0])
'
}

# drawn CAPTURE FILTER: the packets tshark finds, as many as ladder draws (200)
drawn() {
    local n
    n=$(tshark -r "$1" -Y "$2" 2>/dev/null | wc -l)
    echo $((n < 200 ? n : 200))
}

pages=0
for html in "$lessons"/[0-9]*/ladder.html; do
    lesson=$(basename "$(dirname "$html")")
    cap=$(dirname "$html")/reference.pcapng
    # up to 200 arrows a side: a page drawn --apart has a TCP side and a UDP side (an ICMP
    # error goes with what it quotes, and tshark's tcp and udp match the quoted header too)
    if grep -q '>UDP: reference.pcapng<' "$html"; then
        want=$(($(drawn "$cap" tcp) + $(drawn "$cap" udp)))
    else
        want=$(drawn "$cap" 'tcp || udp || icmp || icmpv6')
    fi
    # the address names the capture's first drawn packet; the script must show it
    first=$(grep -o -m1 'class="pkt [a-z]*" id="c[01]-f[0-9]*"' "$html" | sed -n '1s/.*id="\(.*\)"/\1/p')
    chromium_run --dump-dom "file://$html#$first" >"$tmp/$lesson.dom" 2>"$tmp/$lesson.err" ||
        fail "$lesson: chromium exited $?: $(tail -3 "$tmp/$lesson.err")"
    read_dom <"$tmp/$lesson.dom" >"$tmp/$lesson.arrows"
    got=$(grep -vc '^detail|' "$tmp/$lesson.arrows" || true)
    [[ $got == "$want" ]] || fail "$lesson: $got arrows in the page as rendered, tshark counts $want"
    unlabelled=$(grep -v '^detail|' "$tmp/$lesson.arrows" | grep -c '|$' || true)
    [[ $unlabelled == 0 ]] || fail "$lesson: $unlabelled arrows without a label"
    frame=${first#*-f}
    grep -q "^detail|frame $frame of reference.pcapng, " "$tmp/$lesson.arrows" ||
        fail "$lesson: #$first did not show its packet: $(grep '^detail|' "$tmp/$lesson.arrows")"
    if grep -q ':CONSOLE' "$tmp/$lesson.err"; then
        fail "$lesson: console messages: $(grep ':CONSOLE' "$tmp/$lesson.err" | head -3)"
    fi
    pages=$((pages + 1))
done
((pages >= 15)) || fail "only $pages lesson pages with a ladder.html"

# the reports as pages: the capstone's (tables, plot, the probes' ladder) and lesson 15's
# stream report (table, plots); as rendered, what the Markdown beside them holds
report_page() { # report_page HTML TABLES IMAGES ARROWS
    local html=$1 name
    name=$(basename "$(dirname "$html")")-$(basename "$html" .html)
    chromium_run --dump-dom "file://$html" >"$tmp/$name.dom" 2>"$tmp/$name.err" ||
        fail "$name: chromium exited $?"
    read -r tables images arrows < <(python3 -c '
import sys
from html.parser import HTMLParser
class Count(HTMLParser):
    n = {"table": 0, "img": 0, "pkt": 0}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table": self.n["table"] += 1
        if tag == "img" and (a.get("src") or "").startswith("data:image/png;base64,"): self.n["img"] += 1
        if "pkt" in (a.get("class") or "").split(): self.n["pkt"] += 1
c = Count(); c.feed(sys.stdin.read()); print(c.n["table"], c.n["img"], c.n["pkt"])' <"$tmp/$name.dom")
    [[ "$tables $images $arrows" == "$2 $3 $4" ]] ||
        fail "$name: $tables tables, $images PNG images, $arrows arrows as rendered; expected $2 $3 $4"
    ! grep -q ':CONSOLE' "$tmp/$name.err" || fail "$name: console messages: $(grep ':CONSOLE' "$tmp/$name.err" | head -3)"
}
capstone=$lessons/14-capstone/sample
report_page "$capstone/report.html" 4 1 "$(grep -c 'class="pkt ' "$capstone/ladder.svg")"
report_page "$lessons/15-bottleneck/example/report/report.html" 1 4 0

# a screenshot of fixed size: the drawing is on it, in more than a few colours
chromium_run --hide-scrollbars --window-size=1200,900 --screenshot="$tmp/03.png" \
    "file://$lessons/03-capture/ladder.html" >/dev/null 2>"$tmp/shot.err" ||
    fail "screenshot: chromium exited $?: $(tail -3 "$tmp/shot.err")"
read -r width height inked colours < <(python3 "$here/pngstat.py" "$tmp/03.png")
[[ $width == 1200 && $height == 900 ]] || fail "screenshot: ${width}x$height, not 1200x900"
((inked > width * height / 50)) || fail "screenshot: $inked pixels drawn of $((width * height)): blank"
((colours > 8)) || fail "screenshot: $colours colours: not the drawing"

finish "$pages lesson pages rendered in Chromium, one arrow per packet; screenshot ${width}x$height, $inked pixels drawn"
