"""How a credential is shown: a QR code (segno), as the EU DCC, in the QR alphanumeric mode that
the Base45 alphabet and the `HK1:` prefix were chosen for (a third smaller than byte mode)."""

import io

import segno

# Medium error correction (15 %): a phone screen scanned at a gate, not a printed sticker.
ERROR_LEVEL = "m"


def qr(text: str) -> segno.QRCode:
    return segno.make_qr(text, error=ERROR_LEVEL, boost_error=False)


def qr_svg(text: str, *, scale: int = 4) -> str:
    """The credential's QR code as an inline SVG document (no XML declaration)."""
    out = io.BytesIO()
    qr(text).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, title="HK1")
    return out.getvalue().decode("utf-8")


def qr_png(text: str, *, scale: int = 4) -> bytes:
    out = io.BytesIO()
    qr(text).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
