"""The QR code round trip: the credential's QR image, read back by a real barcode decoder
(zxing-cpp), gives the credential text, which verifies offline; the SVG is the same symbol."""

import io
import re

import time_machine
import zxingcpp
from PIL import Image

from apps.credentials import verifier as v
from apps.credentials.presentation import qr, qr_png
from tests.api.helpers import at, rid

IDN = rid("11010519900101123")


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_the_qr_image_decodes_to_the_credential_which_verifies(world, client):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        world.person(IDN)
        body = world.gate.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN}).json()
        keys = client.get("/api/v1/keys/").json()
    (text,) = decode(qr_png(body["credential"]))
    assert text == body["credential"]
    result = v.verify(text, keys, at(2021, 8, 3, 10))
    assert result.valid and result.state == "green" and result.display_name == "王**"
    # The SVG the API gives is the same symbol (its size in modules), and the text fits the
    # alphanumeric mode the Base45 alphabet was chosen for.
    symbol = qr(body["credential"])
    assert symbol.mode == "alphanumeric" and symbol.error == "M"
    width = re.search(r'width="(\d+)"', body["svg"]).group(1)
    assert int(width) == (symbol.symbol_size(scale=4, border=4)[0])
    assert len(body["credential"]) < 400


def test_a_tampered_qr_text_does_not_verify(world, client):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        world.person(IDN)
        body = world.gate.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN}).json()
        keys = client.get("/api/v1/keys/").json()
    tampered = body["credential"][:-1] + ("0" if body["credential"][-1] != "0" else "1")
    (text,) = decode(qr_png(tampered))
    assert text == tampered and not v.verify(text, keys, at(2021, 8, 3, 10)).valid
