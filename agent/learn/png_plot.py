"""A small line-plot writer: RGB pixels → PNG with ``zlib`` and ``struct`` only.

Enough for the learning curve of ``autopatch learn --report``: panels with axes and
ticks, lines, points, interval bars and labels in a 3×5 pixel font (scaled), so the
package needs no plotting library.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
GREY: RGB = (200, 200, 200)
PALETTE: tuple[RGB, ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194),
)  # fmt: skip

_FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", "%": "101001010100101",
    "-": "000000111000000", "+": "000010111010000", ":": "000010000010000",
    "/": "001001010100100", "(": "010100100100010", ")": "010001001001010",
    "_": "000000000000111", "=": "000111000111000", " ": "000000000000000",
    "A": "010101111101101", "B": "110101110101110", "C": "111100100100111",
    "D": "110101101101110", "E": "111100110100111", "F": "111100110100100",
    "G": "111100101101111", "H": "101101111101101", "I": "111010010010111",
    "J": "001001001101111", "K": "101101110101101", "L": "100100100100111",
    "M": "101111111101101", "N": "110101101101101", "O": "111101101101111",
    "P": "111101111100100", "Q": "111101101111001", "R": "110101110101101",
    "S": "111100111001111", "T": "111010010010010", "U": "101101101101111",
    "V": "101101101101010", "W": "101101111111101", "X": "101101010101101",
    "Y": "101101010010010", "Z": "111001010100111",
}  # fmt: skip


class Canvas:
    """An RGB image; (0, 0) is the top left."""

    def __init__(self, width: int, height: int, background: RGB = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def set(self, x: int, y: int, color: RGB) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i : i + 3] = bytes(color)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: RGB) -> None:
        for y in range(min(y0, y1), max(y0, y1) + 1):
            for x in range(min(x0, x1), max(x0, x1) + 1):
                self.set(x, y, color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: RGB, width: int = 1) -> None:
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        half = width // 2
        while True:
            self.rect(x0 - half, y0 - half, x0 + half, y0 + half, color)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x: int, y: int, text: str, color: RGB = BLACK, scale: int = 2) -> int:
        """Draw ``text`` (upper-cased; unknown characters as blanks); returns the end x."""
        for ch in text.upper():
            glyph = _FONT.get(ch, _FONT[" "])
            for i, bit in enumerate(glyph):
                if bit == "1":
                    gx, gy = x + (i % 3) * scale, y + (i // 3) * scale
                    self.rect(gx, gy, gx + scale - 1, gy + scale - 1, color)
            x += 4 * scale
        return x

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[3 * y * self.width : 3 * (y + 1) * self.width])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.png())
        return path


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]  # (x, y), y in [0, 1]
    intervals: list[tuple[float, float]] = field(default_factory=list)  # (low, high) per point
    width: int = 2


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def panel(
    canvas: Canvas,
    box: tuple[int, int, int, int],
    title: str,
    xlabel: str,
    series: Sequence[Series],
) -> None:
    """One plot in ``box`` (left, top, right, bottom): y is a rate from 0 to 1."""
    left, top, right, bottom = box
    x0, y0, x1, y1 = left + 50, top + 30, right - 10, bottom - 40
    canvas.text(left + 50, top + 6, title)
    xs = [x for s in series for x, _ in s.points] or [0.0, 1.0]
    lo, hi = min(xs), max(xs)
    hi = hi if hi > lo else lo + 1

    def px(x: float) -> int:
        return round(x0 + (x - lo) / (hi - lo) * (x1 - x0))

    def py(y: float) -> int:
        return round(y1 - max(0.0, min(1.0, y)) * (y1 - y0))

    for i in range(6):  # horizontal grid and y ticks: 0 %, 20 %, …
        y = py(i / 5)
        canvas.line(x0, y, x1, y, GREY)
        canvas.text(left + 4, y - 5, f"{i * 20}%", scale=2)
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        canvas.line(px(value), y1, px(value), y1 + 4, BLACK)
        canvas.text(px(value) - 8, y1 + 8, _fmt(value))
    canvas.line(x0, y1, x1, y1, BLACK, 2)
    canvas.line(x0, y0, x0, y1, BLACK, 2)
    canvas.text((x0 + x1) // 2 - 4 * len(xlabel), bottom - 14, xlabel)
    for k, s in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        pts = [(px(x), py(y)) for x, y in s.points]
        for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
            canvas.line(ax, ay, bx, by, color, s.width)
        for j, (x, y) in enumerate(pts):
            canvas.rect(x - 3, y - 3, x + 3, y + 3, color)
            if j < len(s.intervals):
                low, high = s.intervals[j]
                canvas.line(x, py(low), x, py(high), color)
                canvas.line(x - 4, py(low), x + 4, py(low), color)
                canvas.line(x - 4, py(high), x + 4, py(high), color)


def legend(canvas: Canvas, x: int, y: int, series: Sequence[Series]) -> None:
    for k, s in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        canvas.rect(x, y + 2, x + 10, y + 10, color)
        x = canvas.text(x + 16, y, s.label) + 20
