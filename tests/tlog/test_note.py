"""C2SP signed notes and tlog checkpoints: every case of ../shared/vectors/tlog/signed-notes.json, strict key
parsing, forged checkpoints, and open/sign properties."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from chopmark import tlog
from chopmark.errors import KeyFormatError, NoteError, UsageError
from chopmark.tlog import note

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"


def notes_json(vectors: Path) -> Any:
    return json.loads((vectors / "tlog" / "signed-notes.json").read_text(encoding="utf-8"))


def code_of(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(NoteError) as err:
        call(*args, **kwargs)
    return err.value.instance_code


# --- keys ------------------------------------------------------------------------------------------------------

def test_key_ids_and_vkeys(vectors: Path) -> None:
    keys = notes_json(vectors)["keys"]
    assert len(keys) == 13
    for k in keys:
        public = bytes.fromhex(k["publicKeyHex"])
        sig_type = int(k["signatureType"], 16)
        assert note.key_id(k["name"], sig_type, public).hex() == k["keyIdHex"], k["name"]
        if sig_type != note.ED25519:  # the cosignature/v1 key: not a note-signing key we support
            with pytest.raises(KeyFormatError):
                note.parse_verifier_key(k["vkey"])
            continue
        verifier = note.parse_verifier_key(k["vkey"])
        assert (verifier.name, verifier.public_key, verifier.key_id.hex()) == (k["name"], public, k["keyIdHex"])
        assert verifier.vkey == k["vkey"] == note.verifier_key(k["name"], public)
        if "skey" in k:
            signer = note.parse_signer_key(k["skey"])
            assert signer.public_key == public and signer.vkey == k["vkey"]


def test_signer_key_round_trip() -> None:
    signer = note.parse_signer_key(PETER_SKEY)
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[4])[1:]
    assert note.signer_key("PeterNeumann", seed) == PETER_SKEY
    assert signer.vkey == PETER_VKEY


def test_invalid_verifier_keys(vectors: Path) -> None:
    cases = [c for c in notes_json(vectors)["invalidVerifierKeys"] if "vkey" in c]
    assert len(cases) == 5
    for c in cases:
        with pytest.raises(KeyFormatError):
            note.parse_verifier_key(c["vkey"])


def _mutations(text: str) -> set[str]:
    """Every proper substring, and every variant with one byte incremented (x/mod TestNewVerifier)."""
    out = {text[i:j] for i in range(len(text)) for j in range(i, len(text) + 1) if (i, j) != (0, len(text))}
    out |= {text[:i] + chr(ord(text[i]) + 1) + text[i + 1:] for i in range(len(text))}
    return out


def test_every_mutated_vkey_is_rejected() -> None:
    note.parse_verifier_key(PETER_VKEY)
    for bad in _mutations(PETER_VKEY):
        with pytest.raises(KeyFormatError):
            note.parse_verifier_key(bad)


def test_every_mutated_skey_is_rejected() -> None:
    note.parse_signer_key(PETER_SKEY)
    for bad in _mutations(PETER_SKEY):
        with pytest.raises(KeyFormatError):
            note.parse_signer_key(bad)


def test_key_misuse() -> None:
    with pytest.raises(UsageError):
        note.verifier_key("bad name", b"\x00" * 32)
    with pytest.raises(UsageError):
        note.verifier_key("a+b", b"\x00" * 32)
    with pytest.raises(UsageError):
        note.verifier_key("name", b"\x00" * 31)


# --- notes -----------------------------------------------------------------------------------------------------

def _note_of(case: dict[str, Any]) -> str:
    if "noteTemplate" in case:
        t = case["noteTemplate"]
        return t["text"] + "\n" + t["signatureLine"] * t["repeat"]
    return str(case["note"])


ERRORS = {"no verifiable signatures": note.UNVERIFIED_NOTE, "ambiguous key": note.AMBIGUOUS_KEY,
          "malformed note": note.MALFORMED_NOTE, "invalid signature": note.INVALID_SIGNATURE}


def test_deterministic_signing(vectors: Path) -> None:
    case = notes_json(vectors)["notes"][0]
    signer = note.parse_signer_key(case["skey"])
    assert note.sign_note(case["text"], signer.name, signer.sign, signer.public_key) == case["wantNote"]


def test_notes(vectors: Path) -> None:
    cases = [c for c in notes_json(vectors)["notes"] if "verifiers" in c]
    assert len(cases) == 11
    for case in cases:
        text = _note_of(case)
        if "wantErr" in case:
            assert code_of(note.open_note, text, case["verifiers"]) == ERRORS[case["wantErr"]], case["desc"]
            continue
        opened = note.open_note(text, case["verifiers"])
        assert [s.key for s in opened.signatures] == case["wantVerified"], case["desc"]
        assert opened.verified == [k.split("+")[0] for k in case["wantVerified"]]
        if "wantUnverified" in case:
            assert [s.key for s in opened.unverified_signatures] == case["wantUnverified"]
        if "wantUnverifiedCount" in case:
            assert len(opened.unverified) == case["wantUnverifiedCount"]
        if "wantText" in case:
            assert opened.text == case["wantText"]
        if "checkpoint" in case:
            cp = note.open_checkpoint(text, case["checkpoint"]["origin"], case["verifiers"][0])
            assert (cp.origin, cp.size) == (case["checkpoint"]["origin"], case["checkpoint"]["size"])
            assert cp.root_hash == base64.b64decode(case["checkpoint"]["rootHashBase64"])
            assert code_of(note.open_checkpoint, text, case["wrongOriginMustFail"],
                           case["verifiers"][0]) == note.ORIGIN_MISMATCH


def test_parse_only_notes(vectors: Path) -> None:
    cases = [c for c in notes_json(vectors)["notes"] if "note" in c and "verifiers" not in c]
    assert len(cases) == 2
    for case in cases:
        text, sigs = note.parse_note(case["note"])
        assert sigs and code_of(note.open_note, case["note"], []) == note.UNVERIFIED_NOTE
        if "wantText" in case:
            assert text == case["wantText"]
        if "checkpoint" in case:
            cp = note.Checkpoint.parse(text)
            assert (cp.origin, cp.size) == (case["checkpoint"]["origin"], case["checkpoint"]["size"])
            assert cp.format() == text
            assert len(sigs) == 2 and note.cosignature_timestamp(
                base64.b64encode(sigs[1].key_id + sigs[1].signature).decode()) is not None


def test_malformed_notes(vectors: Path) -> None:
    data = notes_json(vectors)["malformedNotes"]
    assert len(data["cases"]) == 7
    for case in data["cases"]:
        raw: str | bytes = case["note"] if "note" in case else base64.b64decode(case["noteBase64"])
        assert code_of(note.open_note, raw, data["verifiers"]) == note.MALFORMED_NOTE, case["desc"]
        assert code_of(note.parse_note, raw) == note.MALFORMED_NOTE


def test_sixteen_signatures_are_accepted() -> None:
    signer = note.parse_signer_key(PETER_SKEY)
    signed = note.sign_note("text\n", signer.name, signer.sign, signer.public_key)
    many = signed + signed.split("\n\n", 1)[1] * 15
    assert note.open_note(many, [PETER_VKEY]).verified == ["PeterNeumann"]


def test_sign_note_misuse() -> None:
    signer = note.parse_signer_key(PETER_SKEY)
    for bad in ("no newline", "ctrl\x01\n", "", "tab\there\n"):
        with pytest.raises(UsageError):
            note.sign_note(bad, signer.name, signer.sign, signer.public_key)
    with pytest.raises(UsageError):
        note.sign_note("ok\n", "two words", signer.sign, signer.public_key)


# --- checkpoints ---------------------------------------------------------------------------------------------

def test_checkpoint_marshal(vectors: Path) -> None:
    data = notes_json(vectors)["checkpointParsing"]
    for case in data["marshal"]:
        cp = note.Checkpoint(case["origin"], case["size"], case["hashUtf8"].encode())
        assert cp.format() == case["want"]


def test_checkpoint_unmarshal(vectors: Path) -> None:
    data = notes_json(vectors)["checkpointParsing"]
    assert len(data["unmarshal"]) == 12
    for case in data["unmarshal"]:
        if case["wantErr"]:
            assert code_of(note.Checkpoint.parse, case["text"], hash_size=None) == note.MALFORMED_CHECKPOINT
            continue
        # C2SP requires a 32-byte root: the formats library's short "bananas" roots are refused by default
        assert code_of(note.Checkpoint.parse, case["text"]) == note.MALFORMED_CHECKPOINT
        if "\n\n" in case["text"]:  # empty extension lines: C2SP says they MUST be non-empty
            assert code_of(note.Checkpoint.parse, case["text"], hash_size=None) == note.MALFORMED_CHECKPOINT
            continue
        cp = note.Checkpoint.parse(case["text"], hash_size=None)
        assert (cp.origin, cp.size) == (case["origin"], case["size"]), case["desc"]
        if "hashUtf8" in case:
            assert cp.root_hash == case["hashUtf8"].encode()
        assert "".join(e + "\n" for e in cp.extensions) == case["rest"]
        assert cp.format() == case["text"]
    ext = data["extended"]
    cp = note.Checkpoint.parse(ext["text"], hash_size=None)
    assert (cp.origin, cp.size, cp.root_hash) == (ext["origin"], ext["size"], ext["hashUtf8"].encode())
    assert cp.extensions == ("6086d1a9", "Waxing gibbous")


@pytest.mark.parametrize("text", [
    "log\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",  # leading zero
    "log\n+1\n" + base64.b64encode(bytes(32)).decode() + "\n",
    "log\n18446744073709551616\n" + base64.b64encode(bytes(32)).decode() + "\n",  # 2**64
    "log\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
    "log\n1\n" + base64.b64encode(bytes(33)).decode() + "\n",
    "log\n1\n" + base64.b64encode(bytes(32)).decode().rstrip("=") + "\n",  # unpadded
    "log\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n",  # base64url
    "log\n1\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
])
def test_checkpoint_strictness(text: str) -> None:
    assert code_of(note.Checkpoint.parse, text) == note.MALFORMED_CHECKPOINT


def _noncanonical(b64: str) -> str:
    """The same bytes with non-zero unused bits before the padding (RFC 4648 §3.5 canonical encoding)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = b64.rstrip("=")
    last = alphabet[alphabet.index(body[-1]) | 1]
    out = body[:-1] + last + "=" * (len(b64) - len(body))
    assert out != b64 and base64.b64decode(out) == base64.b64decode(b64)
    return out


