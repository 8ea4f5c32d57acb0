"""The did:web method (W3C CCG "did:web Method Specification"), read operation only.

``did:web:example.com`` -> ``https://example.com/.well-known/did.json``;
``did:web:example.com%3A8443:user:alice`` -> ``https://example.com:8443/user/alice/did.json``.

The mapping is strict: the host must be a DNS name or an IPv4 literal, the only percent-encoding allowed in
the host part is the port separator ``%3A``; path segments are DID ``idchar`` strings (letters, digits,
``.-_`` and percent-encodings), never empty, never ``.``/``..`` (even percent-encoded) and never an encoded
``/`` or ``\\``.
The fetch itself is injected (see :class:`chopmark.net.fetch.SafeFetcher` for the real one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from chopmark.errors import ChopmarkError, InvalidControllerDocumentError, InvalidDidError

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
# DID Core §3.1 idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
_SEGMENT = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
_FORBIDDEN_DECODED = frozenset({"/", "\\", "\0", "?", "#"})
#: A did:web document may not be larger than this many bytes once fetched (the fetcher enforces its own cap).
MAX_DOCUMENT_BYTES = 1_000_000


def _check_host(host: str, did: str) -> None:
    if len(host) > 253 or not (_IPV4.fullmatch(host) or (_HOST.fullmatch(host) and not host[-1].isdigit())):
        raise InvalidDidError(f"did:web host is not a valid domain name or IPv4 address: {did!r}")


def _check_port(port: str, did: str) -> None:
    if not _PORT.fullmatch(port) or int(port) > 65535:
        raise InvalidDidError(f"did:web port is not valid: {did!r}")


def _check_segment(segment: str, did: str) -> None:
    # did:web §"Read (Resolve)": path segments become URL path segments; refuse traversal and encoded slashes
    if not _SEGMENT.fullmatch(segment):
        raise InvalidDidError(f"did:web path segment {segment!r} is empty or has invalid characters: {did!r}")
    decoded = unquote(segment, errors="strict")
    if decoded in (".", "..") or _FORBIDDEN_DECODED.intersection(decoded):
        raise InvalidDidError(f"did:web path segment {segment!r} is not allowed: {did!r}")


def did_web_to_url(did: str) -> str:
    """The HTTPS URL of a did:web DID document (did:web spec, Read step 1-5)."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise InvalidDidError(f"not a did:web DID: {did!r}")
    # Step 1: replace ":" with "/" in the method-specific identifier to obtain the fully qualified domain
    # name and optional path.
    host_part, *segments = did[len("did:web:"):].split(":")
    # Step 2: if the domain contains a port, percent-decode the colon (only "%3A" is allowed in the host).
    host, sep, port = host_part.replace("%3a", "%3A").partition("%3A")
    _check_host(host, did)
    if sep:
        _check_port(port, did)
    for segment in segments:
        _check_segment(segment, did)
    authority = f"{host.lower()}:{port}" if sep else host.lower()
    # Steps 3-4: https:// prefix; no path -> /.well-known; then append /did.json
    path = "/" + "/".join(segments) if segments else "/.well-known"
    return f"https://{authority}{path}/did.json"


def url_to_did_web(url: str) -> str:
    """The did:web DID for an HTTPS URL (did:web spec, Create): ``https://host[:port][/path][/did.json]``."""
    if not isinstance(url, str):
        raise InvalidDidError("a did:web URL must be a string")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidDidError(f"not a valid URL: {url!r}") from None
    if parts.scheme != "https" or parts.query or parts.fragment or "?" in url or "#" in url:
        raise InvalidDidError(f"a did:web URL is an https URL without query or fragment: {url!r}")
    if "@" in parts.netloc or not parts.hostname:
        raise InvalidDidError(f"a did:web URL has a host and no userinfo: {url!r}")
    # did:web Create: the root document lives at /.well-known/did.json, others at <path>/did.json
    path = parts.path
    if path == "/.well-known/did.json":
        path = ""
    elif path.endswith("/did.json"):
        path = path[: -len("/did.json")]
    elif path.endswith("/"):
        path = path[:-1]
    segments = path.split("/")[1:] if path else []
    host = parts.hostname + (f"%3A{port}" if port is not None else "")
    did = "did:web:" + ":".join([host, *segments])
    did_web_to_url(did)  # validates every part with the same rules as resolution
    return did


def loads_strict_json(data: bytes | str, error: type[ChopmarkError] = InvalidControllerDocumentError) -> Any:
    """Parse I-JSON (RFC 7493): UTF-8, no duplicate member names, no NaN/Infinity, no lone surrogates."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in items:
            if key in obj:
                raise error(f"duplicate JSON member {key!r}")
            obj[key] = value
        return obj

    def constant(name: str) -> Any:
        raise error(f"{name} is not allowed in JSON")

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        text.encode("utf-8")  # refuses lone surrogates (also those produced by \\ud800 escapes below)
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
        _check_strings(value)
        return value
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise error(f"not valid JSON: {exc}") from None


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, dict):
            for key, sub in item.items():
                key.encode("utf-8")
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)


class DidWebResolver:
    """Resolves did:web DIDs with an injected ``fetch(url) -> bytes`` (which owns all network policy)."""

    def __init__(self, fetch: Callable[[str], bytes]) -> None:
        """Use ``fetch`` to retrieve ``did.json`` documents."""
        self._fetch = fetch

    def resolve(self, did: str) -> dict[str, Any]:
        """Fetch and check the DID document: a JSON object whose ``id`` is exactly ``did``."""
        url = did_web_to_url(did)
        body = self._fetch(url)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise InvalidControllerDocumentError(f"the DID document at {url} is too large")
        return check_document(loads_strict_json(body), did)


def check_document(document: Any, expected_id: str) -> dict[str, Any]:
    """Require a JSON object whose ``id`` equals ``expected_id`` (CID 1.0 §3.3 "Retrieve Verification Method"
    step: the controller document's ``id`` MUST equal the URL it was retrieved for)."""
    if not isinstance(document, dict):
        raise InvalidControllerDocumentError(f"the document of {expected_id} is not a JSON object")
    if document.get("id") != expected_id:
        raise InvalidControllerDocumentError(
            f"the document id {document.get('id')!r} does not match {expected_id!r}")
    return document
