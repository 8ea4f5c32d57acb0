"""The encrypted wallet file: round trip, wrong passphrase, tampering, truncation, atomic writes, file mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.wallet.support import FAST_KDF, PASSPHRASE, seeded_rng
from wallet import vault
from wallet.errors import WalletCorruptError, WalletIOError, WalletLockedError, WalletNotFoundError

DOC = {"holder": "did:key:z6Mk...", "credentials": [{"id": "urn:uuid:1", "name": "Müller"}]}


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    path = tmp_path / "w.cmw"
    vault.save_json(path, DOC, PASSPHRASE, rng=seeded_rng(), kdf=FAST_KDF)
    return path


@pytest.mark.parametrize("aead", sorted(vault.AEADS))
def test_round_trip_with_each_cipher(tmp_path: Path, aead: str) -> None:
    path = tmp_path / "w.cmw"
    vault.save_json(path, DOC, PASSPHRASE, rng=os.urandom, kdf=FAST_KDF, aead=aead)
    document, header, _ = vault.load_json(path, PASSPHRASE)
    assert document == DOC
    assert header.aead == aead and header.kdf == FAST_KDF
    assert b"M\xc3\xbcller" not in path.read_bytes()  # the content is encrypted


def test_header_is_the_documented_json(sealed: Path) -> None:
    first_line = sealed.read_bytes().split(b"\n", 1)[0]
    header = json.loads(first_line)
    assert header["magic"] == "chopmark-wallet" and header["version"] == 1
    assert (header["kdf"], header["n"], header["r"], header["p"]) == ("scrypt", 16, 8, 1)
    assert header["aead"] == "AES-256-GCM"
    assert set(header) == {"magic", "version", "kdf", "n", "r", "p", "salt", "aead", "nonce"}


def test_default_cost_is_scrypt_2_15() -> None:
    assert vault.KdfParams(n=2**15, r=8, p=1) == vault.DEFAULT_KDF


def test_wrong_passphrase_is_wallet_locked(sealed: Path) -> None:
    with pytest.raises(WalletLockedError) as info:
        vault.load_json(sealed, PASSPHRASE + "!")
    assert info.value.to_problem().code == "WALLET_LOCKED"


def test_passphrase_is_nfc_normalised(tmp_path: Path) -> None:
    path = tmp_path / "w.cmw"
    vault.save_json(path, DOC, "caf\u00e9", rng=os.urandom, kdf=FAST_KDF)
    assert vault.load_json(path, "cafe\u0301")[0] == DOC  # the same passphrase typed decomposed


def test_tampered_ciphertext_byte_fails_authentication(sealed: Path) -> None:
    data = bytearray(sealed.read_bytes())
    data[-20] ^= 0x01
    sealed.write_bytes(bytes(data))
    with pytest.raises(WalletLockedError, match="wrong passphrase or the file was modified"):
        vault.load_json(sealed, PASSPHRASE)


def test_tampered_header_fails_authentication(sealed: Path) -> None:
    # A still-valid header that differs by one byte (the salt's last base64 character) must not open:
    # the header bytes are the associated data.
    data = sealed.read_bytes()
    head, body = data.split(b"\n", 1)
    header = json.loads(head)
    header["nonce"] = header["nonce"][:-3] + ("A" if header["nonce"][-3] != "A" else "B") + header["nonce"][-2:]
    sealed.write_bytes(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n" + body)
    with pytest.raises(WalletLockedError):
        vault.load_json(sealed, PASSPHRASE)


def test_reformatted_header_fails_authentication(sealed: Path) -> None:
    head, body = sealed.read_bytes().split(b"\n", 1)
    sealed.write_bytes(json.dumps(json.loads(head)).encode() + b"\n" + body)  # same values, other bytes
    with pytest.raises(WalletLockedError):
        vault.load_json(sealed, PASSPHRASE)


@pytest.mark.parametrize("cut", [0, 5, 40, -1])
def test_truncated_file_is_corrupt(sealed: Path, cut: int) -> None:
    data = sealed.read_bytes()
    end = data.index(b"\n") + 1
    sealed.write_bytes(data[:end + 3] if cut == -1 else data[:cut])
    with pytest.raises(WalletCorruptError) as info:
        vault.load_json(sealed, PASSPHRASE)
    assert info.value.to_problem().code == "WALLET_CORRUPT"


@pytest.mark.parametrize("content", [
    b"", b"hello world\n", b'{"magic":"other","version":1}\n' + b"x" * 40, b"\x00" * 64, b"{" * 2000,
    b'{"magic":"chopmark-wallet","version":2}\n' + b"x" * 40,
    b'{"magic":"chopmark-wallet","magic":"chopmark-wallet"}\n' + b"x" * 40,
])
def test_garbage_is_corrupt_not_a_crash(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk"
    path.write_bytes(content)
    with pytest.raises(WalletCorruptError):
        vault.load_json(path, PASSPHRASE)


@pytest.mark.parametrize(("member", "value"), [
    ("n", 2**30), ("n", 1000), ("n", 1), ("r", 0), ("p", 99), ("salt", "!!"), ("nonce", "AAAA"), ("aead", "ROT13"),
    ("kdf", "pbkdf2"),
])
def test_out_of_bounds_header_is_corrupt(sealed: Path, member: str, value: object) -> None:
    head, body = sealed.read_bytes().split(b"\n", 1)
    header = json.loads(head)
    header[member] = value
    sealed.write_bytes(json.dumps(header).encode() + b"\n" + body)
    with pytest.raises(WalletCorruptError):
        vault.load_json(sealed, PASSPHRASE)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WalletNotFoundError):
        vault.load_json(tmp_path / "nope.cmw", PASSPHRASE)


def test_file_mode_is_0600(sealed: Path) -> None:
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600


def test_each_write_uses_a_fresh_salt_and_nonce(tmp_path: Path) -> None:
    path = tmp_path / "w.cmw"
    headers = set()
    for _ in range(3):
        headers.add(vault.save_json(path, DOC, PASSPHRASE, rng=os.urandom, kdf=FAST_KDF))
    salts = {json.loads(h)["salt"] for h in headers}
    nonces = {json.loads(h)["nonce"] for h in headers}
    assert len(salts) == 3 and len(nonces) == 3


def test_failed_write_leaves_the_old_file(sealed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = sealed.read_bytes()

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(WalletIOError, match="No space left"):
        vault.save_json(sealed, {"other": True}, PASSPHRASE, rng=os.urandom, kdf=FAST_KDF)
    assert sealed.read_bytes() == before
    assert [p.name for p in sealed.parent.iterdir()] == [sealed.name]  # the temporary file was removed
    monkeypatch.undo()
    assert vault.load_json(sealed, PASSPHRASE)[0] == DOC


def test_write_into_a_new_directory_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "w.cmw"
    vault.save_json(path, DOC, PASSPHRASE, rng=os.urandom, kdf=FAST_KDF)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
