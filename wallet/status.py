"""The status of stored credentials, as ``chopmark wallet list`` shows it.

Each credential gets one of ``valid``, ``revoked``, ``suspended``, ``expired``, ``not-yet-valid`` or ``unknown``
and the source of that answer:

* ``expired`` / ``not-yet-valid`` come from the credential's own validity period and the wallet's clock (no
  network needed; source ``credential``);
* otherwise each ``BitstringStatusListEntry`` is checked against its status list credential, fetched from the
  registry (the named services' origins, else HTTPS through the SSRF-safe fetcher) and verified (proof, issuer
  binding, validity) with the same issuer as the credential: source ``registry``. A revocation wins over a
  suspension. A credential without status entries is ``valid`` while in its validity period (source
  ``credential``);
* when a status list cannot be fetched or does not verify (offline, or ``online=False``), the last state the
  wallet recorded is shown with its time (source ``last-known``), or ``unknown`` (source ``none``) when it never
  checked one.

Every state obtained from the registry is recorded in the wallet file (:meth:`wallet.core.Wallet.record_status`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chopmark.codecs.dates import format_datetime, parse_datetime
from chopmark.errors import ChopmarkError
from chopmark.jsonld.values import as_list
from chopmark.vc import datamodel, statuslist
from chopmark.vc.credentials import verify_credential
from wallet import query
from wallet.client import WalletClient
from wallet.core import Wallet

VALID, REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID, UNKNOWN = (
    "valid", "revoked", "suspended", "expired", "not-yet-valid", "unknown")
_SET = {"revocation": REVOKED, "suspension": SUSPENDED}


class _Unreachable(Exception):
    """A status list could not be fetched or did not verify."""


@dataclass(frozen=True)
class Status:
    """A credential's status, where it comes from (``registry``, ``credential``, ``last-known``, ``none``) and
    when it was checked (for ``last-known``: when it was recorded)."""

    value: str
    source: str
    checked: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"value", "source", "checked"}``."""
        return {"value": self.value, "source": self.source, "checked": self.checked}


def _period(credential: Mapping[str, Any], now: datetime) -> str | None:
    """``expired`` / ``not-yet-valid`` outside the validity period (VCDM 2.0 §4.9), else None."""
    if query.valid_at(credential, now):
        return None
    try:
        early = "validFrom" in credential and parse_datetime(credential["validFrom"], name="validFrom") > now
    except ChopmarkError:
        early = False
    return NOT_YET_VALID if early else EXPIRED


class StatusReader:
    """Checks stored credentials' status lists through ``client`` (each list fetched and verified once)."""

    def __init__(self, client: WalletClient, *, online: bool = True,
                 fetch: Callable[[str], Any] | None = None) -> None:
        """``online=False``: never fetch, show the last known states; ``fetch``: the JSON at a URL (default:
        :meth:`WalletClient.fetch_json`)."""
        self.client = client
        self.online = online
        self._fetch = fetch or client.fetch_json
        self._lists: dict[str, Mapping[str, Any] | None] = {}

    def _list(self, url: str, issuer: str | None) -> Mapping[str, Any]:
        if url not in self._lists:
            self._lists[url] = None
            try:
                document = self._fetch(url)
                if not isinstance(document, Mapping):
                    raise _Unreachable(url)
                result = verify_credential(document, resolver=self.client.resolver, now=self.client.wallet.now(),
                                           loader=self.client.loader)
                if result.verified:
                    self._lists[url] = document
            except (ChopmarkError, ValueError, OSError):
                pass
        found = self._lists[url]
        if found is None or datamodel.issuer_id(found) != issuer:
            raise _Unreachable(url)
        return found

    def _from_registry(self, credential: Mapping[str, Any]) -> str:
        issuer = datamodel.issuer_id(credential)
        states = set()
        for entry in as_list(credential.get("credentialStatus")):
            try:
                parsed = statuslist.check_entry(entry, credential)
                outcome = statuslist.evaluate(parsed, self._list(parsed.list_url, issuer),
                                              now=self.client.wallet.now())
            except ChopmarkError as exc:
                raise _Unreachable(str(exc)) from None
            if not outcome.valid and outcome.purpose in _SET:
                states.add(_SET[outcome.purpose])
        return REVOKED if REVOKED in states else SUSPENDED if SUSPENDED in states else VALID

    def status(self, entry: Mapping[str, Any]) -> Status:
        """The status of one stored entry (see the module docstring)."""
        now = self.client.wallet.now()
        credential = entry["credential"]
        period = _period(credential, now)
        if period is not None:
            return Status(period, "credential", format_datetime(now))
        if not as_list(credential.get("credentialStatus")):
            return Status(VALID, "credential", format_datetime(now))
        if self.online:
            try:
                return Status(self._from_registry(credential), "registry", format_datetime(now))
            except _Unreachable:
                pass
        known = entry.get("status")
        if isinstance(known, Mapping) and isinstance(known.get("value"), str):
            return Status(str(known["value"]), "last-known", known.get("checked"))
        return Status(UNKNOWN, "none")


def statuses(wallet: Wallet, client: WalletClient, *, online: bool = True) -> dict[str, Status]:
    """The status of every stored credential by id; states obtained from the registry are recorded."""
    reader = StatusReader(client, online=online)
    found = {entry["id"]: reader.status(entry) for entry in wallet.credentials()}
    fresh = {ident: s.to_json() for ident, s in found.items() if s.source == "registry"}
    if fresh:
        wallet.record_status(fresh)
    return found
