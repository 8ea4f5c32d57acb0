"""The root command's side of the roles' command groups: what a role's commands need of a deployment that the
role may not build itself (it never imports another role), opened from the command's settings.

* :func:`open_sites`: the verifier's site profiles, whose DIDs are the registry's issuer instances;
* :func:`open_onboarding`: the sites' onboarding, wired as the server wires it (``site recheck``);
* :class:`IdentityDemo`: ``demo identity`` (wallet) creates the demo ecosystem (registry and sites) and tokens;
* :class:`RankingDemo`: ``demo ranking`` (issuer) creates its merchant and a token, and re-commits a campaign.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from chopmark.cli import seed
from chopmark.errors import NotFound
from chopmark.jsonld import DocumentLoader
from chopmark.web.settings import Settings
from issuer.campaigns import Campaigns
from registry.cli import open_registry
from registry.service import Registry
from verifier.onboarding import Onboarding
from verifier.sites import Sites


def open_sites(settings: Settings) -> Sites:
    """The site profiles of the deployment ``settings`` name (``chopmark site ...``)."""
    registry = open_registry(settings)
    return Sites(registry.store, did_for=registry.issuers.did_of)


def open_onboarding(settings: Settings) -> Onboarding:
    """The sites' onboarding of the deployment ``settings`` name, with the issuer, verifier and trust source
    ``create_app`` gives it (``chopmark site recheck``)."""
    from chopmark.app import create_app

    onboarding: Onboarding = create_app(settings).extensions["chopmark.onboarding"]
    return onboarding


class _RegistryHost:
    """What both demo hosts do with the deployment's registry: revoke the tokens they made, close the store."""

    def __init__(self, registry: Registry) -> None:
        """Work on ``registry`` (its store is closed by :meth:`close`)."""
        self._registry = registry

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token."""
        self._registry.tokens.revoke(token_id)

    def close(self) -> None:
        """Close the store."""
        self._registry.store.close()


class IdentityDemo(_RegistryHost):
    """:class:`wallet.demo.IdentityDemoHost` over a deployment's registry."""

    @classmethod
    def open(cls, settings: Settings) -> IdentityDemo:
        """The host of the deployment ``settings`` name."""
        return cls(open_registry(settings))

    def prepare(self, url: str) -> list[str]:
        """Create the demo issuers and the identity ecosystem that are missing; say what was done."""
        done = [f"created issuer {name}" for name in seed.ensure_demo_issuers(self._registry)]
        added = seed.ensure_identity_ecosystem(self._registry, self._registry.store, url)
        return done + [f"added {line}" for line in added]

    def token(self, issuer: str, label: str) -> dict[str, Any]:
        """A new ``issue,status`` token of ``issuer``."""
        return self._registry.tokens.create(issuer=issuer, scopes="issue,status", label=label)


class RankingDemo(_RegistryHost):
    """:class:`issuer.demo.RankingDemoHost` over a deployment's registry."""

    def __init__(self, registry: Registry, settings: Settings) -> None:
        """Work on ``registry`` of the deployment ``settings`` name."""
        super().__init__(registry)
        self._settings = settings

    @classmethod
    def open(cls, settings: Settings) -> RankingDemo:
        """The host of the deployment ``settings`` name."""
        return cls(open_registry(settings), settings)

    def merchant_token(self, merchant: str, label: str) -> dict[str, Any]:
        """Create issuer ``merchant`` unless it exists, and an ``issue`` token for it."""
        try:
            self._registry.issuers.get(merchant)
        except NotFound:
            self._registry.issuers.create(merchant)
        return self._registry.tokens.create(issuer=merchant, scopes="issue", label=label)

    def campaigns(self) -> Campaigns:
        """The deployment's campaigns, over its store and registry."""
        return Campaigns(self._registry.store, self._registry, kek=self._settings.load_kek(),
                         public_url=self._settings.public_url, clock=lambda: datetime.now(UTC), rng=os.urandom,
                         loader=DocumentLoader.pinned())
