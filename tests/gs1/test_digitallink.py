"""GS1 Digital Link URIs of trade items: built with percent-encoding, parsed back, and the traps refused."""

from __future__ import annotations

import pytest

from chopmark.errors import Gs1Error
from chopmark.gs1 import ItemKey, digital_link, parse_digital_link

BASE = "https://chopmark.example"


def test_an_item_link_round_trips_with_percent_encoding() -> None:
    key = ItemKey("4012345000009", "LOT/2026:11", "S+1")
    uri = digital_link(BASE + "/", key)
    assert uri == f"{BASE}/01/04012345000009/10/LOT%2F2026%3A11/21/S%2B1"
    assert parse_digital_link(uri) == key


def test_keys_with_fewer_qualifiers() -> None:
    assert digital_link(BASE, ItemKey("04012345000009")) == f"{BASE}/01/04012345000009"
    assert parse_digital_link(f"{BASE}/01/04012345000009/10/L1") == ItemKey("04012345000009", "L1")
    assert parse_digital_link(f"{BASE}/01/04012345000009/21/S1") == ItemKey("04012345000009", None, "S1")


def test_a_resolver_path_prefix_and_the_query_are_allowed() -> None:
    uri = f"{BASE}/shop/01/04012345000009/10/L1/21/S%2F1?17=261231&tag=abc#top"
    assert parse_digital_link(uri) == ItemKey("04012345000009", "L1", "S/1")


@pytest.mark.parametrize(("uri", "code"), [
    (f"{BASE}/01/04012345000008/10/L1", "INVALID_GTIN"),            # biip parses it, with the error beside it
    (f"{BASE}/01/04012345000009/21/S1/10/L1", "INVALID_DIGITAL_LINK"),  # qualifiers out of order
    (f"{BASE}/01/04012345000009/22/A/10/L1", "INVALID_DIGITAL_LINK"),   # another qualifier
    (f"{BASE}/414/4012345000016", "INVALID_DIGITAL_LINK"),            # a location, not an item
    (f"{BASE}/01/04012345000009/10/L%20X", "INVALID_DIGITAL_LINK"),   # a space is not in character set 82
    (f"{BASE}/01/04012345000009/10/{'A' * 21}", "INVALID_DIGITAL_LINK"),
    ("ftp://chopmark.example/01/04012345000009", "INVALID_DIGITAL_LINK"),
    ("/01/04012345000009", "INVALID_DIGITAL_LINK"),
    ("not a uri", "INVALID_DIGITAL_LINK"),
])
def test_bad_links_are_refused_with_a_code(uri: str, code: str) -> None:
    with pytest.raises(Gs1Error) as caught:
        parse_digital_link(uri)
    assert caught.value.instance_code == code, caught.value.detail


def test_item_keys_check_their_parts() -> None:
    with pytest.raises(Gs1Error):
        ItemKey("4012345000008")
    with pytest.raises(Gs1Error):
        ItemKey("4012345000009", "L 1")
    with pytest.raises(Gs1Error):
        digital_link("https://chopmark.example/?q=1", ItemKey("4012345000009"))
