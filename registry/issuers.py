"""Issuer instances (tenants): their DIDs (did:web or did:key), keys, DID documents and key rotation.

An issuer ``NAME`` is ``did:web:<public host>:issuers:NAME`` by default; its DID document is served at
``/issuers/NAME/did.json`` and the host's own DID (``did:web:<public host>``) at ``/.well-known/did.json``
(did:web method specification §3.2 "Read": the path maps to ``/<segments>/did.json`` or ``/.well-known``).
Rotation adds a key and makes it the signing key for its type; the old key stays in the document (so earlier
credentials still verify) until it is removed deliberately.

An instance created with ``did_method="key"`` is the did:key of its one signing key (The did:key Method v0.7:
``did:key:<multibase>``, verification method ``did:key:<multibase>#<multibase>``): resolvable by anyone with no
fetch, no document served. One key per DID, so it has exactly one key type, and it cannot rotate (a new key
is a new DID: create a new instance). Every instance holds only the key types its suites need (or those chosen
with ``key_types``); asking to sign with a suite whose key type it lacks is ``KEY_TYPE_NOT_AVAILABLE``.
The log key of the host DID is in ``verificationMethod`` and under its own relationship (:data:`LOG_SIGNING`),
never under ``assertionMethod``: it cannot sign a credential.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from chopmark.codecs.dates import format_datetime
from chopmark.dids import resolve_did_key
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
DID_METHODS = ("web", "key")
#: The verification relationship of the evidence log key in the host DID document (not assertionMethod: the
#: log key signs checkpoints, never credentials).
LOG_SIGNING = "https://chopmark.org/vocab#logSigning"
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


def plan_keys(suites: list[str] | None, key_types: Iterable[KeyType] | None, did_method: str
              ) -> tuple[KeyType, ...]:
    """The key types of a new instance: ``key_types`` when given (each must serve one of ``suites``, and each
    suite must have one), else those ``suites`` need, else Ed25519 and P-256 (Ed25519 alone for did:key). A
    did:key instance has exactly one key type."""
    if did_method not in DID_METHODS:
        raise BadRequest(f"DID method must be one of {', '.join(DID_METHODS)}, not {did_method!r}",
                         code="UNKNOWN_DID_METHOD")
    chosen_types = tuple(dict.fromkeys(key_types)) if key_types else ()
    if chosen_types:
        for name in suites or ():
            if not set(_suite(name).key_types) & set(chosen_types):
                raise BadRequest(f"{name} needs a {' or '.join(sorted(_suite(name).key_types))} key; the chosen "
                                 f"key types are {', '.join(chosen_types)}", code="KEY_TYPE_MISMATCH")
        for key_type in chosen_types:
            if suites and not any(key_type in _suite(name).key_types for name in suites):
                raise BadRequest(f"no chosen suite signs with a {key_type} key", code="KEY_TYPE_MISMATCH")
        wanted = chosen_types
    elif suites:
        wanted = key_types_for(suites)
    else:
        wanted = (KeyType.ED25519,) if did_method == "key" else DEFAULT_KEY_TYPES
    if did_method == "key" and len(wanted) != 1:
        raise BadRequest(f"a did:key instance holds exactly one key, but these suites need {', '.join(wanted)}; "
                         "choose one key type", code="DID_KEY_ONE_KEY_TYPE")
    return wanted


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
        """The DID of issuer ``name`` (the host's own DID for the reserved host identity): its did:key when it
        is a did:key instance, else its did:web (also for names that do not exist yet)."""
        if name != HOST and NAME_RE.fullmatch(name):
            record = get_json(self._store, NS, name)
            if record is not None:
                return self._did(record)
        return self._web_did(name)

    def _web_did(self, name: str) -> str:
        return f"did:web:{self._host}" if name == HOST else f"did:web:{self._host}:issuers:{name}"

    def _did(self, record: dict[str, Any]) -> str:
        # a did:web follows this service's public URL (a CLI run with another --public-url cannot skew it)
        return str(record["did"]) if record.get("didMethod") == "key" else self._web_did(record["name"])

    def did_of(self, name: str) -> str:
        """The DID of the existing issuer instance ``name`` (NotFound when there is none)."""
        return str(self.get(name)["did"])

    def create(self, name: str, *, suites: Iterable[str] | None = None, status_purposes: Iterable[str] = PURPOSES,
               key_types: Iterable[KeyType] | None = None, did_method: str = "web") -> dict[str, Any]:
        """Create issuer ``name`` with one key per key type (see :func:`plan_keys`; Ed25519 and P-256 by
        default); ``did_method="key"`` makes its DID the did:key of its one key."""
        return self._create(check_name(name), suites=suites, status_purposes=status_purposes,
                            key_types=key_types, did_method=did_method)

    def _create(self, name: str, *, suites: Iterable[str] | None, status_purposes: Iterable[str],
                key_types: Iterable[KeyType] | None = None, did_method: str = "web") -> dict[str, Any]:
        chosen = list(suites) if suites else None
        key_types = plan_keys(chosen, key_types, did_method)
        purposes = [p for p in status_purposes]
        for purpose in purposes:
            if purpose not in PURPOSES:
                raise BadRequest(f"status purpose must be one of {PURPOSES}, got {purpose!r}")
        if get_json(self._store, NS, name) is not None:
            raise Conflict(f"issuer {name!r} already exists", code="ISSUER_EXISTS")
        now = format_datetime(self._clock())
        record: dict[str, Any] = {"name": name, "did": self._web_did(name), "didMethod": did_method,
                                  "created": now, "keys": [], "signing": {}, "nextKey": 1,
                                  "statusPurposes": purposes,
                                  "suites": chosen or [s for s in ISSUABLE if set(SUITES[s].key_types) &
                                                       set(key_types)]}
        for key_type in key_types:
            self._new_key(record, key_type, now)
        if did_method == "key":
            # The did:key Method v0.7 "Document Creation": did:key:<mb>, verification method <did>#<mb>
            key = record["keys"][0]
            record["did"] = "did:key:" + key["publicKeyMultibase"]
            key["id"] = key["publicKeyMultibase"]
            record["signing"][key["type"]] = key["id"]
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
        return {**record, "did": self._did(record)}

    def list(self) -> list[dict[str, Any]]:
        """Every issuer (not the host identity), sorted by name."""
        records = [json.loads(value) for key, value in self._store.scan(NS) if key != HOST]
        return [{**record, "did": self._did(record)} for record in records]

    def public_view(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record without key-store references (safe to print or return)."""
        keys = [{k: v for k, v in key.items() if k != "ref"} for key in record["keys"]]
        return {"name": record["name"], "did": self._did(record), "didMethod": record.get("didMethod", "web"),
                "created": record["created"], "keys": keys, "signing": record["signing"], "suites": record["suites"],
                "defaultSuite": record["defaultSuite"], "statusPurposes": record["statusPurposes"]}

    def document_bytes(self, name: str) -> bytes:
        """The DID document as JSON bytes, read fresh from the store and rebuilt only when the record changed
        (the service's own did:web resolution path)."""
        raw = self._store.get(NS, name) if (name == HOST or NAME_RE.fullmatch(name)) else None
        if raw is None or json.loads(raw).get("didMethod") == "key":
            # a did:key instance has no did:web document: its DID resolves from the DID itself
            raise NotFound(f"no did:web issuer named {name!r}", code="ISSUER_NOT_FOUND")
        extra = self._extra_methods(name)
        stamp = raw + json.dumps(extra).encode()
        cached = self._documents.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        document = json.dumps(self._document(json.loads(raw) | {"did": self._web_did(name)}, extra)).encode()
        if len(self._documents) >= 4096:
            self._documents.clear()
        self._documents[name] = (stamp, document)
        return document

    def did_document(self, name: str) -> dict[str, Any]:
        """The DID document (Controlled Identifiers 1.0 / DID Core): every key as a Multikey, all of them
        listed for assertionMethod and authentication (retired keys too, so older proofs still verify); for a
        did:key instance, the document the did:key method derives from the DID."""
        record = self.get(name)
        if record.get("didMethod") == "key":
            return resolve_did_key(record["did"])
        return self._document(record, self._extra_methods(name))

    def _extra_methods(self, name: str) -> Methods:
        return self._host_methods(self.did_for(HOST)) if name == HOST and self._host_methods else []

    @staticmethod
    def _document(record: dict[str, Any], extra: Methods) -> dict[str, Any]:
        did = record["did"]
        methods = [{"id": f"{did}#{key['id']}", "type": "Multikey", "controller": did,
                    "publicKeyMultibase": key["publicKeyMultibase"]} for key in record["keys"]]
        ids = [m["id"] for m in methods]
        document = {"@context": list(DID_CONTEXTS), "id": did, "verificationMethod": methods + extra,
                    "assertionMethod": ids, "authentication": ids, "capabilityInvocation": ids}
        if extra:  # the log key: its own relationship, so it can never sign a credential (assertionMethod)
            document[LOG_SIGNING] = [m["id"] for m in extra]
        return document

    def rotate(self, name: str, key_type: KeyType) -> dict[str, Any]:
        """Add a new key of ``key_type`` and make it the signing key for that type; the old key is kept."""
        now = format_datetime(self._clock())
        if self.get(name).get("didMethod") == "key":  # no orphan key for an unknown issuer either
            raise Conflict(f"issuer {name!r} is a did:key instance: its DID is its key, so a new key would be a new "
                           "DID; create a new instance instead", code="DID_KEY_NO_ROTATION")
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
        held = {key["type"] for key in record["keys"]}
        if not held & {key_type.value for key_type in suite.key_types}:
            raise BadRequest(f"{suite_name} needs a {' or '.join(sorted(suite.key_types))} key; issuer {name!r} "
                             f"holds only {', '.join(sorted(held))} keys", code="KEY_TYPE_NOT_AVAILABLE")
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
