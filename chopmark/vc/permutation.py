"""A keyed pseudo-random permutation of ``[0, size)``, used to allocate status list indexes at random without
ever reusing one (Bitstring Status List 1.0 §2.1 statusListIndex, §6.5 herd privacy)."""

from __future__ import annotations

import hmac
import struct

from chopmark.errors import StatusRangeError, UsageError

MIN_ENTRIES = 131072


def _int_in(value: object, low: int, high: int) -> bool:
    # JSON integers only (bool is an int subclass in Python), within [low, high)
    return type(value) is int and low <= value < high


class IndexPermutation:
    """A keyed pseudo-random permutation of ``[0, size)``: allocation ``n`` -> status index ``index(n)``.

    §2.1 (statusListIndex) says indexes SHOULD be assigned randomly and §6.5 advises random allocation; with this
    permutation an atomic counter ``n = 0, 1, 2, ...`` yields indexes that look random and never repeat. It is a
    balanced Feistel network over the smallest even bit width covering ``size`` with HMAC-SHA256 round functions
    (10 rounds, as FF1 of NIST SP 800-38G uses), restricted to ``[0, size)`` by cycle-walking.
    """

    ROUNDS = 10
    _TABLE_MAX_HALF_BITS = 12  # precompute the round functions when each has at most 4096 inputs

    def __init__(self, key: bytes, size: int = MIN_ENTRIES) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < 16:
            raise UsageError("the permutation key must be at least 16 bytes of secret randomness")
        if not _int_in(size, 1, (1 << 64) + 1):
            raise UsageError("size must be an integer in [1, 2^64]")
        self.size = size
        self._key = bytes(key)
        bits = max(2, (size - 1).bit_length())
        self._half = (bits + 1) // 2
        self._mask = (1 << self._half) - 1
        self._tables: list[list[int]] | None = None
        if self._half <= self._TABLE_MAX_HALF_BITS:
            self._tables = [[self._round(r, x) for x in range(1 << self._half)] for r in range(self.ROUNDS)]

    def _round(self, r: int, x: int) -> int:
        # round function F_r(x): domain-separated by round number and half width (so by the permutation size)
        message = struct.pack(">BBQ", r, self._half, x)
        return int.from_bytes(hmac.digest(self._key, message, "sha256")[:8], "big") & self._mask

    def _feistel(self, x: int) -> int:
        left, right = x >> self._half, x & self._mask
        for r in range(self.ROUNDS):
            f = self._tables[r][right] if self._tables is not None else self._round(r, right)
            left, right = right, left ^ f
        return (left << self._half) | right

    def index(self, n: int) -> int:
        """The status index of allocation ``n`` (0 <= n < size); :class:`StatusRangeError` when the list is full."""
        if not _int_in(n, 0, self.size):
            raise StatusRangeError(f"allocation {n} is outside [0, {self.size}): the list is full",
                                   code="STATUS_LIST_FULL")
        y = self._feistel(n)
        while y >= self.size:  # cycle-walking: the cycle through n < size returns below size
            y = self._feistel(y)
        return y
