"""Issuer instances (tenants): their did:web identifiers, keys, DID documents and key rotation.

An issuer ``NAME`` is ``did:web:<public host>:issuers:NAME``; its DID document is served at
``/issuers/NAME/did.json`` and the host's own DID (``did:web:<public host>``) at ``/.well-known/did.json``
(did:web method specification §3.2 "Read": the path maps to ``/<segments>/did.json`` or ``/.well-known``).
Rotation adds a key and makes it the signing key for its type; the old key stays in the document (so earlier
credentials still verify) until it is removed deliberately.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from chopmark.codecs.dates import format_datetime
from chopmark.errors import BadRequest, Conflict, NotFound
from chopmark.integrity.suites import ISSUABLE, SUITES, Cryptosuite
from chopmark.keys import KeyType, Signer
from chopmark.store import Store
from chopmark.store.records import create_json, get_json, update_json
from registry.keystore import KeyStore

NS = "issuer"
HOST = "_host"
NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
DEFAULT_KEY_TYPES = (KeyType.ED25519, KeyType.P256)
PURPOSES = ("revocation", "suspension")
DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
Methods = list[dict[str, Any]]  # verification methods of a DID document


def check_name(name: str) -> str:
    """An issuer name: 1-63 lowercase letters, digits and inner hyphens (a DNS label; safe in URLs)."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise BadRequest(f"invalid issuer name {name!r}: use 1-63 lowercase letters, digits and hyphens",
                         code="INVALID_ISSUER_NAME")
    return name


def key_types_for(suites: Iterable[str]) -> tuple[KeyType, ...]:
    """The key types needed to issue with ``suites`` (the first key type each suite accepts)."""
    wanted: list[KeyType] = []
    for name in suites:
        suite = _suite(name)
        if not any(kt in wanted for kt in suite.key_types):
            wanted.append(sorted(suite.key_types, key=lambda k: list(KeyType).index(k))[0])
    return tuple(wanted)


def _suite(name: str) -> Cryptosuite:
    if name not in SUITES or name not in ISSUABLE:
        raise BadRequest(f"unknown or non-issuable cryptosuite {name!r}; use one of {', '.join(ISSUABLE)}",
                         code="UNKNOWN_CRYPTOSUITE")
    return SUITES[name]


