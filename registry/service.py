"""The registry role as one value: issuers, keys, tokens, status lists, the trust registry and the evidence log over
one store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chopmark.jsonld import DocumentLoader
from chopmark.store import Store
from registry.evidence import EvidenceLog
from registry.evidence_key import LogKey
from registry.issuers import Issuers
from registry.keystore import EncryptedKeyStore, KeyStore
from registry.statuslists import StatusLists
from registry.tokens import Tokens
from registry.trust import TrustRegistry


@dataclass(frozen=True)
class Registry:
    """Everything the registry publishes and administers."""

    store: Store
    keys: KeyStore
    issuers: Issuers
    tokens: Tokens
    status_lists: StatusLists
    trust: TrustRegistry
    evidence: EvidenceLog

    @classmethod
    def build(cls, store: Store, *, kek: bytes, public_url: str, public_host: str,
              rng: Callable[[int], bytes], clock: Callable[[], datetime],
              loader: DocumentLoader) -> Registry:
        """Wire the registry's parts over ``store`` (keys sealed with ``kek``)."""
        keys = EncryptedKeyStore(store, kek, rng)
        log_key = LogKey(store, keys, host_did=f"did:web:{public_host}")
        issuers = Issuers(store, keys, public_host=public_host, clock=clock, host_methods=log_key.verification_methods)
        tokens = Tokens(store, rng=rng, clock=clock)
        lists = StatusLists(store, issuers, public_url=public_url, rng=rng, clock=clock, loader=loader)
        trust = TrustRegistry(store, issuers, clock=clock, rng=rng, loader=loader, public_url=public_url)
        # the log's origin (and note key name): the public host with its port decoded, e.g. 127.0.0.1:8000/log
        evidence = EvidenceLog(store, log_key.signer, origin=public_host.replace("%3A", ":") + "/log", clock=clock)
        return cls(store, keys, issuers, tokens, lists, trust, evidence)
