"""QR labels: what is printed scans back to the exact Digital Link, with its quiet zone and error correction level;
bad options and data that cannot fit are refused with a code. Decoding uses zxing-cpp's reader, a separate path
from its writer."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from chopmark.errors import LabelError
from chopmark.gs1 import ItemKey, digital_link
from chopmark.labels import label_png, label_svg

URI = digital_link("https://chopmark.example", ItemKey("4012345000009", "LOT/2026:11", "S+000123"))


def decoded(png: bytes) -> zxingcpp.Barcode:
    result = zxingcpp.read_barcode(Image.open(io.BytesIO(png)))
    assert result is not None, "no QR code found in the label"
    return result


@pytest.mark.parametrize("ec_level", ["L", "M", "Q", "H"])
def test_a_png_label_scans_back_to_the_exact_link(ec_level: str) -> None:
    result = decoded(label_png(URI, ec_level=ec_level))
    assert (result.text, result.format, result.ec_level) == (URI, zxingcpp.BarcodeFormat.QRCode, ec_level)


def test_the_png_has_the_four_module_quiet_zone() -> None:
    scale = 5
    image = Image.open(io.BytesIO(label_png(URI, scale=scale)))
    assert image.mode == "L" and image.width == image.height
    border = 4 * scale
    pixels = image.load()
    assert pixels is not None
    edge = [pixels[x, y] for x in range(image.width) for y in range(image.height)
            if min(x, y, image.width - 1 - x, image.height - 1 - y) < border]
    assert set(edge) == {255}, "the quiet zone is white"
    assert pixels[border, border] == 0, "the finder pattern starts right after it"


def test_an_svg_label_is_svg_of_the_same_symbol() -> None:
    svg = label_svg(URI, scale=3)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    png_side = Image.open(io.BytesIO(label_png(URI, scale=3))).width
    assert int(root.get("width", "0")) == png_side == int(root.get("height", "0"))
    modules = root.findall(".//{http://www.w3.org/2000/svg}path")
    assert modules and modules[0].get("d", "").startswith(f"M{4 * 3} {4 * 3}"), "dark modules after the quiet zone"


@pytest.mark.parametrize(("options", "data"), [
    ({"ec_level": "Z"}, URI), ({"scale": 0}, URI), ({"scale": 41}, URI), ({"scale": True}, URI), ({}, ""),
])
def test_bad_options_are_refused(options: dict[str, object], data: str) -> None:
    with pytest.raises(LabelError) as caught:
        label_png(data, **options)  # type: ignore[arg-type]
    assert caught.value.instance_code == "BAD_LABEL_OPTION"


def test_data_that_cannot_fit_one_symbol_is_refused() -> None:
    with pytest.raises(LabelError) as caught:
        label_svg("https://chopmark.example/" + "a" * 3000, ec_level="H")
    assert caught.value.instance_code == "LABEL_TOO_LONG"
