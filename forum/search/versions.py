"""Which version (fingerprint) of each idea a backend's duplicate ranker holds.

A backend compares these with the fingerprints its index stores to find the ideas another
process changed. As a dict of 100,000 hex strings they took about 16 MB in every worker; here
they are two arrays (24 bytes an idea), plus a dict of the changes since the arrays were built.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_DIGEST = 16  # bytes of a fingerprint (base.fingerprint: a 16-byte BLAKE2b, in hex)
# Changes kept in the dict before they are folded into the arrays (a copy of both).
_RECENT_KEPT = 4096


class Fingerprints:
    """A mapping of idea id to fingerprint, compact. Not thread-safe: the backends use it
    under their ranker lock."""

    def __init__(self, ids: np.ndarray | None = None, digests: np.ndarray | None = None) -> None:
        """``ids`` (distinct) and their ``digests`` (raw bytes, ``len(ids) x 16``), any order."""
        self._recent: dict[int, str | None] = {}  # None: removed
        self._store(np.zeros(0, np.int64) if ids is None else ids,
                    np.zeros((0, _DIGEST), np.uint8) if digests is None else digests)

    def get(self, idea_id: int) -> str | None:
        if idea_id in self._recent:
            return self._recent[idea_id]
        at = int(np.searchsorted(self._ids, idea_id))
        if at < len(self._ids) and int(self._ids[at]) == idea_id:
            return self._digests[at].tobytes().hex()
        return None

    def update(self, pairs: Iterable[tuple[int, str]]) -> None:
        self._recent.update(pairs)
        if len(self._recent) > _RECENT_KEPT:
            self._fold()

    def discard(self, ids: Iterable[int]) -> None:
        self.update((idea_id, None) for idea_id in ids)  # type: ignore[misc]

    def clear(self) -> None:
        self._recent = {}
        self._store(np.zeros(0, np.int64), np.zeros((0, _DIGEST), np.uint8))

    def ids(self) -> np.ndarray:
        """Every id held, sorted."""
        self._fold()
        return self._ids

    def _fold(self) -> None:
        if not self._recent:
            return
        changed = np.fromiter(self._recent, np.int64, len(self._recent))
        kept = ~np.isin(self._ids, changed)
        added = [(i, d) for i, d in self._recent.items() if d is not None]
        self._recent = {}
        self._store(np.concatenate((self._ids[kept], np.fromiter((i for i, _ in added),
                                                                 np.int64, len(added)))),
                    np.concatenate((self._digests[kept], _digests(d for _, d in added))))

    def _store(self, ids: np.ndarray, digests: np.ndarray) -> None:
        order = np.argsort(ids, kind="stable")
        self._ids = np.asarray(ids, np.int64)[order]
        self._digests = digests.reshape(-1, _DIGEST)[order]


class FingerprintsBuilder:
    """Collects (id, fingerprint) pairs without an object per pair, for a whole index."""

    def __init__(self) -> None:
        self._ids: list[np.ndarray] = []
        self._pending_ids: list[int] = []
        self._pending_digests = bytearray()
        self._digests: list[np.ndarray] = []

    def add(self, idea_id: int, fingerprint: str) -> None:
        self._pending_ids.append(idea_id)
        self._pending_digests += bytes.fromhex(fingerprint)
        if len(self._pending_ids) >= _RECENT_KEPT:
            self._flush()

    def build(self) -> Fingerprints:
        self._flush()
        return Fingerprints(np.concatenate([np.zeros(0, np.int64), *self._ids]),
                            np.concatenate([np.zeros((0, _DIGEST), np.uint8), *self._digests]))

    def _flush(self) -> None:
        self._ids.append(np.array(self._pending_ids, np.int64))
        self._digests.append(np.frombuffer(bytes(self._pending_digests), np.uint8)
                             .reshape(-1, _DIGEST))
        self._pending_ids = []
        self._pending_digests = bytearray()


def _digests(fingerprints: Iterable[str | None]) -> np.ndarray:
    raw = b"".join(bytes.fromhex(f) for f in fingerprints if f is not None)
    return np.frombuffer(raw, np.uint8).reshape(-1, _DIGEST)
