"""The compact id -> fingerprint map the search backends keep of their duplicate ranker."""

from __future__ import annotations

import hashlib

from forum.search import versions
from forum.search.versions import Fingerprints, FingerprintsBuilder


def fp(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def test_built_map_answers_like_a_dict(monkeypatch) -> None:
    monkeypatch.setattr(versions, "_RECENT_KEPT", 3)  # fold the changes into the arrays often
    builder = FingerprintsBuilder()
    expected = {i: fp(f"idea {i}") for i in (9, 2, 5, 7, 1)}
    for idea_id, digest in expected.items():
        builder.add(idea_id, digest)
    found = builder.build()
    assert {i: found.get(i) for i in range(12)} == {i: expected.get(i) for i in range(12)}
    for step in range(20):
        changed = {(step * 7) % 11: fp(f"v{step}"), step % 5: fp(f"w{step}")}
        found.update(changed.items())
        expected.update(changed)
        gone = [(step * 3) % 13, 100]
        found.discard(gone)
        for idea_id in gone:
            expected.pop(idea_id, None)
        assert {i: found.get(i) for i in range(14)} == {i: expected.get(i) for i in range(14)}
    assert found.ids().tolist() == sorted(expected)
    found.clear()
    assert (found.get(1), found.ids().tolist()) == (None, [])
    assert FingerprintsBuilder().build().ids().tolist() == []
    assert Fingerprints().get(3) is None
