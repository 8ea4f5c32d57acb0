"""QR symbols of a text (a GS1 Digital Link URI) as SVG or PNG."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from chopmark.errors import LabelError

#: QR error correction levels (ISO/IEC 18004 §5.3.8): about 7, 15, 25 and 30 % of the symbol recoverable. GS1
#: recommends M for Digital Link QR codes on products, the default here.
EC_LEVELS = ("L", "M", "Q", "H")
#: Pixels per module at most (a module of 40 px is a symbol of several thousand pixels: not a label any more).
MAX_SCALE = 40


def _symbol(data: str, ec_level: str, scale: int) -> zxingcpp.Barcode:
    """The QR symbol of ``data``, or ``LabelError``."""
    if ec_level not in EC_LEVELS:
        raise LabelError(f"error correction level is one of {', '.join(EC_LEVELS)}, got {ec_level!r}",
                         code="BAD_LABEL_OPTION")
    if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale <= MAX_SCALE:
        raise LabelError(f"scale is 1 to {MAX_SCALE} pixels per module, got {scale!r}", code="BAD_LABEL_OPTION")
    if not isinstance(data, str) or not data:
        raise LabelError("a label needs a non-empty text", code="BAD_LABEL_OPTION")
    try:
        return zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
    except ValueError as exc:  # zxing-cpp: "Input too long for ECC level ..."
        raise LabelError(f"{len(data)} characters do not fit one QR symbol at level {ec_level}: {exc}",
                         code="LABEL_TOO_LONG") from None


def label_svg(data: str, *, scale: int = 4, ec_level: str = "M") -> str:
    """An SVG document of the QR symbol of ``data``: ``scale`` units per module, quiet zone included."""
    return str(zxingcpp.write_barcode_to_svg(_symbol(data, ec_level, scale), scale=scale, add_quiet_zones=True))


def label_png(data: str, *, scale: int = 4, ec_level: str = "M") -> bytes:
    """A PNG (8-bit grey) of the QR symbol of ``data``: ``scale`` pixels per module, quiet zone included."""
    image = zxingcpp.write_barcode_to_image(_symbol(data, ec_level, scale), scale=scale, add_quiet_zones=True)
    height, width = image.shape[0], image.shape[1]
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]  # zxing-cpp images are buffers; its stubs omit it
    grey = Image.frombuffer("L", (width, height), pixels, "raw", "L", 0, 1)
    out = io.BytesIO()
    grey.save(out, format="PNG")
    return out.getvalue()
