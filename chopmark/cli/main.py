"""The root ``chopmark`` command: keygen, issue, demo kernel; it mounts ``verify`` (:mod:`chopmark.cli.verify`),
``serve`` and every role's command group.

This is a seam: it reads files, the clock and the operating system's randomness and hands them to the pure
kernel. Exit codes: 0 success (``verify``: verified), 1 failure (``verify``: not verified; ``issue``: the input
was rejected), 2 usage errors.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import click

from chopmark.cli.jsonio import emit, fail, read_json
from chopmark.cli.verify import verify
from chopmark.codecs.dates import format_datetime
from chopmark.dids import Resolver, did_key_signer
from chopmark.errors import ChopmarkError
from chopmark.integrity.suites import ISSUABLE, SUITES
from chopmark.keys import KeyPair, KeyType, load_key_file
from chopmark.vc.credentials import issue as issue_credential
from chopmark.vc.credentials import verify_credential
from chopmark.vc.samples import merchant_credential

KEY_TYPES = [k.value for k in KeyType]


@click.group()
@click.version_option(package_name="chopmark")
def main() -> None:
    """Chopmark: issue and verify W3C Verifiable Credentials (Data Model 2.0, Data Integrity)."""


main.add_command(verify)  # chopmark/cli/verify.py: offline or --online, status checked (fail closed)


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
    emit(pair.to_multikey(include_secret=True, id=signer.id, controller=did))


def _signer_from_keyfile(path: str) -> tuple[KeyPair, str, str]:
    doc = read_json(path, "key file")
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
    credential = read_json(source, "credential")
    pair, vm_id, controller = _signer_from_keyfile(key_file)
    if created is None:
        created = format_datetime(datetime.now(UTC))
    if SUITES[suite].legacy and not allow_legacy:
        raise click.BadParameter(f"{suite} is legacy; add --allow-legacy to issue with it", param_hint="--suite")
    try:
        signed = issue_credential(credential, pair.signer(vm_id), suite=suite, created=created,
                                  issuer=None if keep_issuer else controller, allow_legacy=allow_legacy)
    except ChopmarkError as exc:
        fail(exc)
    emit(signed)


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

    sites = site_group(wiring.open_sites, wiring.open_onboarding)
    for command in (serve, *registry_commands(), *issuer_commands(), sites, wallet):
        main.add_command(command)
    demo.add_command(identity_command(wiring.IdentityDemo.open))
    demo.add_command(ranking_command(wiring.RankingDemo.open))


_mount_roles()

if __name__ == "__main__":  # pragma: no cover
    main()
