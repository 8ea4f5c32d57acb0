"""Where the evidence log keeps its tree: C2SP tlog-tiles-like hash tiles and per-entry integration times.

Tiles (c2sp.org/tlog-tiles §Merkle Tree): a tile of level ``L`` and index ``N`` holds up to 256 consecutive
hashes of tree level ``8 * L``, i.e. of the complete subtrees of ``256**L`` leaves numbered ``256 * N`` to
``256 * N + 255`` (level 0: the leaf hashes). Each tile is one store record ``"L/N"`` in :data:`NS_TILE` whose
value is the concatenated 32-byte hashes; a *partial* tile (fewer than 256 hashes, at the right edge of the tree)
is rewritten as it fills. Any complete aligned subtree ``[start, start + 2**level)`` is then ``2**(level % 8)``
consecutive hashes of one tile, so a proof in a tree of 100 million leaves reads at most a handful of tiles per
tile level (4 levels) and recomputes at most 127 interior hashes per subtree: nothing grows with the tree.

Why tiles rather than one record per interior node: 256 hashes per record divide the records (and store round
trips) of an integration by 256, a batch of appends rewrites each touched tile once, and tiles of complete
subtrees never change, so readers may cache them.

Every tile and time record only ever *grows*: a writer reads the record, checks that what it computed agrees
with what is already there, and extends it by compare-and-set. Tile content is a pure function of the entry log
(deterministic), so two integrators racing (a crashed lock holder's successor, a stalled process) or a retry
after a crash write identical bytes, and a record can never shrink under a reader.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from chopmark import tlog
from chopmark.errors import ServiceError
from chopmark.store import Store

NS_TILE = "tlog-tile"
NS_TIME = "tlog-time"
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
HASH = tlog.HASH_SIZE
TIME = 8  # integration time of one entry: milliseconds since the epoch, unsigned big-endian
_CACHE_TILES = 4096  # full tiles kept in memory per process (8 KiB each: 32 MiB at most)
_CAS_TRIES = 16


class LogCorrupted(ServiceError):
    """The stored tree disagrees with itself (a tile shorter than its checkpoint or contradicting a
    recomputation): the store lost or altered data. Never caused by a request."""

    code = "LOG_CORRUPTED"
    title = "Evidence log storage is inconsistent"
    status = 500


def tile_key(level: int, index: int) -> str:
    """The record key of tile ``index`` of tile level ``level``."""
    return f"{level}/{index}"


def extend_record(store: Store, ns: str, key: str, offset: int, data: bytes, what: str) -> None:
    """Make record ``(ns, key)`` hold ``data`` at byte ``offset``, growing it by compare-and-set.

    The record must already hold exactly the bytes before ``offset`` (it never has holes); bytes it already
    holds beyond ``offset`` must equal ``data`` (records only grow, and every writer computes the same bytes).
    Raises :class:`LogCorrupted` when either does not hold."""
    for _ in range(_CAS_TRIES):
        current = store.get(ns, key)
        held = current or b""
        if len(held) < offset:
            raise LogCorrupted(f"{what} {key} holds {len(held)} bytes, {offset} were expected before new data")
        overlap = held[offset:offset + len(data)]
        if overlap != data[:len(overlap)]:
            raise LogCorrupted(f"{what} {key} contradicts the recomputed content at byte {offset}")
        if len(held) >= offset + len(data):
            return
        if store.compare_and_set(ns, key, current, held[:offset] + data):
            return
    raise LogCorrupted(f"{what} {key} kept changing under {_CAS_TRIES} attempts to extend it")


class TileWriter:
    """Collects the tile hashes an append creates (``on_node`` of :func:`chopmark.tlog.frontier_extend`) and
    writes each touched tile once."""

    def __init__(self) -> None:
        self._tiles: dict[tuple[int, int], tuple[int, list[bytes]]] = {}

    def on_node(self, start: int, level: int, digest: bytes) -> None:
        """Keep the hashes of tree levels 0, 8, 16, ... (the tile levels); the others live only in tiles."""
        if level % TILE_HEIGHT:
            return
        position = start >> level
        where = (level // TILE_HEIGHT, position >> TILE_HEIGHT)
        offset = position & (TILE_WIDTH - 1)
        pending = self._tiles.get(where)
        if pending is None:
            self._tiles[where] = (offset, [digest])
        else:
            if pending[0] + len(pending[1]) != offset:
                raise LogCorrupted(f"tile {tile_key(*where)}: hashes out of order")
            pending[1].append(digest)

    def write(self, store: Store) -> int:
        """Write every touched tile (level 0 first); returns how many."""
        for (level, index), (offset, hashes) in sorted(self._tiles.items()):
            extend_record(store, NS_TILE, tile_key(level, index), offset * HASH, b"".join(hashes), "tile")
        return len(self._tiles)


class Tiles:
    """Reads the tree from its tiles: :meth:`reader` gives a :data:`chopmark.tlog.SubtreeHashes` for one proof."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._full: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def tile(self, level: int, index: int) -> bytes:
        """The stored hashes of a tile (empty when absent). Full tiles never change and are cached."""
        key = tile_key(level, index)
        with self._lock:
            cached = self._full.get(key)
            if cached is not None:
                self._full.move_to_end(key)
                return cached
        data = self._store.get(NS_TILE, key) or b""
        if len(data) == TILE_WIDTH * HASH:
            with self._lock:
                self._full[key] = data
                if len(self._full) > _CACHE_TILES:
                    self._full.popitem(last=False)
        return data

    def reader(self) -> Callable[[int, int], bytes]:
        """``subtree(start, level)`` over the tiles, each tile read at most once per reader."""
        read: dict[tuple[int, int], bytes] = {}

        def subtree(start: int, level: int) -> bytes:
            tile_level, height = divmod(level, TILE_HEIGHT)
            position = start >> (tile_level * TILE_HEIGHT)
            where = (tile_level, position >> TILE_HEIGHT)
            data = read.get(where)
            if data is None:
                data = read[where] = self.tile(*where)
            offset, count = (position & (TILE_WIDTH - 1)) * HASH, (1 << height) * HASH
            chunk = data[offset:offset + count]
            if len(chunk) != count:
                raise LogCorrupted(f"tile {tile_key(*where)} lacks the hashes of leaves from {start}")
            if height == 0:
                return chunk
            # the subtree is a complete tree over 2**height consecutive tile hashes (RFC 9162 §2.1.1 MTH)
            return tlog.root([chunk[i:i + HASH] for i in range(0, count, HASH)])

        return subtree


def time_key(entry: int) -> str:
    """The key of the time record holding ``entry`` (one record per level-0 tile)."""
    return str(entry >> TILE_HEIGHT)


def write_times(store: Store, start: int, end: int, millis: int) -> None:
    """Record ``millis`` as the integration time of entries ``[start, end)`` (records grow, see module doc)."""
    stamp = millis.to_bytes(TIME, "big")
    position = start
    while position < end:
        stop = min(end, (position | (TILE_WIDTH - 1)) + 1)
        offset = (position & (TILE_WIDTH - 1)) * TIME
        extend_record(store, NS_TIME, time_key(position), offset, stamp * (stop - position), "time record")
        position = stop


def read_time(store: Store, entry: int) -> int | None:
    """The integration time (ms) recorded for ``entry``, or None when not (yet) recorded."""
    data = store.get(NS_TIME, time_key(entry)) or b""
    offset = (entry & (TILE_WIDTH - 1)) * TIME
    chunk = data[offset:offset + TIME]
    return int.from_bytes(chunk, "big") if len(chunk) == TIME else None
