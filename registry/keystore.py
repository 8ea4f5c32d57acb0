"""Key stores: where issuer private keys live. The service only ever asks for a *signer*.

:class:`KeyStore` is the interface a KMS or HSM implementation would provide. :class:`EncryptedKeyStore` keeps
each private key in the shared store, encrypted with AES-256-GCM under the key-encryption key (KEK) from the
settings; the key reference and key type are bound as associated data, so a ciphertext cannot be moved to
another record. Private keys are never logged, never returned by any API, and never leave this module except
inside a :class:`~chopmark.keys.Signer`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chopmark.errors import ConfigurationError, NotFound
from chopmark.keys import KeyPair, KeyType, PublicKey, Signer
from chopmark.store import Store

NS = "keys"


@dataclass(frozen=True)
class StoredKey:
    """A key held by a key store: its reference (opaque to callers), type and public key."""

    ref: str
    key_type: KeyType
    public_key: PublicKey


class KeyStore(Protocol):
    """Creates keys and hands out signers; the private key never leaves the implementation."""

    def create(self, owner: str, key_type: KeyType) -> StoredKey:
        """Generate and persist (durably) a new key for ``owner``."""

    def signer(self, ref: str, vm_id: str) -> Signer:
        """A signer for the key ``ref`` whose proofs name ``vm_id``."""

    def destroy(self, ref: str) -> None:
        """Delete the private key (deliberate, irreversible)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class EncryptedKeyStore:
    """Private keys encrypted with a KEK (AES-256-GCM) in the shared :class:`~chopmark.store.Store`."""

    def __init__(self, store: Store, kek: bytes, rng: Callable[[int], bytes]) -> None:
        """``kek``: 32 bytes; ``rng(n)``: n random bytes (keys, nonces, references)."""
        if len(kek) != 32:
            raise ConfigurationError("the key-encryption key must be 32 bytes")
        self._store = store
        self._aead = AESGCM(kek)
        self._kek_id = hashlib.sha256(b"chopmark-kek:" + kek).hexdigest()[:16]
        self._rng = rng
        self._pairs: dict[str, KeyPair] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EncryptedKeyStore(kek_id={self._kek_id})"

    def create(self, owner: str, key_type: KeyType) -> StoredKey:
        """Generate a key pair, encrypt its secret and store it durably under a fresh reference."""
        pair = KeyPair.generate(key_type, self._rng)
        ref = f"{owner}.{self._rng(8).hex()}"
        nonce = self._rng(12)
        sealed = self._aead.encrypt(nonce, pair.secret_bytes(), self._aad(ref, key_type))
        record = {"keyType": key_type.value, "kek": self._kek_id, "nonce": _b64(nonce),
                  "sealed": _b64(sealed), "public": pair.public_key.multibase()}
        if not self._store.create(NS, ref, json.dumps(record, sort_keys=True).encode()):
            raise ConfigurationError(f"key reference collision for {ref}")  # 64 random bits: never in practice
        with self._lock:
            self._pairs[ref] = pair
        return StoredKey(ref, key_type, pair.public_key)

    def signer(self, ref: str, vm_id: str) -> Signer:
        """A signer for ``ref`` (decrypted once per process, then kept in memory)."""
        return self._pair(ref).signer(vm_id)

    def destroy(self, ref: str) -> None:
        """Delete the encrypted key and forget the decrypted one."""
        self._store.delete(NS, ref)
        with self._lock:
            self._pairs.pop(ref, None)

    def _pair(self, ref: str) -> KeyPair:
        with self._lock:
            pair = self._pairs.get(ref)
        if pair is not None:
            return pair
        raw = self._store.get(NS, ref)
        if raw is None:
            raise NotFound(f"no private key {ref!r} in the key store", code="KEY_NOT_FOUND")
        record = json.loads(raw)
        key_type = KeyType(record["keyType"])
        if record["kek"] != self._kek_id:
            raise ConfigurationError(f"key {ref} was sealed with another key-encryption key ({record['kek']})")
        try:
            secret = self._aead.decrypt(_unb64(record["nonce"]), _unb64(record["sealed"]),
                                        self._aad(ref, key_type))
        except InvalidTag:
            raise ConfigurationError(f"key {ref} cannot be decrypted: the KEK or the record is wrong") from None
        pair = KeyPair.from_seed(key_type, secret)
        if pair.public_key.multibase() != record["public"]:
            raise ConfigurationError(f"key {ref} does not match its public key")
        with self._lock:
            self._pairs[ref] = pair
        return pair

    @staticmethod
    def _aad(ref: str, key_type: KeyType) -> bytes:
        return f"chopmark-key|{ref}|{key_type.value}".encode()