def test_non_canonical_base64_is_refused() -> None:
    root = base64.b64encode(bytes(32)).decode()
    assert code_of(note.Checkpoint.parse, f"log\n1\n{_noncanonical(root)}\n") == note.MALFORMED_CHECKPOINT
    signer = note.parse_signer_key(PETER_SKEY)
    signed = note.sign_note("text\n", signer.name, signer.sign, signer.public_key)
    head, sig = signed[:-1].rsplit(" ", 1)
    assert note.open_note(signed, [PETER_VKEY]).verified == ["PeterNeumann"]
    assert code_of(note.open_note, f"{head} {_noncanonical(sig)}\n", [PETER_VKEY]) == note.MALFORMED_NOTE


def test_checkpoint_largest_size() -> None:
    text = "log\n18446744073709551615\n" + base64.b64encode(bytes(32)).decode() + "\n"
    assert note.Checkpoint.parse(text).size == 2**64 - 1


def test_signed_checkpoint_cases(vectors: Path) -> None:
    data = notes_json(vectors)["signedCheckpointCases"]
    signers = {k: note.parse_signer_key(v) for k, v in data["signerKeys"].items()}
    log, others = data["logVerifier"], data["otherVerifiers"]
    assert len(data["cases"]) == 12
    for case in data["cases"]:
        if case["signedNote"] is None:
            assert code_of(note.open_note, case["noteText"] + "\n", [log, *others]) == note.MALFORMED_NOTE
            continue
        # Ed25519 is deterministic: signing the text with the listed keys reproduces the note byte for byte
        first = signers[case["signers"][0]]
        made = note.sign_note(case["noteText"], first.name, first.sign, first.public_key)
        for name in case["signers"][1:]:
            made = note.add_signature(made, signers[name].name, signers[name].sign, signers[name].public_key)
        assert made == case["signedNote"], case["desc"]
        assert len(note.open_note(made, [log, *others]).verified) == case["wantVerifiedSigs"], case["desc"]
        opener = note.open_checkpoint
        if case["wantErr"]:
            with pytest.raises(NoteError):
                opener(made, case["expectedOrigin"], log, cosigners=others, hash_size=None)
            continue
        cp = opener(made, case["expectedOrigin"], log, cosigners=others, hash_size=None)
        assert (cp.origin, cp.size, cp.root_hash) == ("TestParseCheckpoint", 42, b"abcdef")
        assert code_of(opener, made, case["expectedOrigin"], log) == note.MALFORMED_CHECKPOINT  # 6-byte root


