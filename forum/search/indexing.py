"""Keeping the search index in step with the database, after each commit.

While a transaction runs, the session collects the ids of ideas whose search document may have
changed (the idea itself, its comments and tags, or the slug of its board, status or a tag).
Votes change no document: counts are not in the index (see ``IdeaDocument``), so a vote costs
no index write. After the commit, those ideas are read back from the database in a session of
their own and sent to the backend; nothing is written to the index inside the request's
transaction, so a rollback never leaves a phantom in the index. If the index cannot be updated,
the write stands: the failure is logged, ``flask forum check`` reports the drift and
``flask forum reindex`` repairs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, Select, event, inspect, select
from sqlalchemy.orm import Session

from forum.dbtuning import read_only_engine
from forum.extensions import db
from forum.ideas.models import Board, Comment, Idea, Status, Tag, Vote, idea_tags
from forum.search import service
from forum.search.analysis import guess_language
from forum.search.base import IdeaDocument, fingerprint

log = logging.getLogger(__name__)

PENDING_KEY = "forum.search.pending"
BATCH_SIZE = 500
REINDEX_BATCH_SIZE = 2000

_installed = False


@dataclass
class Pending:
    """What one transaction may have changed in the index."""

    ideas: set[int] = field(default_factory=set)
    boards: set[int] = field(default_factory=set)
    statuses: set[int] = field(default_factory=set)
    tags: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.ideas or self.boards or self.statuses or self.tags)


def install() -> None:
    """Listen to every session once per process (apps are told apart at commit time)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "after_commit", _after_commit)
    _installed = True


def _collect(session: Session, _flush_context) -> None:
    # after_flush: new objects have their ids, and new/dirty/deleted still describe the flush.
    pending: Pending = session.info.setdefault(PENDING_KEY, Pending())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Idea):
            if obj in session.dirty and not _document_changed(obj):
                continue  # counters, scores, activity times: nothing the index holds
            pending.ideas.add(obj.id)
        elif isinstance(obj, Comment):
            pending.ideas.add(obj.idea_id)
        elif isinstance(obj, Vote):
            continue
        elif obj in session.new:
            continue  # a new board, status or tag has no ideas yet
        elif isinstance(obj, Board):
            pending.boards.add(obj.id)
        elif isinstance(obj, Status):
            pending.statuses.add(obj.id)
        elif isinstance(obj, Tag):
            pending.tags.add(obj.id)


# The columns and relations of an idea that its search document is made of (see ``document``).
_DOCUMENT_ATTRIBUTES = ("title", "body", "board_id", "status_id", "created_at",
                        "merged_into_id", "hidden_at", "tags")


def _document_changed(idea: Idea) -> bool:
    # after_flush still sees the flush's attribute history.
    attrs = inspect(idea).attrs
    return any(attrs[name].history.has_changes() for name in _DOCUMENT_ATTRIBUTES)


def _reader() -> Session:
    return Session(read_only_engine(db.engine))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the real commit comes later
    # A rolled-back transaction leaves its ids behind; indexing them later is harmless (the
    # documents are read from the database), so rollbacks need no bookkeeping.
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    try:
        apply(pending)
    except Exception:
        # The user's write is committed and must stand; the index is repaired by reindex.
        current_app.logger.exception(
            "Could not update the search index after a commit; `flask forum check` will "
            "report the drift and `flask forum reindex` repairs it.")


def apply(pending: Pending) -> None:
    """Index (or remove) the ideas a committed transaction touched."""
    # The session that committed cannot run SQL in after_commit; read in sessions of our own.
    with _reader() as reader:
        ids = set(pending.ideas)
        ids.update(_ideas_of(reader, pending))
        ids.discard(None)  # type: ignore[arg-type]

    def load(wanted: list[int]) -> list[IdeaDocument]:
        with _reader() as reader:
            return list(documents(reader, wanted))

    service.backend().refresh(ids, load)


def _ideas_of(reader: Session, pending: Pending) -> set[int]:
    ids: set[int] = set()
    if pending.boards:
        ids.update(reader.scalars(select(Idea.id).where(Idea.board_id.in_(pending.boards))))
    if pending.statuses:
        ids.update(reader.scalars(select(Idea.id).where(Idea.status_id.in_(pending.statuses))))
    if pending.tags:
        ids.update(reader.scalars(select(idea_tags.c.idea_id)
                                  .where(idea_tags.c.tag_id.in_(pending.tags))))
    return ids


# --- documents -----------------------------------------------------------------------------

def indexed_ideas() -> Select:
    """Which ideas belong in the index: all but hidden ones (merged ones too, flagged)."""
    return select(Idea.id).where(Idea.hidden_at.is_(None)).order_by(Idea.id)


def documents(session: Session, ids: Iterable[int]) -> Iterator[IdeaDocument]:
    """Search documents of these ideas (hidden or deleted ones yield nothing), in batches."""
    wanted = list(ids)
    for start in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[start:start + BATCH_SIZE]
        yield from _load(session, Idea.id.in_(chunk), Comment.idea_id.in_(chunk),
                         idea_tags.c.idea_id.in_(chunk))


