"""The minimum strength of a new wallet or backup passphrase (``wallet init``, ``wallet passphrase``,
``wallet export``, ``wallet import`` into a new file).

The rule: at least :data:`MIN_LENGTH` characters, of at least two kinds among lowercase letters, uppercase
letters, digits, and everything else (spaces, punctuation, symbols, letters without case), and not one character
repeated. ``correct horse battery staple`` passes (letters and spaces); ``password1234`` passes too, which is why
the message recommends several random words. A passphrase is never checked when a wallet is opened: existing
files stay usable.
"""

from __future__ import annotations

import unicodedata

from chopmark.errors import UsageError

MIN_LENGTH = 12
RULE = (f"at least {MIN_LENGTH} characters of at least two kinds (lowercase, uppercase, digits, spaces or "
        "symbols), e.g. four random words separated by spaces")


def _kind(char: str) -> str:
    category = unicodedata.category(char)
    return {"Ll": "lower", "Lu": "upper", "Nd": "digit"}.get(category, "other")


def weakness(passphrase: str) -> str | None:
    """Why ``passphrase`` is too weak, or None when it meets the rule."""
    if len(passphrase) < MIN_LENGTH:
        return f"it has {len(passphrase)} characters"
    if len(set(passphrase)) == 1:
        return "it repeats one character"
    if len({_kind(c) for c in passphrase}) < 2:
        return "all its characters are of one kind"
    return None


def check_new_passphrase(passphrase: str, what: str = "wallet passphrase") -> str:
    """Return ``passphrase`` when it meets the rule; otherwise raise :class:`UsageError` naming the rule."""
    why = weakness(passphrase)
    if why is not None:
        raise UsageError(f"the {what} is too weak ({why}): use {RULE}")
    return passphrase
