"""How a credential is shown: a QR code, in the alphanumeric mode that the Base45 alphabet and the
`HK1:` prefix were chosen for (as the EU DCC), error correction M (15 %: a phone screen at a gate).

The symbol is encoded by zxing-cpp (C++), and drawn here as one SVG path of the dark runs of each
row. segno, the pure-Python encoder the portal uses elsewhere, cost 20 ms of CPU per credential
(8 masks evaluated in Python) against 1 ms here: on the look-up path of millions a day that is
the difference between one core and ten."""

import re

import zxingcpp

ERROR_LEVEL = "M"
_DARK_RUN = re.compile(rb"\x00+")  # zxing-cpp's image: 0 dark, 255 light


def _rows(text: str) -> list[bytes]:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_LEVEL)
    image = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))
    height, width = image.shape
    data = image.tobytes()
    return [data[y * width : (y + 1) * width] for y in range(height)]


def qr_modules(text: str) -> list[list[bool]]:
    """The symbol's modules, row by row (True = dark), without the quiet zone."""
    return [[b == 0 for b in row] for row in _rows(text)]


def qr_svg(text: str, *, scale: int = 4, border: int = 4) -> str:
    """The credential's QR code as an inline SVG document (no XML declaration): one stroked path,
    a horizontal line through each run of dark modules, in module units scaled by the viewBox."""
    rows = _rows(text)
    size = len(rows) + 2 * border
    parts = []
    for y, row in enumerate(rows):
        runs = [(m.start(), m.end() - m.start()) for m in _DARK_RUN.finditer(row)]
        if not runs:
            continue
        x, length = runs[0]
        line = [f"M{x + border} {y + border}.5h{length}"]
        end = x + length
        for x, length in runs[1:]:
            line.append(f"m{x - end} 0h{length}")
            end = x + length
        parts.append("".join(line))
    pixels = size * scale
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges"><title>HK1</title>'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path stroke="#000" stroke-width="1" fill="none" d="{"".join(parts)}"/></svg>'
    )
