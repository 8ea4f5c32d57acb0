"""``chopmark wallet ...``: the merchant's wallet on the command line.

The wallet is one encrypted file (``--wallet``, default ``$CHOPMARK_WALLET`` or ``~/.chopmark/wallet.cmw``);
its passphrase comes from ``--passphrase-file``, ``$CHOPMARK_WALLET_PASSPHRASE`` or a hidden prompt.
Tables for people, ``--json`` for scripts. Exit codes: 0 success, 1 refusal / failed decision / error,
2 usage error. ``$CHOPMARK_WALLET_SCRYPT_N`` lowers the scrypt cost of new files: a test knob only.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from wallet.cli_common import (
    Session,
    default_wallet_path,
    emit_json,
    handled,
    json_option,
    read_json,
    read_secret,
    write_private,
)
from wallet.cli_remote import COMMANDS as REMOTE_COMMANDS
from wallet.cli_remote import client_for, request_from
from wallet.core import MAX_LINKAGE_DAYS, Wallet
from wallet.errors import UntrustedSiteError, WalletExistsError
from wallet.http import check_service_url
from wallet.passphrase import check_new_passphrase
from wallet.render import console, credentials_table, entry_table, settings_table
from wallet.status import statuses


@click.group("wallet")
@click.option("--wallet", "wallet_path", type=click.Path(dir_okay=False), default=default_wallet_path,
              show_default="$CHOPMARK_WALLET or ~/.chopmark/wallet.cmw", help="The wallet file.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="File whose first line is the wallet passphrase (else $CHOPMARK_WALLET_PASSPHRASE or a prompt).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds per HTTP request.")
@click.pass_context
def wallet(ctx: click.Context, wallet_path: str, passphrase_file: str | None, timeout: float) -> None:
    """A merchant's wallet: one holder DID, credentials, presentations, KYB and onboarding."""
    ctx.obj = Session(Path(wallet_path).expanduser(), passphrase_file, timeout)


def _registry(url: str | None) -> str | None:
    return None if url is None else check_service_url(url)


@wallet.command()
@click.option("--domain", help="Create a did:web holder on this host (host[:port]) instead of did:key.")
@click.option("--path", "path_spec", help="did:web path segments, colon-separated (p1:p2).")
@click.option("--registry", help="Trust registry base URL (its trust list decides whom the wallet trusts).")
@click.option("--registry-did", help="The registry's DID (default: did:web of the registry host).")
@json_option
@click.pass_obj
@handled
def init(session: Session, domain: str | None, path_spec: str | None, registry: str | None,
         registry_did: str | None, as_json: bool) -> None:
    """Create a wallet with a new Ed25519 holder key; print its DID (and the DID document to host)."""
    if path_spec and not domain:
        raise click.UsageError("--path needs --domain")
    if session.path.exists():  # before asking for a passphrase
        raise WalletExistsError(f"a wallet already exists at {session.path}")
    registry = _registry(registry)
    created = Wallet.create(session.path, check_new_passphrase(session.passphrase(confirm=True)), domain=domain,
                            path_segments=path_spec.split(":") if path_spec else None,
                            registry_url=registry, registry_did=registry_did, kdf=session.kdf())
    url = created.did_document_url()
    data = {"wallet": str(session.path), "did": created.did, "settings": created.settings,
            "didDocumentUrl": url, "didDocument": created.did_document() if url else None}
    if as_json:
        emit_json(data)
        return
    click.echo(f"Created wallet {session.path}\nHolder DID: {created.did}")
    if url:
        click.echo(f"Host this DID document at {url}:")
        emit_json(created.did_document())
    if not registry:
        click.echo("No trust registry yet: set one with `chopmark wallet config --registry URL`.")


@wallet.command()
@click.option("--registry", help="Set the trust registry base URL.")
@click.option("--registry-did", help="The registry's DID (default: did:web of the registry host).")
@json_option
@click.pass_obj
@handled
def config(session: Session, registry: str | None, registry_did: str | None, as_json: bool) -> None:
    """Show the wallet's settings, or set the trust registry."""
    opened = session.open()
    if registry_did and not registry:
        raise click.UsageError("--registry-did needs --registry")
    if registry:
        opened.configure(registry_url=check_service_url(registry), registry_did=registry_did)
    if as_json:
        emit_json({"did": opened.did, "settings": opened.settings, "trustCache": opened.trust_cache()})
    else:
        console().print(settings_table(opened.did, opened.settings, opened.trust_cache()))


