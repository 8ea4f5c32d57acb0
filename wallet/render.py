"""Rich tables for the wallet commands (people); the commands print JSON instead under ``--json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

MIN_UNIQUE = 24


def console(*, stderr: bool = False) -> Console:
    """A console at least 120 columns wide (tables of DIDs are wide), no emoji or highlighting surprises."""
    out = Console(stderr=stderr, emoji=False, highlight=False)
    out.width = max(out.width, 120)
    return out


def short_ids(ids: Sequence[str]) -> dict[str, str]:
    """The shortest prefix (at least 24 characters) that names each id uniquely; commands accept prefixes."""
    out: dict[str, str] = {}
    for ident in ids:
        size = min(len(ident), MIN_UNIQUE)
        while size < len(ident) and sum(other.startswith(ident[:size]) for other in ids) > 1:
            size += 1
        out[ident] = ident[:size]
    return out


def _text(value: Any) -> str:
    if isinstance(value, Mapping) and "@value" in value:
        return str(value["@value"])
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items() if k != "type")
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def credentials_table(entries: Sequence[Mapping[str, Any]], title: str = "Credentials") -> Table:
    """One row per stored credential (``show`` has every field)."""
    table = Table(title=title)
    for column in ("id", "type", "issuer", "name", "valid until"):
        wraps = column in ("issuer", "name")
        table.add_column(column, overflow="fold", no_wrap=not wraps, min_width=16 if wraps else None)
    shown = short_ids([e["id"] for e in entries])
    for entry in entries:
        subject = entry["credential"].get("credentialSubject")
        name = _text(subject.get("legalName")) if isinstance(subject, Mapping) else ""
        table.add_row(shown[entry["id"]], ", ".join(entry["types"]), entry.get("issuer") or "", name,
                      (entry.get("validUntil") or "-")[:10])
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
