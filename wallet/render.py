"""Rich tables for the wallet commands (people); the commands print JSON instead under ``--json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def console(*, stderr: bool = False) -> Console:
    """A console at least 120 columns wide (tables of DIDs are wide), no emoji or highlighting surprises."""
    out = Console(stderr=stderr, emoji=False, highlight=False)
    out.width = max(out.width, 120)
    return out


def _text(value: Any) -> str:
    if isinstance(value, Mapping) and "@value" in value:
        return str(value["@value"])
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items() if k != "type")
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return "" if value is None else str(value)


_STATUS_STYLE = {"valid": "green", "revoked": "red", "suspended": "yellow", "expired": "red",
                 "not-yet-valid": "yellow"}


def status_text(status: Mapping[str, Any] | None) -> str:
    """The status, and on the next lines where it comes from: ``registry``, ``credential`` (its validity period,
    or it has no status list), ``last known`` with the time it was checked, or ``never checked``."""
    if not status:
        return "unknown\nnever checked"
    value, source = str(status.get("value")), status.get("source")
    style = _STATUS_STYLE.get(value)
    shown = f"[{style}]{value}[/{style}]" if style else value
    if source == "last-known":
        return f"{shown}\nlast known\n{status.get('checked') or ''}".rstrip()
    return f"{shown}\n{'never checked' if source == 'none' else source}"


def credentials_table(entries: Sequence[Mapping[str, Any]], title: str = "Credentials", *,
                      statuses: Mapping[str, Mapping[str, Any]] | None = None) -> Table:
    """One row per stored credential, with its whole id (``show`` has every field) and, when ``statuses`` is
    given, its status (:func:`status_text`)."""
    table = Table(title=title)
    table.add_column("id", overflow="fold")  # whole: folded over lines when the table is narrow, never cut
    if statuses is not None:
        table.add_column("status", no_wrap=True)
    for column in ("type", "valid until", "issuer", "name"):
        table.add_column(column, overflow="fold", no_wrap=column in ("type", "valid until"))
    for entry in entries:
        subject = entry["credential"].get("credentialSubject")
        name = _text(subject.get("legalName")) if isinstance(subject, Mapping) else ""
        status = [status_text(statuses.get(entry["id"]))] if statuses is not None else []
        table.add_row(entry["id"], *status, ", ".join(entry["types"]), (entry.get("validUntil") or "-")[:10],
                      entry.get("issuer") or "", name)
    return table


def entry_table(entry: Mapping[str, Any]) -> Table:
    """The fields of one stored credential and its subject's claims."""
    table = Table(title=f"Credential {entry['id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    credential = entry["credential"]
    rows = [("types", ", ".join(entry["types"])), ("issuer", entry.get("issuer")),
            ("subject", entry.get("subject")), ("valid from", credential.get("validFrom")),
            ("valid until", entry.get("validUntil")), ("received", entry.get("received")),
            ("checked", ", ".join(entry.get("verifiedBy", {}).get("checks", [])))]
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping):
        rows += [(f"  {k}", _text(v)) for k, v in subject.items() if k not in ("id", "type")]
    for field, value in rows:
        table.add_row(field, _text(value) or "-")
    return table


def settings_table(did: str, settings: Mapping[str, Any], cache: Mapping[str, Any] | None) -> Table:
    """The holder DID, the registry and the cached trust list."""
    table = Table(title="Wallet", show_header=False)
    table.add_column("setting", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("holder DID", did)
    table.add_row("registry URL", settings.get("registryUrl") or "-")
    table.add_row("registry DID", settings.get("registryDid") or "-")
    if cache:
        listed = cache["credential"]
        version = listed.get("credentialSubject", {}).get("trustListVersion")
        table.add_row("cached trust list",
                      f"version {version}, fetched {cache.get('fetched')}, valid until {listed.get('validUntil')}")
    return table


def sites_table(members: Sequence[Mapping[str, Any]]) -> Table:
    """The member sites of the trust list."""
    table = Table(title="Member sites (trust list)")
    for column in ("name", "DID", "onboarding URL"):
        table.add_column(column, overflow="fold")
    for member in members:
        table.add_row(_text(member.get("name")), str(member.get("id")), str(member.get("onboardingUrl")))
    return table


def _decision_style(decision: str) -> str:
    return {"accepted": "[green]accepted", "rejected": "[red]rejected", "held": "[yellow]held"}.get(
        decision, f"[red]{decision}")


def onboarding_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """One row per site: decision, seller account, reasons (codes or the error), round-trip milliseconds."""
    table = Table(title="Onboarding decisions")
    for column in ("site", "decision", "seller account", "reasons", "ms"):
        table.add_column(column, overflow="fold")
    table.columns[-1].justify = "right"
    for row in rows:
        reasons = row.get("reasons") or []
        text = "; ".join(f"{r.get('code')}: {r.get('detail')}" if row["decision"] == "error" else str(r.get("code"))
                         for r in reasons if isinstance(r, Mapping))
        refused = (row.get("wallet") or {}).get("refused")
        if refused:
            codes = ", ".join(r["code"] for r in refused)
            text += ("; " if text else "") + f"credential refused by the wallet: {codes}"
        table.add_row(str(row["site"]), _decision_style(str(row["decision"])), row.get("sellerAccountId") or "-",
                      text or "-", f"{row['ms']:.0f}")
    return table
