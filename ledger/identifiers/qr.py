"""QR codes (ISO/IEC 18004) with segno: error correction M, the standard four-module quiet zone."""

import io

import segno


def qr_code(content: str) -> segno.QRCode:
    return segno.make_qr(content, error="m", boost_error=False)


def qr_svg(content: str, *, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    qr_code(content).save(buffer, kind="svg", scale=scale, border=4, xmldecl=True, title=content)
    return buffer.getvalue()


def qr_png(content: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    qr_code(content).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