def test_signed_checkpoint_failures_name_the_reason(vectors: Path) -> None:
    data = notes_json(vectors)["signedCheckpointCases"]
    by_desc = {c["desc"]: c for c in data["cases"]}
    log, others = data["logVerifier"], data["otherVerifiers"]
    reason = {"bad body good sigs": note.MALFORMED_CHECKPOINT, "just known (no log signature)": note.UNVERIFIED_NOTE,
              "all sigs but wrong logID": note.ORIGIN_MISMATCH}
    for desc, code in reason.items():
        c = by_desc[desc]
        assert code_of(note.open_checkpoint, c["signedNote"], c["expectedOrigin"], log, cosigners=others,
                       hash_size=None) == code


def test_sumdb_tree_note(vectors: Path) -> None:
    data = notes_json(vectors)["sumdbTreeNote"]
    origin = "go.sum database tree"
    cp = note.Checkpoint(origin, data["treeSize"], tlog.leaf_hash(data["recordHashOf"].encode()))
    assert cp.format() == data["golden"]
    assert note.Checkpoint.parse(data["golden"]) == cp
    assert note.Checkpoint.parse(data["bad"][0]).origin != origin
    for bad in data["bad"][1:]:
        assert code_of(note.Checkpoint.parse, bad) == note.MALFORMED_CHECKPOINT
    # junk after the tree: a whole extension line is fine; a line without its newline is not a note text
    assert note.Checkpoint.parse(data["golden"] + "JOE\n").extensions == ("JOE",)
    assert code_of(note.Checkpoint.parse, data["golden"] + "JOE") == note.MALFORMED_CHECKPOINT


