"""Multibase, base58, unsigned varints and the multicodec key codes.

* Multibase (draft-multiformats-multibase, the ``multibase.csv`` table): a one-character prefix names the
  encoding of the rest of the string. Every encoding of the multibase test suite is supported: base2, base8,
  base10, base16 (lower/upper), the base32 family (RFC 4648 §6 and §7, padded or not, lower/upper),
  z-base-32, base36, base45 (RFC 9285), base58btc, base58flickr, base64 (RFC 4648 §4 and §5, padded or not),
  proquint and base256emoji.
* Decoding is strict: characters outside the alphabet, wrong padding and non-canonical trailing bits are
  refused (every accepted string re-encodes to itself, modulo letter case for the case-insensitive bases).
* Unsigned varint (multiformats ``unsigned-varint``): at most 9 bytes, minimal encoding only.
* Multicodec codes for the key types Chopmark uses (multicodec ``table.csv``, tag ``key``).

Every error is a :class:`~chopmark.errors.MalformedValueError`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from chopmark.errors import MalformedValueError

# --- multicodec (multicodec table.csv, tag "key") ---------------------------------------------------------

ED25519_PUB = 0xED
P256_PUB = 0x1200
P384_PUB = 0x1201
ED25519_PRIV = 0x1300
P256_PRIV = 0x1306
P384_PRIV = 0x1307
#: Key codes Chopmark recognises but does not support (used for precise error messages).
SECP256K1_PUB = 0xE7
BLS12_381_G1_PUB = 0xEA
BLS12_381_G2_PUB = 0xEB
X25519_PUB = 0xEC
P521_PUB = 0x1202
RSA_PUB = 0x1205

#: Multicodec name of every key code above.
CODEC_NAMES: dict[int, str] = {
    ED25519_PUB: "ed25519-pub", P256_PUB: "p256-pub", P384_PUB: "p384-pub",
    ED25519_PRIV: "ed25519-priv", P256_PRIV: "p256-priv", P384_PRIV: "p384-priv",
    SECP256K1_PUB: "secp256k1-pub", BLS12_381_G1_PUB: "bls12_381-g1-pub",
    BLS12_381_G2_PUB: "bls12_381-g2-pub",
    X25519_PUB: "x25519-pub", P521_PUB: "p521-pub", RSA_PUB: "rsa-pub",
}

# --- unsigned varint (multiformats/unsigned-varint) --------------------------------------------------------

_VARINT_MAX_BYTES = 9  # "the maximum length of a varint is 9 bytes" (63 bits of payload)


def varint_encode(n: int) -> bytes:
    """Encode ``n`` (0 <= n < 2**63) as a minimal unsigned varint (LEB128, least significant group first)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n >= 1 << 63:
        raise MalformedValueError(f"varint value out of range: {n!r}")
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def varint_decode(data: bytes) -> tuple[int, int]:
    """Decode the varint at the start of ``data``; return ``(value, bytes consumed)``.

    Truncated, overlong (more than 9 bytes) and non-minimal encodings raise ``MalformedValueError``.
    """
    value = 0
    for i, byte in enumerate(data[:_VARINT_MAX_BYTES]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            # unsigned-varint spec: a varint MUST be minimally encoded (no trailing zero group)
            if byte == 0 and i > 0:
                raise MalformedValueError("varint is not minimally encoded")
            return value, i + 1
    if len(data) >= _VARINT_MAX_BYTES:
        raise MalformedValueError("varint is longer than 9 bytes")
    raise MalformedValueError("varint is truncated")


# --- big-number alphabets (base10, base36, base58) ---------------------------------------------------------

B58_BTC = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_FLICKR = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
_B10 = "0123456789"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
#: Big-number decoding is quadratic; longer inputs are refused (a Multikey or signature is < 200 chars).
MAX_BIGNUM_CHARS = 8192


def _bignum_encode(data: bytes, alphabet: str) -> str:
    # Leading zero bytes map one-to-one to the zero digit; the rest is the big-endian number in the base.
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    base = len(alphabet)
    digits: list[str] = []
    while num:
        num, rem = divmod(num, base)
        digits.append(alphabet[rem])
    return alphabet[0] * zeros + "".join(reversed(digits))


@functools.cache
def _digit_values(alphabet: str) -> dict[str, int]:
    return {ch: index for index, ch in enumerate(alphabet)}


def _bignum_decode(text: str, alphabet: str) -> bytes:
    # hot for base58btc (every proofValue and Multikey): one dict lookup per character
    if len(text) > MAX_BIGNUM_CHARS:
        raise MalformedValueError(f"encoded value longer than {MAX_BIGNUM_CHARS} characters")
    base = len(alphabet)
    values = _digit_values(alphabet)
    zeros = len(text) - len(text.lstrip(alphabet[0]))
    num = 0
    try:
        for ch in text[zeros:]:
            num = num * base + values[ch]
    except KeyError as exc:
        raise MalformedValueError(f"invalid character {exc.args[0]!r} for this base") from None
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def _b36_decode(text: str) -> bytes:
    # Base36.md: case-insensitive
    return _bignum_decode(text.lower(), _B36)


def b58encode(data: bytes) -> str:
    """Base58 (bitcoin alphabet) without multibase prefix; leading zero bytes become ``1``."""
    return _bignum_encode(bytes(data), B58_BTC)


def b58decode(text: str) -> bytes:
    """Decode base58 (bitcoin alphabet) without multibase prefix; bad characters raise MalformedValueError."""
    if not isinstance(text, str):
        raise MalformedValueError("base58 input must be a string")
    return _bignum_decode(text, B58_BTC)


# --- RFC 4648 family ----------------------------------------------------------------------------------------

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_B64_RE = re.compile(r"[A-Za-z0-9+/]*")
_B32_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_Z = "ybndrfg8ejkmcpqxot1uwisza345h769"
_Z_TO_STD = str.maketrans(_B32_Z, _B32_STD.lower())
_STD_TO_Z = str.maketrans(_B32_STD, _B32_Z)


def base64url_encode(data: bytes) -> str:
    """RFC 4648 §5 base64url without padding (the JOSE / JWK form)."""
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def base64url_decode(text: str) -> bytes:
    """Strict RFC 4648 §5 base64url without padding.

    Padding, characters outside ``A-Z a-z 0-9 - _``, an impossible length and non-zero trailing bits are
    refused, so the result re-encodes to exactly ``text``.
    """
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedValueError("invalid base64url (unpadded, URL-safe alphabet only)")
    raw = _b64_checked(text.replace("-", "+").replace("_", "/"))
    if base64url_encode(raw) != text:
        raise MalformedValueError("non-canonical base64url (non-zero trailing bits)")
    return raw


def _b64_checked(std: str) -> bytes:
    try:
        return base64.b64decode(std + "=" * (-len(std) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedValueError("invalid base64") from None


def _pad_split(text: str, block: int, padded: bool) -> str:
    # RFC 4648 §3.2: padded variants carry exactly the "=" that fill the last quantum; unpadded ones none.
    body = text.rstrip("=")
    if not padded:
        if body != text:
            raise MalformedValueError("padding is not allowed in this base")
        return body
    if len(text) % block or len(text) - len(body) >= block:
        raise MalformedValueError("missing or wrong padding")
    return body


def _b64_encode(data: bytes, url: bool, padded: bool) -> str:
    out = (base64.urlsafe_b64encode(data) if url else base64.b64encode(data)).decode("ascii")
    return out if padded else out.rstrip("=")


def _b64_decode(text: str, url: bool, padded: bool) -> bytes:
    body = _pad_split(text, 4, padded)
    if not (_B64URL_RE if url else _B64_RE).fullmatch(body) or len(body) % 4 == 1:
        raise MalformedValueError("invalid character or length for base64")
    raw = _b64_checked(body.replace("-", "+").replace("_", "/") if url else body)
    if _b64_encode(raw, url, padded) != text:
        raise MalformedValueError("non-canonical base64 (non-zero trailing bits)")
    return raw


def _b32_encode(data: bytes, hexalpha: bool, padded: bool, upper: bool) -> str:
    out = (base64.b32hexencode(data) if hexalpha else base64.b32encode(data)).decode("ascii")
    out = out if padded else out.rstrip("=")
    return out if upper else out.lower()


def _b32_decode(text: str, hexalpha: bool, padded: bool) -> bytes:
    # base32 is case-insensitive (multibase Base32CaseCheck): fold to upper case before the strict checks
    folded = text.upper()
    body = _pad_split(folded, 8, padded)
    if len(body) % 8 in (1, 3, 6):
        raise MalformedValueError("impossible base32 length")
    try:
        full = body + "=" * (-len(body) % 8)
        raw = base64.b32hexdecode(full) if hexalpha else base64.b32decode(full)
    except (binascii.Error, ValueError):
        raise MalformedValueError("invalid base32") from None
    if _b32_encode(raw, hexalpha, padded, True) != folded:
        raise MalformedValueError("non-canonical base32 (non-zero trailing bits)")
    return raw


def _b32z_encode(data: bytes) -> str:
    return _b32_encode(data, False, False, True).translate(_STD_TO_Z)


def _b32z_decode(text: str) -> bytes:
    if any(ch not in _B32_Z for ch in text):
        raise MalformedValueError("invalid character for z-base-32")
    return _b32_decode(text.translate(_Z_TO_STD), False, False)


def _b16_decode(text: str) -> bytes:
    if len(text) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", text):
        raise MalformedValueError("invalid base16")
    return bytes.fromhex(text)


# --- bit-group encodings without a stdlib codec (base2, base8) ----------------------------------------------

def _bits_encode(data: bytes, bits: int) -> str:
    # Base2.md / Base8.md: big-endian groups of `bits` bits, last group zero-filled, no padding.
    total = len(data) * 8
    nchars = -(-total // bits)
    num = int.from_bytes(data, "big") << (nchars * bits - total)
    return format(num, "b" if bits == 1 else "o").zfill(nchars) if nchars else ""


def _bits_decode(text: str, bits: int) -> bytes:
    digits = "01" if bits == 1 else "01234567"
    if any(ch not in digits for ch in text):
        raise MalformedValueError("invalid digit")
    nbytes = len(text) * bits // 8
    if -(-nbytes * 8 // bits) != len(text):
        raise MalformedValueError("impossible length")  # a whole extra character carries no byte
    extra = len(text) * bits - nbytes * 8
    num = int(text, 2 if bits == 1 else 8) if text else 0
    if num & ((1 << extra) - 1):
        raise MalformedValueError("non-zero trailing bits")
    return (num >> extra).to_bytes(nbytes, "big")


# --- base45 (RFC 9285) --------------------------------------------------------------------------------------

_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _b45_encode(data: bytes) -> str:
    # RFC 9285 §4.2: each 2 bytes -> n = a*256+b -> c + d*45 + e*45^2 written c d e; a last byte -> 2 chars
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [_B45[n % 45], _B45[n // 45 % 45], _B45[n // 2025]]
    if len(data) % 2:
        out += [_B45[data[-1] % 45], _B45[data[-1] // 45]]
    return "".join(out)


def _b45_decode(text: str) -> bytes:
    # RFC 9285 §4.4: a triple above 65535, a pair above 255 or a lone trailing character is an error
    if len(text) % 3 == 1 or any(ch not in _B45 for ch in text):
        raise MalformedValueError("invalid base45")
    out = bytearray()
    for i in range(0, len(text), 3):
        group = [_B45.index(ch) for ch in text[i:i + 3]]
        n = sum(v * 45 ** k for k, v in enumerate(group))
        if n > (0xFFFF if len(group) == 3 else 0xFF):
            raise MalformedValueError("base45 group out of range")
        out += n.to_bytes(len(group) - 1, "big")
    return bytes(out)


# --- proquint (arXiv 0901.4016; multibase prefix "p" + "ro-") ----------------------------------------------

_PQ_CON = "bdfghjklmnprstvz"
_PQ_VOW = "aiou"


def _proquint_encode(data: bytes) -> str:
    # Each 16-bit word -> con(4) vo(2) con(4) vo(2) con(4); words joined with "-". Odd lengths are undefined.
    if len(data) % 2:
        raise MalformedValueError("proquint encodes whole 16-bit words only")
    words = []
    for i in range(0, len(data), 2):
        n = data[i] << 8 | data[i + 1]
        words.append(_PQ_CON[n >> 12] + _PQ_VOW[n >> 10 & 3] + _PQ_CON[n >> 6 & 15]
                     + _PQ_VOW[n >> 4 & 3] + _PQ_CON[n & 15])
    return "ro-" + "-".join(words)


def _proquint_decode(text: str) -> bytes:
    if not text.startswith("ro-"):
        raise MalformedValueError("proquint multibase must start with 'pro-'")
    out = bytearray()
    for word in text[3:].split("-") if len(text) > 3 else []:
        if not re.fullmatch(f"[{_PQ_CON}][{_PQ_VOW}][{_PQ_CON}][{_PQ_VOW}][{_PQ_CON}]", word):
            raise MalformedValueError(f"invalid proquint word {word!r}")
        n = (_PQ_CON.index(word[0]) << 12 | _PQ_VOW.index(word[1]) << 10 | _PQ_CON.index(word[2]) << 6
             | _PQ_VOW.index(word[3]) << 4 | _PQ_CON.index(word[4]))
        out += n.to_bytes(2, "big")
    return bytes(out)


# --- base256emoji (multibase rfcs/Base256Emoji.md) ---------------------------------------------------------

_EMOJI = (
    "🚀🪐☄🛰🌌🌑🌒🌓🌔🌕🌖🌗🌘🌍🌏🌎🐉☀💻🖥💾💿😂❤😍🤣😊🙏💕😭😘👍"
    "😅👏😁🔥🥰💔💖💙😢🤔😆🙄💪😉☺👌🤗💜😔😎😇🌹🤦🎉💞✌✨🤷😱😌🌸🙌"
    "😋💗💚😏💛🙂💓🤩😄😀🖤😃💯🙈👇🎶😒🤭❣😜💋👀😪😑💥🙋😞😩😡🤪👊🥳"
    "😥🤤👉💃😳✋😚😝😴🌟😬🙃🍀🌷😻😓⭐✅🥺🌈😈🤘💦✔😣🏃💐☹🎊💘😠☝"
    "😕🌺🎂🌻😐🖕💝🙊😹🗣💫💀👑🎵🤞😛🔴😤🌼😫⚽🤙☕🏆🤫👈😮🙆🍻🍃🐶💁"
    "😲🌿🧡🎁⚡🌞🎈❌✊👋😰🤨😶🤝🚶💰🍓💢🤟🙁🚨💨🤬✈🎀🍺🤓😙💟🌱😖👶"
    "🥴▶➡❓💎💸⬇😨🌚🦋😷🕺⚠🙅😟😵👎🤲🤠🤧📌🔵💅🧐🐾🍒😗🤑🌊🤯🐷☎"
    "💧😯💆👆🎤🙇🍑❄🌴💣🐸💌📍🥀🤢👅💡💩👐📸👻🤐🤮🎼🥵🚩🍎🍊👼💍📣🥂"
)
_EMOJI_INDEX = {ch: i for i, ch in enumerate(_EMOJI)}


def _emoji_decode(text: str) -> bytes:
    try:
        return bytes(_EMOJI_INDEX[ch] for ch in text)
    except KeyError:
        raise MalformedValueError("invalid base256emoji character") from None


# --- the multibase table ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Base:
    prefix: str
    encode: Callable[[bytes], str]
    decode: Callable[[str], bytes]


def _b32_entry(prefix: str, hexalpha: bool, padded: bool, upper: bool) -> _Base:
    return _Base(prefix, lambda d: _b32_encode(d, hexalpha, padded, upper),
                 lambda t: _b32_decode(t, hexalpha, padded))


def _b64_entry(prefix: str, url: bool, padded: bool) -> _Base:
    return _Base(prefix, lambda d: _b64_encode(d, url, padded), lambda t: _b64_decode(t, url, padded))


#: Every supported multibase encoding, by its name in ``multibase.csv``.
_BASES: dict[str, _Base] = {
    "base2": _Base("0", lambda d: _bits_encode(d, 1), lambda t: _bits_decode(t, 1)),
    "base8": _Base("7", lambda d: _bits_encode(d, 3), lambda t: _bits_decode(t, 3)),
    "base10": _Base("9", lambda d: _bignum_encode(d, _B10), lambda t: _bignum_decode(t, _B10)),
    "base16": _Base("f", lambda d: d.hex(), _b16_decode),
    "base16upper": _Base("F", lambda d: d.hex().upper(), _b16_decode),
    "base32hex": _b32_entry("v", True, False, False),
    "base32hexupper": _b32_entry("V", True, False, True),
    "base32hexpad": _b32_entry("t", True, True, False),
    "base32hexpadupper": _b32_entry("T", True, True, True),
    "base32": _b32_entry("b", False, False, False),
    "base32upper": _b32_entry("B", False, False, True),
    "base32pad": _b32_entry("c", False, True, False),
    "base32padupper": _b32_entry("C", False, True, True),
    "base32z": _Base("h", _b32z_encode, _b32z_decode),
    "base36": _Base("k", lambda d: _bignum_encode(d, _B36), _b36_decode),
    "base36upper": _Base("K", lambda d: _bignum_encode(d, _B36).upper(), _b36_decode),
    "base45": _Base("R", _b45_encode, _b45_decode),
    "base58btc": _Base("z", b58encode, b58decode),
    "base58flickr": _Base("Z", lambda d: _bignum_encode(d, B58_FLICKR),
                          lambda t: _bignum_decode(t, B58_FLICKR)),
    "base64": _b64_entry("m", False, False),
    "base64pad": _b64_entry("M", False, True),
    "base64url": _b64_entry("u", True, False),
    "base64urlpad": _b64_entry("U", True, True),
    "proquint": _Base("p", _proquint_encode, _proquint_decode),
    "base256emoji": _Base("🚀", lambda d: "".join(_EMOJI[b] for b in d), _emoji_decode),
}
_BY_PREFIX: dict[str, str] = {base.prefix: name for name, base in _BASES.items()}

#: Names of the supported encodings.
BASE_NAMES: frozenset[str] = frozenset(_BASES)


def encode(data: bytes, base: str = "base58btc") -> str:
    """Multibase-encode ``data`` with the named encoding (default base58btc, prefix ``z``)."""
    entry = _BASES.get(base)
    if entry is None:
        raise MalformedValueError(f"unsupported multibase encoding {base!r}")
    return entry.prefix + entry.encode(bytes(data))


def decode_with_base(text: str) -> tuple[str, bytes]:
    """Decode a multibase string; return ``(encoding name, bytes)``."""
    if not isinstance(text, str) or not text:
        raise MalformedValueError("a multibase value must be a non-empty string")
    name = _BY_PREFIX.get(text[0])
    if name is None:
        raise MalformedValueError(f"unknown multibase prefix {text[0]!r}")
    return name, _BASES[name].decode(text[1:])


def decode(text: str) -> bytes:
    """Decode a multibase string, whatever its (supported) encoding."""
    return decode_with_base(text)[1]
