"""Shared pieces of the merchant-identity end-to-end tests: a seeded live server, merchant wallets, hand-built
presentations for the negative cases."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chopmark.dids import did_key_signer
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.vc.presentations import create_presentation, sign_presentation
from chopmark.vocab import CONTEXT_URL
from tests.support.live import LiveServer, Reply, backend_store, post
from wallet.client import WalletClient
from wallet.core import Wallet
from wallet.demo import demo_application
from wallet.vault import KdfParams

FAST_KDF = KdfParams(n=2**4, r=8, p=1)
PASSPHRASE = "merchant passphrase"


@dataclass
class Ecosystem:
    """A seeded server (demo issuers, trust registry, site profiles) and its demo tokens."""

    server: LiveServer
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def authority(self) -> str:
        """The KYB authority's issuer URL."""
        return f"{self.url}/issuers/kyb-authority"

    def site(self, name: str) -> str:
        """A site's URL."""
        return f"{self.url}/sites/{name}"

    def set_status(self, credential_id: str, purpose: str, value: bool) -> None:
        """The KYB authority flips a status bit of an identity credential."""
        reply = post(f"{self.url}/credentials/status", {"credentialId": credential_id, "status": value,
                                                        "credentialStatus": {"statusPurpose": purpose}},
                     token=self.tokens["kyb-authority"])
        assert reply.status == 200, reply.json

    def recheck(self, site: str, account: str) -> Reply:
        """``POST /sites/{site}/sellers/{account}/verify`` with the site's token."""
        return post(f"{self.url}/sites/{site}/sellers/{account}/verify", {}, token=self.tokens[site])

    def issue(self, issuer: str, credential: Mapping[str, Any]) -> Reply:
        """Issue through the VC API as ``issuer`` (its demo token)."""
        return post(f"{self.url}/credentials/issue", {"credential": dict(credential)}, token=self.tokens[issuer])


@contextmanager
def seeded_server(data_dir: Path, store: str | None = None) -> Iterator[Ecosystem]:
    """``chopmark serve --seed-demo`` on a free port; yields the ecosystem with the printed demo tokens."""
    with LiveServer(data_dir, store=store, env={"CHOPMARK_SEED_DEMO": "true"}) as server:
        tokens = json.loads((data_dir / "demo-tokens.json").read_text(encoding="utf-8"))
        yield Ecosystem(server, tokens)


@dataclass
class Merchant:
    """A merchant: its wallet file and a client talking to the ecosystem."""

    wallet: Wallet
    client: WalletClient

    @property
    def did(self) -> str:
        """The holder DID."""
        return self.wallet.did

    @property
    def signer(self) -> Signer:
        """The holder's signing key."""
        return self.wallet.signer


@contextmanager
def backend_ecosystem(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                      label: str) -> Iterator[Ecosystem]:
    """For a module fixture parametrized over ``BACKENDS``: a seeded server on SQLite, or on Redis under a fresh
    prefix."""
    data_dir = tmp_path_factory.mktemp(f"{label}-{request.param}")
    with backend_store(request) as store, seeded_server(data_dir, store) as eco:
        yield eco


def new_merchant(folder: Path, ecosystem: Ecosystem, name: str = "merchant") -> Merchant:
    """A fresh did:key wallet configured with the ecosystem's registry."""
    wallet = Wallet.create(folder / f"{name}.cmw", PASSPHRASE, kdf=FAST_KDF, registry_url=ecosystem.url)
    return Merchant(wallet, WalletClient(wallet, timeout=60))


def identified_merchant(folder: Path, ecosystem: Ecosystem, name: str = "merchant",
                        **changes: Any) -> tuple[Merchant, dict[str, Any]]:
    """A merchant holding a fresh identity credential from the KYB authority."""
    merchant = new_merchant(folder, ecosystem, name)
    application = {**demo_application(), **changes}
    return merchant, merchant.client.request_identity(ecosystem.authority(), application)


def other_key() -> tuple[str, Signer]:
    """A did:key that is not the merchant's."""
    return did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))


def open_onboarding(ecosystem: Ecosystem, site: str) -> dict[str, Any]:
    """``POST /sites/{site}/onboarding`` (must answer 201)."""
    reply = post(f"{ecosystem.site(site)}/onboarding", None)
    assert reply.status == 201, reply.json
    return dict(reply.json)


def presentation(credentials: Sequence[Mapping[str, Any]], holder: str, signer: Signer, *, challenge: str,
                 domain: str) -> dict[str, Any]:
    """A presentation signed by ``signer`` for ``holder`` (the negative cases build their own)."""
    vp = create_presentation(list(credentials), holder=holder, extra_contexts=[CONTEXT_URL])
    return sign_presentation(vp, signer, challenge=challenge, domain=domain)


def answer(ecosystem: Ecosystem, site: str, exchange_id: str, vp: Mapping[str, Any]) -> Reply:
    """``POST /sites/{site}/onboarding/{id}`` with ``vp``."""
    return post(f"{ecosystem.site(site)}/onboarding/{exchange_id}", {"verifiablePresentation": dict(vp)})


def decide(ecosystem: Ecosystem, site: str, credentials: Sequence[Mapping[str, Any]], holder: str,
           signer: Signer) -> dict[str, Any]:
    """A whole onboarding with a hand-built presentation; returns the decision (200 required)."""
    opened = open_onboarding(ecosystem, site)
    request = opened["verifiablePresentationRequest"]
    vp = presentation(credentials, holder, signer, challenge=request["challenge"], domain=request["domain"])
    reply = answer(ecosystem, site, opened["id"], vp)
    assert reply.status == 200, reply.json
    return dict(reply.json)


def codes(decision: Mapping[str, Any]) -> set[str]:
    """The reason codes of a decision."""
    return {r["code"] for r in decision.get("reasons", [])}
