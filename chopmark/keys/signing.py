"""Signers and verifiers: a key bound to the verification method URL it signs or verifies for. The Data
Integrity algorithm takes any object shaped like :class:`Signer` (``id``, ``algorithm``, ``sign``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chopmark.keys.pair import KeyPair
    from chopmark.keys.public import PublicKey

@dataclass(frozen=True)
class Signer:
    """Signs with a key pair on behalf of the verification method ``id``."""

    id: str
    algorithm: str
    key_pair: KeyPair = field(repr=False, compare=False)

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with the held key pair."""
        return self.key_pair.sign(data)


@dataclass(frozen=True)
class Verifier:
    """Verifies signatures of the verification method ``id``."""

    id: str
    algorithm: str
    public_key: PublicKey

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True iff ``signature`` over ``data`` verifies (note the argument order: data first)."""
        return self.public_key.verify(signature, data)