class Issuers:
    """The issuer instances of this service, on the shared store and key store."""

    def __init__(self, store: Store, keys: KeyStore, *, public_host: str, clock: Callable[[], datetime],
                 host_methods: Callable[[str], Methods] | None = None) -> None:
        """``public_host``: the did:web host part (``example.com`` or ``127.0.0.1%3A8000``); ``host_methods(did)``:
        extra verification methods of the host document, for assertionMethod only (the evidence log key)."""
        self._store = store
        self._keys = keys
        self._host = public_host
        self._clock = clock
        self._host_methods = host_methods
        self._documents: dict[str, tuple[bytes, bytes]] = {}

    def did_for(self, name: str) -> str:
        """The DID of issuer ``name`` (the host's own DID for the reserved host identity)."""
        return f"did:web:{self._host}" if name == HOST else f"did:web:{self._host}:issuers:{name}"

    def did_of(self, name: str) -> str:
        """The DID of the existing issuer instance ``name`` (NotFound when there is none)."""
        return str(self.get(name)["did"])

    def create(self, name: str, *, suites: Iterable[str] | None = None,
               status_purposes: Iterable[str] = PURPOSES) -> dict[str, Any]:
        """Create issuer ``name`` with one key per needed key type (Ed25519 and P-256 by default)."""
        return self._create(check_name(name), suites=suites, status_purposes=status_purposes)

    def _create(self, name: str, *, suites: Iterable[str] | None, status_purposes: Iterable[str]) -> dict[str, Any]:
        chosen = list(suites) if suites is not None else None
        key_types = key_types_for(chosen) if chosen else DEFAULT_KEY_TYPES
        purposes = [p for p in status_purposes]
        for purpose in purposes:
            if purpose not in PURPOSES:
                raise BadRequest(f"status purpose must be one of {PURPOSES}, got {purpose!r}")
        if get_json(self._store, NS, name) is not None:
            raise Conflict(f"issuer {name!r} already exists", code="ISSUER_EXISTS")
        now = format_datetime(self._clock())
        record: dict[str, Any] = {"name": name, "did": self.did_for(name), "created": now, "keys": [],
                                  "signing": {}, "nextKey": 1, "statusPurposes": purposes,
                                  "suites": chosen or [s for s in ISSUABLE if set(SUITES[s].key_types) &
                                                       set(key_types)]}
        for key_type in key_types:
            self._new_key(record, key_type, now)
        record["defaultSuite"] = record["suites"][0]
        if not create_json(self._store, NS, name, record):
            raise Conflict(f"issuer {name!r} already exists", code="ISSUER_EXISTS")
        return record

    def ensure_host(self) -> dict[str, Any]:
        """The host identity (created on first use): the key behind ``/.well-known/did.json``."""
        record = get_json(self._store, NS, HOST)
        if record is not None:
            return dict(record)
        try:
            return self._create(HOST, suites=["eddsa-rdfc-2022"], status_purposes=())
        except Conflict:
            return self.get(HOST)

    def get(self, name: str) -> dict[str, Any]:
        """The issuer record (NotFound when absent)."""
        record = get_json(self._store, NS, name) if (name == HOST or NAME_RE.fullmatch(name)) else None
        if record is None:
            raise NotFound(f"no issuer named {name!r}", code="ISSUER_NOT_FOUND")
        # the DID follows this service's public URL (a CLI run with another --public-url cannot skew it)
        return {**record, "did": self.did_for(name)}

    def list(self) -> list[dict[str, Any]]:
        """Every issuer (not the host identity), sorted by name."""
        return [{**json.loads(value), "did": self.did_for(key)} for key, value in self._store.scan(NS) if key != HOST]

    def public_view(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record without key-store references (safe to print or return)."""
        keys = [{k: v for k, v in key.items() if k != "ref"} for key in record["keys"]]
        return {"name": record["name"], "did": self.did_for(record["name"]), "created": record["created"], "keys": keys,
                "signing": record["signing"], "suites": record["suites"], "defaultSuite": record["defaultSuite"],
                "statusPurposes": record["statusPurposes"]}

    def document_bytes(self, name: str) -> bytes:
        """The DID document as JSON bytes, read fresh from the store and rebuilt only when the record changed
        (the service's own did:web resolution path)."""
        raw = self._store.get(NS, name) if (name == HOST or NAME_RE.fullmatch(name)) else None
        if raw is None:
            raise NotFound(f"no issuer named {name!r}", code="ISSUER_NOT_FOUND")
        extra = self._extra_methods(name)
        stamp = raw + json.dumps(extra).encode()
        cached = self._documents.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        document = json.dumps(self._document(json.loads(raw) | {"did": self.did_for(name)}, extra)).encode()
        if len(self._documents) >= 4096:
            self._documents.clear()
        self._documents[name] = (stamp, document)
        return document

    def did_document(self, name: str) -> dict[str, Any]:
        """The DID document (Controlled Identifiers 1.0 / DID Core): every key as a Multikey, all of them
        listed for assertionMethod and authentication (retired keys too, so older proofs still verify)."""
        return self._document(self.get(name), self._extra_methods(name))

    def _extra_methods(self, name: str) -> Methods:
        return self._host_methods(self.did_for(HOST)) if name == HOST and self._host_methods else []

    @staticmethod
    def _document(record: dict[str, Any], extra: Methods) -> dict[str, Any]:
        did = record["did"]
        methods = [{"id": f"{did}#{key['id']}", "type": "Multikey", "controller": did,
                    "publicKeyMultibase": key["publicKeyMultibase"]} for key in record["keys"]]
        ids = [m["id"] for m in methods]
        return {"@context": list(DID_CONTEXTS), "id": did, "verificationMethod": methods + extra,
                "assertionMethod": ids + [m["id"] for m in extra], "authentication": ids, "capabilityInvocation": ids}

    def rotate(self, name: str, key_type: KeyType) -> dict[str, Any]:
        """Add a new key of ``key_type`` and make it the signing key for that type; the old key is kept."""
        now = format_datetime(self._clock())
        self.get(name)  # no orphan key for an unknown issuer
        fresh = self._keys.create(name, key_type)

        def change(record: dict[str, Any] | None) -> dict[str, Any]:
            if record is None:
                raise NotFound(f"no issuer named {name!r}", code="ISSUER_NOT_FOUND")
            self._append_key(record, fresh.ref, key_type, fresh.public_key.multibase(), now)
            return record

        return dict(update_json(self._store, NS, name, change))

    def remove_key(self, name: str, key_id: str) -> dict[str, Any]:
        """Remove a key that is not a current signing key (credentials signed with it stop verifying)."""
        removed: list[str] = []

        def change(record: dict[str, Any] | None) -> dict[str, Any]:
            if record is None:
                raise NotFound(f"no issuer named {name!r}", code="ISSUER_NOT_FOUND")
            key = next((k for k in record["keys"] if k["id"] == key_id), None)
            if key is None:
                raise NotFound(f"issuer {name!r} has no key {key_id!r}", code="KEY_NOT_FOUND")
            if record["signing"].get(key["type"]) == key_id:
                raise Conflict(f"{key_id} is the current {key['type']} signing key; rotate first",
                               code="KEY_IN_USE")
            record["keys"] = [k for k in record["keys"] if k["id"] != key_id]
            removed[:] = [key["ref"]]
            return record

        record = update_json(self._store, NS, name, change)
        for ref in removed:
            self._keys.destroy(ref)
        return dict(record)

    def signer(self, name: str, suite_name: str) -> tuple[Signer, dict[str, Any]]:
        """The signer for ``suite_name`` (the issuer's current key of a type the suite accepts) and the record."""
        record = self.get(name)
        suite = _suite(suite_name)
        if suite_name not in record["suites"]:
            raise BadRequest(f"issuer {name!r} is not configured for {suite_name}; it issues with "
                             f"{', '.join(record['suites'])}", code="SUITE_NOT_CONFIGURED")
        for key_type in suite.key_types:
            key_id = record["signing"].get(key_type.value)
            if key_id is not None:
                key = next(k for k in record["keys"] if k["id"] == key_id)
                return self._keys.signer(key["ref"], f"{record['did']}#{key_id}"), record
        raise BadRequest(f"issuer {name!r} has no key for {suite_name}", code="NO_KEY_FOR_SUITE")

    def _new_key(self, record: dict[str, Any], key_type: KeyType, now: str) -> None:
        stored = self._keys.create(record["name"], key_type)
        self._append_key(record, stored.ref, key_type, stored.public_key.multibase(), now)

    @staticmethod
    def _append_key(record: dict[str, Any], ref: str, key_type: KeyType, public: str, now: str) -> None:
        key_id = f"key-{record['nextKey']}"
        record["nextKey"] += 1
        record["keys"].append({"id": key_id, "ref": ref, "type": key_type.value, "publicKeyMultibase": public,
                               "created": now})
        record["signing"][key_type.value] = key_id
