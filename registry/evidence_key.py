"""The evidence log's signing key: Ed25519, sealed in the registry's key store, created on first use.

The key is also a verification method of the host's DID document (``did:web:<host>#log-key``, a Multikey), so
the log key can be found from the registry's DID as well as at ``/log/key``. It is listed under its own
verification relationship (``https://chopmark.org/vocab#logSigning``, see :data:`registry.issuers.LOG_SIGNING`),
never under ``assertionMethod``: a credential signed with it fails verification (proofPurpose assertionMethod
is not authorized for it, Controlled Identifiers 1.0 §3.3 "Retrieve Verification Method").
"""

from __future__ import annotations

import json
import threading
from typing import Any

from chopmark.keys import KeyType, Signer
from chopmark.store import Store
from registry.keystore import KeyStore

NS = "tlog-key"
KEY = "evidence"
OWNER = "_log"
FRAGMENT = "log-key"


class LogKey:
    """Finds (or creates, once, also under concurrency) the log key; hands out its signer."""

    def __init__(self, store: Store, keys: KeyStore, *, host_did: str) -> None:
        """``host_did``: the registry's own DID (the key's verification method is ``<host_did>#log-key``)."""
        self._store = store
        self._keys = keys
        self.vm_id = f"{host_did}#{FRAGMENT}"
        self._record: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def record(self) -> dict[str, Any]:
        """``{ref, publicKeyMultibase}`` of the log key, creating the key on first use: the first creator's
        record wins a race; a losing creator destroys its own key."""
        with self._lock:
            if self._record is not None:
                return self._record
        raw = self._store.get(NS, KEY)
        if raw is None:
            stored = self._keys.create(OWNER, KeyType.ED25519)
            mine = {"ref": stored.ref, "publicKeyMultibase": stored.public_key.multibase()}
            if not self._store.create(NS, KEY, json.dumps(mine, sort_keys=True).encode()):
                self._keys.destroy(stored.ref)
            raw = self._store.get(NS, KEY)
            if raw is None:  # created a moment ago: only a store that lost data gets here
                raise RuntimeError("the evidence log key record vanished")
        record = dict(json.loads(raw))
        with self._lock:
            self._record = record
        return record

    def signer(self) -> Signer:
        """The log's signer (the private key never leaves the key store's signer)."""
        return self._keys.signer(self.record()["ref"], self.vm_id)

    def verification_methods(self, did: str) -> list[dict[str, Any]]:
        """The key as a Multikey verification method of ``did`` (what the host DID document adds)."""
        return [{"id": f"{did}#{FRAGMENT}", "type": "Multikey", "controller": did,
                 "publicKeyMultibase": self.record()["publicKeyMultibase"]}]