def _load(session: Session, ideas: ColumnElement[bool], comments_of: ColumnElement[bool],
          tags_of: ColumnElement[bool]) -> Iterator[IdeaDocument]:
    """Documents of the ideas ``ideas`` selects, in id order: three set-based queries of plain
    columns. Loading ORM objects (with their boards, statuses and tags) cost more than a tenth
    of a reindex; the text is the same as :func:`document` makes of an ``Idea``."""
    tags: dict[int, list[str]] = {}
    for idea_id, slug in session.execute(
        select(idea_tags.c.idea_id, Tag.slug).join(Tag, Tag.id == idea_tags.c.tag_id)
        .where(tags_of)
        .order_by(idea_tags.c.idea_id, Tag.name)  # the order of ``Idea.tags``
    ):
        tags.setdefault(idea_id, []).append(slug)
    comments: dict[int, list[str]] = {}
    for idea_id, body in session.execute(
        select(Comment.idea_id, Comment.body)
        .where(comments_of, Comment.is_internal.is_(False), Comment.hidden_at.is_(None))
        .order_by(Comment.idea_id, Comment.created_at, Comment.id)
    ):
        comments.setdefault(idea_id, []).append(body)
    rows = session.execute(
        select(Idea.id, Idea.title, Idea.body, Idea.created_at, Idea.merged_into_id,
               Board.slug, Status.slug)
        .join(Board, Board.id == Idea.board_id).join(Status, Status.id == Idea.status_id)
        .where(ideas, Idea.hidden_at.is_(None)).order_by(Idea.id)
    )
    for idea_id, title, body, created_at, merged_into_id, board, status in rows:
        yield _document(idea_id, title, body, comments.get(idea_id, ()), tags.get(idea_id, ()),
                        board, status, created_at, merged_into_id)


def document(idea: Idea, comments: Iterable[str] = ()) -> IdeaDocument:
    """The document of a loaded ``Idea`` (what :func:`_load` makes from plain columns)."""
    return _document(idea.id, idea.title, idea.body, comments, [t.slug for t in idea.tags],
                     idea.board.slug, idea.status.slug, idea.created_at, idea.merged_into_id)


def _document(idea_id: int, title: str, body: str | None, comments: Iterable[str],
              tags: Iterable[str], board: str, status: str, created_at: datetime,
              merged_into: int | None) -> IdeaDocument:
    body = body or ""
    return IdeaDocument(
        id=idea_id, title=title, body=body, comments="\n\n".join(comments), tags=tuple(tags),
        board=board, status=status, created_at=created_at, merged_into=merged_into,
        # Ideas carry no language of their own; their words tell which stemmer fits.
        language=guess_language(f"{title}\n{body}"))


# --- rebuilding and checking ---------------------------------------------------------------

def _all_documents(session: Session, ids: list[int]) -> Iterator[list[IdeaDocument]]:
    """Documents of the ideas ``ids`` (sorted), in batches of consecutive ids."""
    for start in range(0, len(ids), REINDEX_BATCH_SIZE):
        low, high = ids[start], ids[min(start + REINDEX_BATCH_SIZE, len(ids)) - 1]
        # A range of ids, not a list of them: the database walks its primary key once.
        yield list(_load(session, Idea.id.between(low, high),
                         Comment.idea_id.between(low, high),
                         idea_tags.c.idea_id.between(low, high)))


def reindex(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; returns the number of ideas indexed."""
    total = 0
    with _reader() as reader:
        ids = list(reader.scalars(indexed_ideas()))

        def batches() -> Iterator[list[IdeaDocument]]:
            nonlocal total
            for batch in _all_documents(reader, ids):
                yield batch
                total += len(batch)
                if progress is not None:
                    progress(len(batch))

        service.backend().rebuild(batches())
    return total


def count_indexable() -> int:
    with _reader() as reader:
        return len(reader.scalars(indexed_ideas()).all())


@dataclass
class Drift:
    missing: list[int]
    stale: list[int]
    extra: list[int]

    def __bool__(self) -> bool:
        return bool(self.missing or self.stale or self.extra)


def drift() -> Drift:
    """Compare the index with what the database says it should hold."""
    with _reader() as reader:
        ids = list(reader.scalars(indexed_ideas()))
        expected = {doc.id: fingerprint(doc)
                    for batch in _all_documents(reader, ids) for doc in batch}
    stored = service.backend().stored_versions()
    return Drift(
        missing=sorted(set(expected) - set(stored)),
        stale=sorted(i for i in expected if i in stored and stored[i] != expected[i]),
        extra=sorted(set(stored) - set(expected)),
    )


def repair(found: Drift) -> None:
    """Index what is missing or stale, drop what should not be there."""
    with _reader() as reader:
        docs = list(documents(reader, [*found.missing, *found.stale]))
    backend = service.backend()
    backend.index(docs)
    backend.remove(found.extra)
