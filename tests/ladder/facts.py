#!/usr/bin/env python3
"""facts: read a ladder drawing back, checking its form, and print one line per arrow.

Usage: facts.py svg|html|mermaid FILE

svg: well-formed XML (xml.etree); html: every element closed in order (html.parser) and its
inline SVG well-formed XML; mermaid: a sequenceDiagram whose every line has a shape Mermaid
knows. Prints, per arrow: capture frame time y kind label (y and time are "-" for Mermaid).
Exits 1 with the reason when the form is wrong.
"""
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

SVG = "{http://www.w3.org/2000/svg}"
VOID = {"meta", "link", "br", "img", "input", "hr", "source", "wbr", "col", "area", "base"}


def fail(why):
    print(f"facts: {why}", file=sys.stderr)
    sys.exit(1)


def svg_facts(root):
    if root.tag != SVG + "svg":
        fail(f"the root element is {root.tag}, not svg")
    for g in root.iter(SVG + "g"):
        classes = g.get("class", "").split()
        if "pkt" not in classes:
            continue
        line = g.find(SVG + "line")
        if line is None or g.find(SVG + "title") is None:
            fail(f"arrow of frame {g.get('data-frame')} lacks its line or title")
        kind = classes[1] if len(classes) > 1 else "-"
        print(g.get("data-capture"), g.get("data-frame"), g.get("data-time"), line.get("y1"),
              kind, g.get("data-label"))


class Balance(HTMLParser):
    """Every element closed, in the order opened (void elements excepted)."""

    def __init__(self):
        super().__init__()
        self.open = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            fail(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
        self.open.pop()


def html_facts(text):
    if not text.startswith("<!DOCTYPE html>"):
        fail("no <!DOCTYPE html> first")
    if re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text) or "@import" in text:
        fail("the page fetches something from the network")
    b = Balance()
    b.feed(text)
    b.close()
    if b.open:
        fail(f"elements left open: {b.open}")
    start, end = text.find("<svg"), text.find("</svg>")
    if start < 0 or end < 0:
        fail("no inline <svg>")
    svg_facts(ET.fromstring(text[start:end + len("</svg>")]))


MESSAGE = re.compile(r"^    ([A-D])(->>|-->>|-\))([A-D]): (\d+) at (\d+\.\d{6}) s, (.*)$")
SHAPES = [
    re.compile(r"^    participant [A-D] as [^;#]+$"),
    re.compile(r"^    box [A-Za-z ]+$"),
    re.compile(r"^    end$"),
    re.compile(r"^    Note over [A-D],[A-D]: [^;#]+$"),
]


def mermaid_facts(text):
    lines = text.rstrip("\n").split("\n")
    if lines[0] != "sequenceDiagram":
        fail(f"first line is {lines[0]!r}, not sequenceDiagram")
    pairs = {"A": "B", "B": "A", "C": "D", "D": "C"}
    for n, line in enumerate(lines[1:], 2):
        m = MESSAGE.match(line)
        if m:
            if pairs[m.group(1)] != m.group(3) or ";" in line or "#" in line:
                fail(f"line {n}: not a message between one capture's two hosts: {line}")
            capture = 0 if m.group(1) in "AB" else 1
            label = m.group(6).split(", ", 2)[-1]
            print(capture, m.group(4), m.group(5), "-", m.group(2), label)
        elif not any(s.match(line) for s in SHAPES):
            fail(f"line {n}: not a shape of a sequenceDiagram: {line!r}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("svg", "html", "mermaid"):
        fail("usage: facts.py svg|html|mermaid FILE")
    with open(sys.argv[2], encoding="utf-8") as f:
        text = f.read()
    if sys.argv[1] == "svg":
        try:
            svg_facts(ET.fromstring(text))
        except ET.ParseError as e:
            fail(f"not well-formed XML: {e}")
    elif sys.argv[1] == "html":
        html_facts(text)
    else:
        mermaid_facts(text)


if __name__ == "__main__":
    main()