def test_cosignature_timestamps(vectors: Path) -> None:
    cases = notes_json(vectors)["cosignatureTimestamp"]["cases"]
    for case in cases:
        got = note.cosignature_timestamp(case["signatureBase64"])
        assert got == (None if case.get("wantErr") else case["wantTimestamp"])


# --- forged checkpoints -----------------------------------------------------------------------------------------

ORIGIN = "127.0.0.1:8000/log"
LOG_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
LOG_PUB = LOG_KEY.public_key().public_bytes_raw()
LOG_VKEY = note.verifier_key(ORIGIN, LOG_PUB)
EVIL_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
EVIL_PUB = EVIL_KEY.public_key().public_bytes_raw()


def _signed(cp: note.Checkpoint) -> str:
    return cp.sign(ORIGIN, LOG_KEY.sign, LOG_PUB)


def test_checkpoint_round_trip() -> None:
    leaves = [tlog.leaf_hash(bytes([i])) for i in range(10)]
    cp = note.Checkpoint(ORIGIN, 10, tlog.root(leaves))
    signed = _signed(cp)
    assert note.open_checkpoint(signed, ORIGIN, LOG_VKEY) == cp
    assert note.open_checkpoint(signed.encode(), ORIGIN, note.parse_verifier_key(LOG_VKEY)) == cp
    sc = note.SignedCheckpoint(cp, signed)
    assert sc.checkpoint.size == 10


