"""The QR code round trip: the credential's QR symbol, drawn as an image and read back by a
barcode decoder (zxing-cpp's reader), gives the credential text, which verifies offline; the SVG
the API gives draws exactly that symbol."""

import io
import re

import time_machine
import zxingcpp
from PIL import Image

from apps.credentials import verifier as v
from apps.credentials.presentation import qr_modules
from tests.api.helpers import at, rid

IDN = rid("11010519900101123")


def png(modules: list[list[bool]], scale: int = 4, border: int = 4) -> bytes:
    """The symbol as a PNG, as a phone screen shows it (black on white, a quiet zone)."""
    size = len(modules) + 2 * border
    image = Image.new("L", (size, size), 255)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x + border, y + border), 0)
    out = io.BytesIO()
    image.resize((size * scale, size * scale), Image.NEAREST).save(out, format="PNG")
    return out.getvalue()


def decode(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def svg_modules(svg: str, border: int = 4) -> list[list[bool]]:
    """The dark modules an SVG of `qr_svg` draws, read back from its path."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1)) - 2 * border
    grid = [[False] * size for _ in range(size)]
    d = re.search(r' d="([^"]*)"', svg).group(1)
    x = y = 0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", d):
        if command == "M":
            x, y = int(a) - border, int(float(b)) - border
        elif command == "m":
            x += int(a)
        else:
            for i in range(int(a)):
                grid[y][x + i] = True
            x += int(a)
    return grid


def issue(world, client):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        world.person(IDN)
        body = world.gate.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN}).json()
        keys = client.get("/api/v1/keys/").json()
    return body, keys


def test_the_qr_image_decodes_to_the_credential_which_verifies(world, client):
    body, keys = issue(world, client)
    modules = qr_modules(body["credential"])
    assert svg_modules(body["svg"]) == modules  # the SVG draws this symbol
    (text,) = decode(png(modules))
    assert text == body["credential"]
    result = v.verify(text, keys, at(2021, 8, 3, 10))
    assert result.valid and result.state == "green" and result.display_name == "王**"
    (read,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png(modules))))
    assert read.ec_level == "M" and read.symbology_identifier == "]Q1"
    assert len(body["credential"]) < 400 and len(modules) <= 57  # version 10 or smaller


def test_a_tampered_qr_text_does_not_verify(world, client):
    body, keys = issue(world, client)
    tampered = body["credential"][:-1] + ("0" if body["credential"][-1] != "0" else "1")
    (text,) = decode(png(qr_modules(tampered)))
    assert text == tampered and not v.verify(text, keys, at(2021, 8, 3, 10)).valid
