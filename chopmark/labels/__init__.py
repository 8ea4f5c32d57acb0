"""QR labels for GS1 Digital Link URIs (ISO/IEC 18004 QR Code, model 2): SVG and PNG, with the four-module quiet
zone the symbology requires, made by the maintained zxing-cpp library (its writer is C++: thousands of labels a
second) behind this small interface; PNG files are encoded by Pillow.

Layer 1: imports :mod:`chopmark.errors` and nothing else of Chopmark.
"""

from __future__ import annotations

from chopmark.labels.qr import EC_LEVELS, MAX_SCALE, label_png, label_svg

__all__ = ["EC_LEVELS", "MAX_SCALE", "label_png", "label_svg"]