def test_forged_checkpoints_are_rejected() -> None:
    cp = note.Checkpoint(ORIGIN, 10, tlog.leaf_hash(b"root"))
    signed = _signed(cp)
    text, sig_block = signed.split("\n\n")
    other_root = base64.b64encode(tlog.leaf_hash(b"other")).decode()
    # the body changed after signing: size, root, origin, an added extension line
    for forged_text in (text.replace("\n10\n", "\n11\n"), text.rsplit("\n", 1)[0] + "\n" + other_root,
                        text + "\nextra"):
        assert code_of(note.open_checkpoint, forged_text + "\n\n" + sig_block, ORIGIN, LOG_VKEY) == \
            note.INVALID_SIGNATURE
    # another key under the log's name: a different key ID, so unknown and ignored -> not signed by the log
    evil = cp.sign(ORIGIN, EVIL_KEY.sign, EVIL_PUB)
    assert code_of(note.open_checkpoint, evil, ORIGIN, LOG_VKEY) == note.UNVERIFIED_NOTE
    # another key claiming the log's name and key ID: the log key checks it and it fails
    blob = note.key_id(ORIGIN, note.ED25519, LOG_PUB) + EVIL_KEY.sign(cp.format().encode())
    spoofed = cp.format() + "\n— " + ORIGIN + " " + base64.b64encode(blob).decode() + "\n"
    assert code_of(note.open_checkpoint, spoofed, ORIGIN, LOG_VKEY) == note.INVALID_SIGNATURE
    # a good log signature on a checkpoint of another origin
    foreign = note.Checkpoint("elsewhere.example/log", 10, cp.root_hash).sign(ORIGIN, LOG_KEY.sign, LOG_PUB)
    assert code_of(note.open_checkpoint, foreign, ORIGIN, LOG_VKEY) == note.ORIGIN_MISMATCH
    # a cosigner's signature alone is not the log's
    cosigned = cp.sign("witness.example", EVIL_KEY.sign, EVIL_PUB)
    assert code_of(note.open_checkpoint, cosigned, ORIGIN, LOG_VKEY,
                   cosigners=[note.verifier_key("witness.example", EVIL_PUB)]) == note.UNVERIFIED_NOTE
    # the log's signature plus an unknown cosigner: accepted, the unknown one ignored
    both = note.add_signature(signed, "witness.example", EVIL_KEY.sign, EVIL_PUB)
    assert note.open_checkpoint(both, ORIGIN, LOG_VKEY) == cp
    assert note.open_note(both, [LOG_VKEY]).unverified == ["witness.example"]


# --- properties -------------------------------------------------------------------------------------------------

_text_line = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.lists(_text_line, min_size=1, max_size=5))
def test_property_sign_open_round_trip(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    signed = note.sign_note(text, ORIGIN, LOG_KEY.sign, LOG_PUB)
    opened = note.open_note(signed, [LOG_VKEY])
    assert opened.text == text and opened.verified == [ORIGIN]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 255))
def test_property_mutated_note_never_verifies_other_text(pos: int, delta: int) -> None:
    raw = bytearray(_signed(note.Checkpoint(ORIGIN, 7, bytes(32))).encode())
    i = pos % len(raw)
    raw[i] = (raw[i] + delta) % 256
    try:
        opened = note.open_note(bytes(raw), [LOG_VKEY])
    except NoteError:
        return
    # only mutations outside the signed text and signature can survive (none exist besides no-ops)
    assert opened.text == note.Checkpoint(ORIGIN, 7, bytes(32)).format()
