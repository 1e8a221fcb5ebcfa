#!/usr/bin/env python3
"""pngstat: how much of a screenshot is drawn. Usage: pngstat.py FILE

Prints "WIDTH HEIGHT INKED COLOURS": the image's size, how many pixels are not the
background (the colour of the top-left pixel) and how many distinct colours it holds.
Reads 8-bit RGB or RGBA PNGs, as browsers write them, with the standard library alone.
"""
import struct
import sys
import zlib


def rows(data, width, height, bpp):
    """The image's rows, each undone from the filter the PNG encoder chose for it."""
    stride = width * bpp
    prev = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = data[pos]
        row = bytearray(data[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up = prev[i]
            corner = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                row[i] = (row[i] + pred) & 0xFF
        yield bytes(row)
        prev = row


def main():
    blob = open(sys.argv[1], "rb").read()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("pngstat: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(blob):
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        sys.exit(f"pngstat: depth {depth}, colour type {colour}, interlace {interlace}: not read")
    bpp = 3 if colour == 2 else 4
    inked, colours, background = 0, set(), None
    for row in rows(zlib.decompress(idat), width, height, bpp):
        for i in range(0, len(row), bpp):
            px = row[i:i + bpp]
            if background is None:
                background = px
            colours.add(px)
            inked += px != background
    print(width, height, inked, len(colours))


main()