@wallet.command()
@json_option
@click.pass_obj
@handled
def did(session: Session, as_json: bool) -> None:
    """Print the holder DID and its DID document."""
    opened = session.open()
    data = {"did": opened.did, "didDocumentUrl": opened.did_document_url(), "didDocument": opened.did_document()}
    if as_json:
        emit_json(data)
        return
    click.echo(opened.did)
    if data["didDocumentUrl"]:
        click.echo(f"Host this DID document at {data['didDocumentUrl']}:")
    emit_json(data["didDocument"])


@wallet.command("domain-linkage")
@click.option("--origin", help="The web origin to link (https://host[:port]); default: a did:web holder's own.")
@click.option("--days", "valid_days", type=click.IntRange(1, MAX_LINKAGE_DAYS), default=365, show_default=True,
              help="Days the linkage stays valid.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write the file here instead of stdout.")
@json_option
@click.pass_obj
@handled
def domain_linkage(session: Session, origin: str | None, valid_days: int, out_file: str | None,
                   as_json: bool) -> None:
    """Sign a DID Configuration (DIF Well-Known DID Configuration) linking the holder DID to a web origin; host it
    at <origin>/.well-known/did-configuration.json (sites that require domain linkage fetch it from there)."""
    opened = session.open()
    origin = origin or opened.did_origin()
    if origin is None:
        raise click.UsageError("--origin is required for a did:key holder")
    url = opened.domain_linkage_url(origin)
    configuration = opened.domain_linkage_configuration(origin, valid_days=valid_days)
    if out_file is not None:
        try:
            Path(out_file).write_text(json.dumps(configuration, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise click.FileError(out_file, exc.strerror) from None
    if as_json:
        emit_json({"did": opened.did, "origin": origin, "url": url, "written": out_file,
                   "didConfiguration": configuration})
        return
    if out_file is not None:
        click.echo(f"Wrote the DID configuration of {opened.did} to {out_file}; host it at {url}")
    else:  # the hint on stderr, so that `... > did-configuration.json` writes a clean file
        click.echo(f"Host this DID configuration at {url}:", err=True)
        emit_json(configuration)
    if opened.did_document_url():
        click.echo(f"The DID document must be hosted too, at {opened.did_document_url()}", err=True)


@wallet.command("list")
@click.option("--offline", is_flag=True, help="Do not ask the registry; show each credential's last known status.")
@json_option
@click.pass_obj
@handled
def list_(session: Session, offline: bool, as_json: bool) -> None:
    """List the stored credentials (whole ids) with their status: valid, revoked, suspended, expired,
    not-yet-valid, or unknown. The status lists are checked through the registry when it is reachable; otherwise
    the last known status is shown, with when it was checked."""
    opened = session.open()
    found = statuses(opened, client_for(session, opened), online=not offline)
    entries = opened.credentials()
    if as_json:
        emit_json([{**{k: v for k, v in e.items() if k != "credential"}, "status": found[e["id"]].to_json()}
                   for e in entries])
    elif not entries:
        click.echo("The wallet holds no credentials.")
    else:
        console().print(credentials_table(entries, statuses={k: v.to_json() for k, v in found.items()}))


@wallet.command()
@click.argument("credential_id")
@json_option
@click.pass_obj
@handled
def show(session: Session, credential_id: str, as_json: bool) -> None:
    """Show one stored credential (its id or a unique prefix of it)."""
    entry = session.open().get(credential_id)
    if as_json:
        emit_json(entry)
    else:
        console().print(entry_table(entry))


@wallet.command()
@click.argument("credential_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_obj
@handled
def remove(session: Session, credential_id: str, yes: bool, as_json: bool) -> None:
    """Delete a stored credential."""
    opened = session.open()
    entry = opened.get(credential_id)
    if not yes:
        click.confirm(f"Delete {entry['id']} ({', '.join(entry['types'])})?", abort=True, err=True)
    opened.remove(entry["id"])
    if as_json:
        emit_json({"removed": entry["id"]})
    else:
        click.echo(f"Removed {entry['id']}")


@wallet.command()
@click.option("--request", "request_file", required=True, help="The presentation request (JSON file or -).")
@click.option("--out", "out_file", help="Write the presentation here (mode 0600) instead of stdout.")
@click.option("--allow-untrusted", is_flag=True, help="Present even if the request's domain is not a member "
              "site of the trust list.")
@json_option
@click.pass_obj
@handled
def present(session: Session, request_file: str, out_file: str | None, allow_untrusted: bool, as_json: bool) -> None:
    """Answer a presentation request: print (or write) the signed presentation."""
    vpr = request_from(read_json(request_file, "request"))
    opened = session.open()
    if not allow_untrusted:
        from chopmark import trust

        domain = str(vpr.get("domain"))
        if not trust.is_member(client_for(session, opened).trust_subject(), domain):
            raise UntrustedSiteError(f"{domain} is not an active member of the trust list (--allow-untrusted "
                                     "overrides)")
    presentation = opened.present(vpr)
    if out_file is None:
        emit_json(presentation)
        return
    write_private(out_file, presentation)
    count = len(presentation.get("verifiableCredential", []))
    if as_json:
        emit_json({"written": out_file, "credentials": count})
    else:
        click.echo(f"Wrote a presentation with {count} credential(s) for {vpr['domain']} to {out_file}")


def _backup_passphrase(backup_file: str | None, *, confirm: bool) -> str:
    if backup_file is not None:
        return read_secret(backup_file, "backup passphrase")
    return str(click.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm, err=True))


@wallet.command()
@click.argument("destination", type=click.Path(dir_okay=False))
@click.option("--backup-passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="File whose first line is the backup passphrase (else a prompt).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@json_option
@click.pass_obj
@handled
def export(session: Session, destination: str, backup_passphrase_file: str | None, force: bool,
           as_json: bool) -> None:
    """Write an encrypted backup of the whole wallet under a backup passphrase."""
    opened = session.open()
    backup_passphrase = check_new_passphrase(_backup_passphrase(backup_passphrase_file, confirm=True),
                                             "backup passphrase")
    opened.export(destination, backup_passphrase, overwrite=force, kdf=session.kdf())
    if as_json:
        emit_json({"exported": destination, "did": opened.did, "credentials": len(opened.credentials())})
    else:
        click.echo(f"Exported {len(opened.credentials())} credential(s) of {opened.did} to {destination}")


@wallet.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--backup-passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="File whose first line is the backup passphrase (else a prompt).")
@click.option("--replace", is_flag=True, help="Replace this wallet with the backup (otherwise: merge, same DID only).")
@json_option
@click.pass_obj
@handled
def import_(session: Session, source: str, backup_passphrase_file: str | None, replace: bool, as_json: bool) -> None:
    """Restore a backup (new wallet), merge it (same holder DID) or replace the wallet (--replace)."""
    backup_passphrase = _backup_passphrase(backup_passphrase_file, confirm=False)
    creating = not session.path.exists()
    passphrase = session.passphrase(confirm=creating)
    if creating:
        check_new_passphrase(passphrase)
    before = 0 if creating else len(Wallet.open(session.path, passphrase).credentials())
    restored = Wallet.import_backup(session.path, passphrase, source, backup_passphrase, replace=replace,
                                    kdf=session.kdf())
    count = len(restored.credentials())
    if as_json:
        emit_json({"imported": source, "did": restored.did, "credentials": count, "added": count - before,
                   "mode": "restore" if creating else "replace" if replace else "merge"})
    else:
        click.echo(f"Imported {source}: {restored.did} now holds {count} credential(s) ({count - before} new)")


@wallet.command()
@click.option("--new-passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="File whose first line is the new passphrase (else a prompt, asked twice).")
@json_option
@click.pass_obj
@handled
def passphrase(session: Session, new_passphrase_file: str | None, as_json: bool) -> None:
    """Change the wallet passphrase (the new one must meet the strength rule)."""
    opened = session.open()
    new = (read_secret(new_passphrase_file, "new passphrase") if new_passphrase_file is not None else
           str(click.prompt("New wallet passphrase", hide_input=True, confirmation_prompt=True, err=True)))
    opened.change_passphrase(check_new_passphrase(new))
    if as_json:
        emit_json({"wallet": str(session.path), "changed": True})
    else:
        click.echo(f"Changed the passphrase of {session.path}")


for _command in REMOTE_COMMANDS:
    wallet.add_command(_command)

__all__ = ["wallet"]
