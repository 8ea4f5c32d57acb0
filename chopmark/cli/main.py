"""The root ``chopmark`` command: keygen, issue, verify, demo kernel; it mounts ``serve`` and every role's
command group.

This is a seam: it reads files, the clock and the operating system's randomness and hands them to the pure
kernel. Exit codes: 0 success (``verify``: verified), 1 failure (``verify``: not verified; ``issue``: the input
was rejected), 2 usage errors.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click

from chopmark.codecs import jcs
from chopmark.codecs.dates import format_datetime, parse_datetime
from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import ChopmarkError
from chopmark.integrity.suites import ISSUABLE, SUITES
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair, KeyType, load_key_file
from chopmark.vc.credentials import issue as issue_credential
from chopmark.vc.credentials import verify_credential
from chopmark.vc.presentations import verify_presentation
from chopmark.vc.samples import merchant_credential

KEY_TYPES = [k.value for k in KeyType]


def _emit(data: Any, stream: IO[str] | None = None) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False), file=stream)


def _fail(error: ChopmarkError, exit_code: int = 1) -> None:
    _emit({"error": error.to_problem().to_dict()}, sys.stderr)
    sys.exit(exit_code)


def _read_json(source: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot read {what} {source!r}: {exc.strerror}") from None
    try:
        return jcs.loads_strict(text)
    except ChopmarkError as exc:
        _fail(exc)


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_datetime(value, name="--now")
    except ChopmarkError as exc:
        raise click.BadParameter(exc.detail, param_hint="--now") from None


@click.group()
@click.version_option(package_name="chopmark")
def main() -> None:
    """Chopmark: issue and verify W3C Verifiable Credentials (Data Model 2.0, Data Integrity)."""


@main.command()
@click.option("--type", "key_type", type=click.Choice(KEY_TYPES), default="Ed25519", show_default=True)
@click.option("--seed", help="Hex secret (Ed25519 seed or EC scalar) for a reproducible key.")
def keygen(key_type: str, seed: str | None) -> None:
    """Print a new Multikey key pair (id, controller, publicKeyMultibase, secretKeyMultibase)."""
    kt = KeyType(key_type)
    try:
        if seed is not None:
            try:
                raw = bytes.fromhex(seed)
            except ValueError:
                raise click.BadParameter("not hexadecimal", param_hint="--seed") from None
            pair = KeyPair.from_seed(kt, raw)
        else:
            pair = KeyPair.generate(kt, os.urandom)
    except ChopmarkError as exc:
        raise click.BadParameter(exc.detail, param_hint="--seed") from None
    did, signer = did_key_signer(pair)
    _emit(pair.to_multikey(include_secret=True, id=signer.id, controller=did))


def _signer_from_keyfile(path: str) -> tuple[KeyPair, str, str]:
    doc = _read_json(path, "key file")
    if not isinstance(doc, Mapping):
        raise click.BadParameter("the key file must hold a JSON object", param_hint="--key")
    try:
        pair, vm_id, controller = load_key_file(doc)
    except ChopmarkError as exc:
        raise click.BadParameter(exc.detail, param_hint="--key") from None
    did, did_key_method = did_key_signer(pair)  # the defaults when the key file names no id / controller
    return pair, vm_id or did_key_method.id, controller or did


@main.command()
@click.option("--in", "source", required=True, help="Unsigned credential file, or - for stdin.")
@click.option("--key", "key_file", required=True, help="Multikey key file (see keygen).")
@click.option("--suite", type=click.Choice(list(SUITES)), default="eddsa-rdfc-2022", show_default=True)
@click.option("--created", help="Proof creation time (XML Schema dateTimeStamp); default now.")
@click.option("--keep-issuer", is_flag=True, help="Keep the credential's issuer instead of the key controller.")
@click.option("--allow-legacy", is_flag=True, help="Allow issuing with the legacy Ed25519Signature2020 suite.")
def issue(source: str, key_file: str, suite: str, created: str | None, keep_issuer: bool,
          allow_legacy: bool) -> None:
    """Sign a credential and print it."""
    credential = _read_json(source, "credential")
    pair, vm_id, controller = _signer_from_keyfile(key_file)
    if created is None:
        created = format_datetime(datetime.now(UTC))
    if SUITES[suite].legacy and not allow_legacy:
        raise click.BadParameter(f"{suite} is legacy; add --allow-legacy to issue with it", param_hint="--suite")
    try:
        signed = issue_credential(credential, pair.signer(vm_id), suite=suite, created=created,
                                  issuer=None if keep_issuer else controller, allow_legacy=allow_legacy)
    except ChopmarkError as exc:
        _fail(exc)
    _emit(signed)


def _documents(pairs: tuple[str, ...], option: str) -> dict[str, Any]:
    docs: dict[str, Any] = {}
    for pair in pairs:
        url, sep, path = pair.partition("=")
        if not sep or not url or not path:
            raise click.BadParameter(f"expected URL=FILE, got {pair!r}", param_hint=option)
        docs[url] = _read_json(path, option)
    return docs


@main.command()
@click.argument("source")
@click.option("--now", help="Verify as of this time (XML Schema dateTimeStamp); default now.")
@click.option("--doc", "docs", multiple=True, help="URL=FILE: a document for a URL (did:web document...).")
@click.option("--context", "contexts", multiple=True, help="URL=FILE: an extra JSON-LD context to allow.")
@click.option("--challenge", help="Expected presentation challenge.")
@click.option("--domain", help="Expected presentation domain.")
@click.option("--suite", "suites", multiple=True, type=click.Choice(list(SUITES)),
              help="Accepted suite (repeatable); default: all known suites.")
@click.option("--no-issuer-binding", is_flag=True, help="Do not require the issuer to control the key.")
def verify(source: str, now: str | None, docs: tuple[str, ...], contexts: tuple[str, ...],
           challenge: str | None, domain: str | None, suites: tuple[str, ...], no_issuer_binding: bool) -> None:
    """Verify a credential or presentation; print the JSON result; exit 0 if verified, else 1."""
    document = _read_json(source, "document")
    moment = _parse_now(now)
    resolver = Resolver(documents=_documents(docs, "--doc"))
    loader = DocumentLoader.pinned()
    if contexts:
        loader = loader.with_documents(_documents(contexts, "--context"))
    accepted = suites or tuple(SUITES)
    types = document.get("type") if isinstance(document, Mapping) else None
    is_vp = "VerifiablePresentation" in (types if isinstance(types, list) else [types])
    if is_vp:
        result = verify_presentation(document, resolver=resolver, now=moment, challenge=challenge,
                                     domain=domain, loader=loader, accepted_suites=accepted,
                                     issuer_binding=not no_issuer_binding)
    else:
        result = verify_credential(document, resolver=resolver, now=moment, loader=loader,
                                   accepted_suites=accepted, issuer_binding=not no_issuer_binding)
    _emit(result.to_dict())
    sys.exit(0 if result.verified else 1)


@main.group()
def demo() -> None:
    """Demonstrations."""


@demo.command("kernel")
def demo_kernel() -> None:
    """Generate keys, issue the sample merchant credential with each suite, verify it, print a table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Chopmark kernel demo: merchant credential, issued and verified in-process")
    for column in ("suite", "key", "issuer (did:key)", "verified", "issue ms", "verify ms", "proofValue"):
        table.add_column(column)
    now = datetime.now(UTC)
    resolver = Resolver()
    for suite_name in ISSUABLE:
        for kt in sorted(SUITES[suite_name].key_types, key=lambda k: k.value):
            did, signer = did_key_signer(KeyPair.generate(kt, os.urandom))
            t0 = time.perf_counter()
            signed = issue_credential(merchant_credential(), signer, suite=suite_name, issuer=did,
                                      created=format_datetime(now))
            t1 = time.perf_counter()
            result = verify_credential(signed, resolver=resolver, now=now)
            t2 = time.perf_counter()
            proof_value = signed["proof"]["proofValue"]
            table.add_row(suite_name, kt.value, did[:24] + "…", "[green]yes" if result.verified else "[red]no",
                          f"{(t1 - t0) * 1000:.2f}", f"{(t2 - t1) * 1000:.2f}", proof_value[:16] + "…")
    console = Console(emoji=False, highlight=False)
    console.width = max(console.width, 118)
    console.print(table)
    click.echo("Next: `chopmark keygen`, `chopmark issue --in FILE --key KEYFILE`, `chopmark verify FILE`.")


def _mount_roles() -> None:
    """Mount ``serve`` and each role's command group (and demo), wiring in what a role may not build itself."""
    from chopmark.cli import wiring
    from chopmark.cli.serve import serve
    from issuer.cli import commands as issuer_commands
    from issuer.demo import ranking_command
    from registry.cli import commands as registry_commands
    from verifier.cli import site_group
    from wallet.cli import wallet
    from wallet.demo import identity_command

    for command in (serve, *registry_commands(), *issuer_commands(), site_group(wiring.open_sites), wallet):
        main.add_command(command)
    demo.add_command(identity_command(wiring.IdentityDemo.open))
    demo.add_command(ranking_command(wiring.RankingDemo.open))


_mount_roles()

if __name__ == "__main__":  # pragma: no cover
    main()
