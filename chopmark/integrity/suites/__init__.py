"""The registry of cryptosuites. A new suite is one module plus one line here."""

from __future__ import annotations

from types import MappingProxyType

from chopmark.errors import UsageError
from chopmark.integrity.suites import (
    ecdsa_jcs_2019,
    ecdsa_rdfc_2019,
    ed25519_signature_2020,
    eddsa_jcs_2022,
    eddsa_rdfc_2022,
)
from chopmark.integrity.suites.base import Cryptosuite, suite_id_of

SUITES: MappingProxyType[str, Cryptosuite] = MappingProxyType({
    s.name: s
    for s in (
        eddsa_rdfc_2022.SUITE,
        eddsa_jcs_2022.SUITE,
        ecdsa_rdfc_2019.SUITE,
        ecdsa_jcs_2019.SUITE,
        ed25519_signature_2020.SUITE,
    )
})

#: Suites a verifier accepts when the caller does not narrow the list (the legacy suite included: it verifies).
DEFAULT_ACCEPTED = tuple(SUITES)
#: Suites an issuer may use without an explicit legacy opt-in.
ISSUABLE = tuple(name for name, s in SUITES.items() if not s.legacy)


def get_suite(name: str) -> Cryptosuite:
    """Look a suite up by name; an unknown name is a usage error."""
    try:
        return SUITES[name]
    except KeyError:
        raise UsageError(f"unknown cryptosuite {name!r}; known: {', '.join(SUITES)}") from None


__all__ = ["DEFAULT_ACCEPTED", "ISSUABLE", "SUITES", "Cryptosuite", "get_suite", "suite_id_of"]
