"""Full-text search and duplicate suggestions for ideas, independent of Flask and the models.

The app converts ideas to :class:`IdeaDocument`, keeps the index in step through
:class:`SearchBackend` (``index``/``remove``), and detects drift by comparing
:meth:`SearchBackend.stored_versions` with :func:`fingerprint` of its rows.
"""

from forum.search.base import (
    SORTS,
    IdeaDocument,
    SearchBackend,
    SearchHit,
    SearchPage,
    fingerprint,
)
from forum.search.duplicates import DuplicateRanker, RankerWeights
from forum.search.whoosh_backend import WhooshBackend

__all__ = [
    "SORTS",
    "DuplicateRanker",
    "IdeaDocument",
    "RankerWeights",
    "SearchBackend",
    "SearchHit",
    "SearchPage",
    "WhooshBackend",
    "fingerprint",
]
