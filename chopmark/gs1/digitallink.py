"""GS1 Digital Link URIs of trade items (GS1 Digital Link standard: URI syntax, uncompressed form):
``{base}/01/{gtin14}[/10/{lot}][/21/{serial}]``. Values are percent-encoded except RFC 3986 unreserved
characters, as the standard requires for character set 82; the key qualifiers come in the standard's order."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI

from chopmark.errors import Gs1Error
from chopmark.gs1.identifiers import check_lot, check_serial, gtin14

#: The AIs an item key may carry in its path, in the order the standard fixes (01, then 22, 10, 21 qualifiers).
_ITEM_AIS = ("01", "10", "21")


@dataclass(frozen=True)
class ItemKey:
    """A trade item: its GTIN (14 digits), and optionally a lot and, within it, a serial."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "gtin", gtin14(self.gtin))
        if self.lot is not None:
            check_lot(self.lot)
        if self.serial is not None:
            check_serial(self.serial)

    def path(self) -> str:
        """The Digital Link path: ``/01/{gtin}[/10/{lot}][/21/{serial}]``, values percent-encoded."""
        parts = [("01", self.gtin), ("10", self.lot), ("21", self.serial)]
        return "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in parts if value is not None)


def digital_link(base: str, key: ItemKey) -> str:
    """The GS1 Digital Link URI of ``key`` on the resolver at ``base`` (an http(s) URL without query)."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise Gs1Error(f"a Digital Link base is an http(s) URL without query or fragment, got {base!r}",
                       code="INVALID_DIGITAL_LINK")
    return base.rstrip("/") + key.path()


def parse_digital_link(uri: str) -> ItemKey:
    """The item key of an uncompressed GS1 Digital Link URI whose path holds AI 01 and optionally 10 and 21 (the
    query, where data attributes and a resolver's own parameters go, is left to the caller). Refused
    (``INVALID_DIGITAL_LINK``, or the identifier's own code): any other AI in the path, qualifiers out of the
    standard's order, a GTIN whose check digit is wrong (biip parses it and reports the error beside it), a lot
    or serial outside character set 82 or over 20 characters."""
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise Gs1Error(f"a Digital Link is an http(s) URI, got {uri!r}", code="INVALID_DIGITAL_LINK")
    try:
        parsed = GS1DigitalLinkURI.parse(f"{parts.scheme}://{parts.netloc}{parts.path}")
    except ParseError as exc:
        raise Gs1Error(f"not a GS1 Digital Link URI: {exc}", code="INVALID_DIGITAL_LINK") from None
    values: dict[str, str] = {}
    for element in parsed.element_strings:
        ai = element.ai.ai
        if ai not in _ITEM_AIS or ai in values:
            raise Gs1Error(f"a trade item's Digital Link carries AI 01, 10 and 21 once each, got AI {ai}",
                           code="INVALID_DIGITAL_LINK")
        if element.gtin_error:
            raise Gs1Error(f"invalid GTIN in {uri!r}: {element.gtin_error}", code="INVALID_GTIN")
        values[ai] = element.value
    if "01" not in values:
        raise Gs1Error(f"{uri!r} has no GTIN (AI 01)", code="INVALID_DIGITAL_LINK")
    return ItemKey(values["01"], values.get("10"), values.get("21"))
