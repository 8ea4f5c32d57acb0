"""Plumbing shared by the ``chopmark wallet`` commands: the session (wallet path, passphrases, KDF cost), the
error handler, ``--json`` and file input."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from chopmark.dids import loads_strict_json
from chopmark.errors import ChopmarkError, UsageError
from wallet.core import Wallet
from wallet.errors import CredentialRefusedError, WalletError
from wallet.vault import DEFAULT_KDF, KdfParams, write_atomic

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_WALLET = "~/.chopmark/wallet.cmw"
PASSPHRASE_ENV = "CHOPMARK_WALLET_PASSPHRASE"
#: TEST KNOB ONLY: the scrypt ``n`` for wallets and backups this process creates (a power of two). It exists so
#: test suites run fast; a low value makes a stolen wallet file cheap to brute-force.
SCRYPT_N_ENV = "CHOPMARK_WALLET_SCRYPT_N"


def read_secret(path: str, what: str) -> str:
    """The first line of a passphrase file (the trailing newline removed, nothing else)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise click.BadParameter(f"cannot read the {what} file: {exc}") from None
    secret = text.splitlines()[0] if text else ""
    if not secret:
        raise click.BadParameter(f"the {what} file is empty")
    return secret


@dataclass
class Session:
    """What every wallet command shares: the wallet path, where the passphrase comes from, the timeout."""

    path: Path
    passphrase_file: str | None
    timeout: float

    def passphrase(self, *, confirm: bool = False) -> str:
        """``--passphrase-file``, else ``$CHOPMARK_WALLET_PASSPHRASE``, else a hidden prompt (confirmed
        twice when ``confirm``: creating a wallet)."""
        if self.passphrase_file is not None:
            return read_secret(self.passphrase_file, "passphrase")
        from_env = os.environ.get(PASSPHRASE_ENV)
        if from_env:
            return from_env
        return str(click.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm, err=True))

    def open(self) -> Wallet:
        """Open the wallet with the session's passphrase."""
        return Wallet.open(self.path, self.passphrase())

    @staticmethod
    def kdf() -> KdfParams:
        """The scrypt cost for new files: the default, or ``$CHOPMARK_WALLET_SCRYPT_N`` (a test knob)."""
        raw = os.environ.get(SCRYPT_N_ENV)
        if not raw:
            return DEFAULT_KDF
        try:
            n = int(raw)
        except ValueError:
            raise click.BadParameter(f"{SCRYPT_N_ENV} must be an integer") from None
        params = KdfParams(n=n, r=DEFAULT_KDF.r, p=DEFAULT_KDF.p)
        try:
            params.check()
        except ChopmarkError as exc:
            raise click.BadParameter(f"{SCRYPT_N_ENV}: {exc.detail}") from None
        return params


def default_wallet_path() -> str:
    """``$CHOPMARK_WALLET`` or ``~/.chopmark/wallet.cmw``."""
    return os.environ.get("CHOPMARK_WALLET") or os.path.expanduser(DEFAULT_WALLET)


def json_option(func: F) -> F:
    """``--json``: machine-readable output (and errors as problem JSON)."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def report_error(exc: ChopmarkError, as_json: bool) -> None:
    """A one-line message on stderr (refusal reasons below it), or the problem JSON on stdout."""
    if as_json:
        click.echo(json.dumps(exc.to_problem().to_dict(), ensure_ascii=False))
        return
    click.echo(f"error: {exc.detail}", err=True)
    if isinstance(exc, CredentialRefusedError):
        for reason in exc.reasons:
            click.echo(f"  - {reason['code']} ({reason['check']}): {reason['detail']}", err=True)


def handled(func: F) -> F:
    """Exit 1 on a Chopmark error (message or problem JSON), 2 on a usage error."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """Run the command, translating Chopmark errors."""
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            raise click.UsageError(exc.detail) from None
        except ChopmarkError as exc:
            report_error(exc, bool(kwargs.get("as_json")))
            sys.exit(1)
    return wrapper  # type: ignore[return-value]


def read_json(source: str, what: str) -> Any:
    """Parse a JSON file (``-`` for stdin); unreadable or invalid input is a usage error."""
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {what} {source!r}: {exc.strerror}") from None
    try:
        return loads_strict_json(data, WalletError)
    except ChopmarkError as exc:
        raise click.BadParameter(f"{what} {source!r} is not valid JSON: {exc.detail}") from None


def write_private(path: str, data: Any) -> None:
    """Write JSON to ``path`` atomically with mode 0600 (presentations carry personal data)."""
    write_atomic(Path(path), (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
