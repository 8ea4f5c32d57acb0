"""The composite resolver: DIDs and controller documents -> verification methods -> public keys.

Implements Controlled Identifiers 1.0 (CID) §3.3 "Retrieve Verification Method" over:

* ``did:key`` and ``did:jwk``, expanded offline (pure; memoised in an LRU cache),
* ``did:web`` from pre-loaded ``documents`` (keyed by DID or by its ``did.json`` URL), else through the
  injected ``web_fetch`` (e.g. :class:`chopmark.net.fetch.SafeFetcher`),
* any other identifier (another DID method, or an ``https`` URL controller) from ``documents`` only.

Documents are checked: a controller document's ``id`` must equal the identifier it was retrieved for.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from chopmark.dids.jwk import resolve_did_jwk
from chopmark.dids.key import resolve_did_key
from chopmark.dids.web import DidWebResolver, check_document, did_web_to_url
from chopmark.errors import (
    DidNotFoundError,
    InvalidDidError,
    InvalidRelationshipError,
    InvalidVerificationMethodError,
    KeyFormatError,
    MethodNotSupportedError,
)
from chopmark.keys import KeyType, PublicKey

#: Verification relationships (CID §2.3).
RELATIONSHIPS = frozenset({"authentication", "assertionMethod", "keyAgreement", "capabilityInvocation",
                           "capabilityDelegation"})
_DID = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]")


class DidResolver(Protocol):
    """Anything that turns a DID into its DID document."""

    def resolve(self, did: str) -> dict[str, Any]:
        """Return the DID document of ``did`` or raise a :class:`~chopmark.errors.DidError`."""
        ...


@functools.lru_cache(maxsize=1024)
def _offline(did: str) -> dict[str, Any]:
    # did:key and did:jwk documents are a pure function of the DID, so they can be memoised.
    return resolve_did_key(did) if did.startswith("did:key:") else resolve_did_jwk(did)


def public_key_for_method(method: Mapping[str, Any]) -> PublicKey:
    """The public key of a verification method: ``Multikey`` (``publicKeyMultibase``), ``JsonWebKey`` /
    ``JsonWebKey2020`` (``publicKeyJwk``) or legacy ``Ed25519VerificationKey2020``."""
    if not isinstance(method, Mapping):
        raise InvalidVerificationMethodError("a verification method must be a JSON object")
    kind = method.get("type")
    # CID §2.2: a verification method MUST NOT carry more than one form of verification material
    if "publicKeyMultibase" in method and "publicKeyJwk" in method:
        raise InvalidVerificationMethodError("the method has both publicKeyMultibase and publicKeyJwk")
    try:
        if kind in ("Multikey", "Ed25519VerificationKey2020"):
            # CID §2.2.2 Multikey; vc-di-eddsa §2.1.1 (legacy Ed25519VerificationKey2020)
            key = PublicKey.from_multibase(method.get("publicKeyMultibase"))  # type: ignore[arg-type]
            if kind == "Ed25519VerificationKey2020" and key.key_type is not KeyType.ED25519:
                raise InvalidVerificationMethodError("Ed25519VerificationKey2020 must hold an Ed25519 key")
            return key
        if kind in ("JsonWebKey", "JsonWebKey2020"):
            # CID §2.2.3 JsonWebKey: publicKeyJwk MUST NOT contain private key members
            jwk = method.get("publicKeyJwk")
            if not isinstance(jwk, Mapping):
                raise InvalidVerificationMethodError("publicKeyJwk must be a JSON object")
            return PublicKey.from_jwk(jwk)
    except KeyFormatError as exc:
        raise InvalidVerificationMethodError(f"unusable key in verification method: {exc.detail}") from None
    raise InvalidVerificationMethodError(f"unsupported verification method type {kind!r}")


def _absolute(ref: str, base: str) -> str:
    # A relative reference "#frag" is resolved against the document id (CID §2.2, "relative URL").
    return base + ref if ref.startswith("#") else ref


def _candidates(document: Mapping[str, Any]) -> Iterator[Any]:
    # Methods listed in verificationMethod and methods embedded in any verification relationship.
    methods = document.get("verificationMethod", [])
    yield from methods if isinstance(methods, list) else [methods]
    for relationship in sorted(RELATIONSHIPS):
        entries = document.get(relationship)
        if isinstance(entries, list):
            yield from (entry for entry in entries if isinstance(entry, Mapping))


class Resolver:
    """Resolves DIDs and controller documents, dereferences verification methods and checks relationships."""

    def __init__(self, *, documents: Mapping[str, Mapping[str, Any]] | None = None,
                 web_fetch: Callable[[str], bytes] | None = None) -> None:
        """``documents``: pre-loaded documents by DID, did.json URL or controller URL; ``web_fetch``: the
        did:web fetcher (no did:web network access without it)."""
        self._documents: dict[str, Mapping[str, Any]] = dict(documents or {})
        self._web = DidWebResolver(web_fetch) if web_fetch is not None else None

    public_key_for_method = staticmethod(public_key_for_method)

    def resolve(self, did: str) -> dict[str, Any]:
        """The document of a DID (or controller URL); a fresh copy the caller may modify."""
        if not isinstance(did, str) or not did or "#" in did:
            raise InvalidDidError(f"expected a DID or URL without fragment, got {did!r}")
        if did.startswith(("did:key:", "did:jwk:")):
            return copy.deepcopy(_offline(did))
        stored = self._documents.get(did)
        if stored is None and did.startswith("did:web:"):
            stored = self._documents.get(did_web_to_url(did))
        if stored is not None:
            return check_document(copy.deepcopy(dict(stored)), did)
        if did.startswith("did:web:"):
            if self._web is None:
                raise DidNotFoundError(f"{did} is not pre-loaded and no did:web fetcher is configured")
            return self._web.resolve(did)
        if did.startswith("did:"):
            if not _DID.fullmatch(did):
                raise InvalidDidError(f"not a valid DID: {did!r}")
            raise MethodNotSupportedError(f"DID method of {did} is not supported")
        if did.startswith("https://"):
            raise DidNotFoundError(f"no controller document is known for {did}")
        raise InvalidDidError(f"not a DID or https URL: {did!r}")

    def dereference(self, vm_url: str) -> dict[str, Any]:
        """The verification method named by ``vm_url`` (CID §3.3 steps 1-7), with its ``id`` made absolute."""
        if not isinstance(vm_url, str) or not vm_url:
            raise InvalidVerificationMethodError("a verification method URL must be a non-empty string")
        base, sep, _ = vm_url.partition("#")
        try:
            document = self.resolve(base)
        except InvalidDidError as exc:
            raise InvalidVerificationMethodError(f"invalid verification method URL: {exc.detail}") from None
        found: list[Mapping[str, Any]] = [document] if not sep else [
            # no fragment: the URL names a document that is itself the verification method
            m for m in _candidates(document) if isinstance(m, Mapping)
            and isinstance(m.get("id"), str) and _absolute(m["id"], base) == vm_url]
        if not found:
            raise InvalidVerificationMethodError(f"{vm_url} is not a verification method of {base}")
        if any(dict(m) != dict(found[0]) for m in found[1:]):
            raise InvalidVerificationMethodError(f"{vm_url} is defined more than once, differently")
        method = copy.deepcopy(dict(found[0]))
        if not isinstance(method.get("type"), str) or not isinstance(method.get("controller"), str):
            # CID §2.2: id, type and controller are required properties of a verification method
            raise InvalidVerificationMethodError(f"{vm_url} lacks a type or controller")
        method["id"] = vm_url
        return method

    def get_controller_document(self, vm_url: str) -> dict[str, Any]:
        """The document of the method's ``controller`` (the one that lists its verification relationships)."""
        return self.resolve(self.dereference(vm_url)["controller"])

    def check_relationship(self, vm_url: str, relationship: str) -> None:
        """Raise :class:`InvalidRelationshipError` unless the method's controller document lists ``vm_url``
        under ``relationship`` (CID §3.3 step 9: by reference or embedded by value)."""
        self._check_listed(self.dereference(vm_url), relationship)

    def _check_listed(self, method: Mapping[str, Any], relationship: str) -> None:
        if relationship not in RELATIONSHIPS:
            raise InvalidRelationshipError(f"unknown verification relationship {relationship!r}")
        controller_doc = self.resolve(method["controller"])
        entries = controller_doc.get(relationship)
        base = controller_doc["id"]
        for entry in entries if isinstance(entries, list) else []:
            ref = entry.get("id") if isinstance(entry, Mapping) else entry
            if isinstance(ref, str) and _absolute(ref, base) == method["id"]:
                return
        raise InvalidRelationshipError(f"{method['id']} is not authorized for {relationship} by {base}")

    def resolve_verification_method(self, vm_url: str, relationship: str) -> tuple[dict[str, Any], PublicKey]:
        """Dereference ``vm_url``, check it is listed under ``relationship`` and build its public key."""
        if isinstance(vm_url, str) and vm_url.startswith(("did:key:", "did:jwk:")):
            # did:key / did:jwk resolution is a pure function of the URL: memoised, a fresh copy returned
            method, key = _offline_method(vm_url, relationship)
            return copy.deepcopy(method), key
        method = self.dereference(vm_url)
        self._check_listed(method, relationship)
        return method, public_key_for_method(method)


@functools.lru_cache(maxsize=4096)
def _offline_method(vm_url: str, relationship: str) -> tuple[dict[str, Any], PublicKey]:
    # offline methods never depend on a resolver's pre-loaded documents: an empty Resolver computes them
    resolver = Resolver()
    method = resolver.dereference(vm_url)
    resolver._check_listed(method, relationship)
    return method, public_key_for_method(method)

