"""GS1 identifiers for product provenance: GTIN, GLN, lot and serial (GS1 General Specifications), and GS1 Digital
Link URIs (GS1 Digital Link standard: URI syntax). Parsing and check digits come from the maintained ``biip``
library behind this small interface; what biip leaves open (a Digital Link whose GTIN has a wrong check digit
parses there, with the error beside it) is refused here.

Layer 1: imports :mod:`chopmark.errors` and nothing else of Chopmark.
"""

from __future__ import annotations

from chopmark.gs1.digitallink import ItemKey, digital_link, parse_digital_link
from chopmark.gs1.identifiers import check_gln, check_lot, check_serial, gtin14

__all__ = ["ItemKey", "check_gln", "check_lot", "check_serial", "digital_link", "gtin14", "parse_digital_link"]
